//! The page's side: the Leptos components, the client that talks to the worker, and the player.

pub mod advanced;
pub mod app;
pub mod canvas;
pub mod client;
pub mod download_progress;
pub mod field;
pub mod memory;
pub mod model_picker;
pub mod panic_hook;
pub mod player;
pub mod progress;
pub mod settings;
pub mod suggestions;

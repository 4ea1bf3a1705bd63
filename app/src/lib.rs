//! The FreeNoise page: a Leptos front end (`main.rs`) and a Web Worker (`bin/worker.rs`) that
//! runs the engine, talking through the typed messages in [`protocol`].

pub mod canvas;
pub mod client;
pub mod components;
pub mod compute;
pub mod download;
pub mod hub;
pub mod opfs;
pub mod panic_hook;
pub mod player;
pub mod protocol;
pub mod storage_lock;
pub mod stored;
pub mod worker;

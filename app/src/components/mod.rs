pub mod advanced;
pub mod app;
pub mod field;
pub mod progress;
pub mod settings;
pub mod suggestions;

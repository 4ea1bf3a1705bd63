pub mod advanced;
pub mod app;
pub mod download;
pub mod field;
pub mod model_picker;
pub mod progress;
pub mod settings;
pub mod suggestions;

//! The FreeNoise page, in two halves with one protocol between them:
//! - [`page`]: the Leptos front end (`main.rs`): components, the worker client, the player;
//! - [`worker`]: the Web Worker (`bin/worker.rs`) that runs the engine: dispatch, model
//!   loading and Hub downloads into browser storage, generation, memory estimates;
//! - [`protocol`]: the typed, versioned messages between them.

pub mod page;
pub mod protocol;
pub mod units;
pub mod worker;

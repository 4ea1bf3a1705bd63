//! The demo model (`public/models/demo`): a small AnimateDiff-style pipeline trained on a
//! procedural world of coloured shapes in motion. A project of its own beside the engine:
//! - always: its vocabulary ([`vocab`]) and its settings ([`settings`]), all the page needs;
//! - feature `world` (default): the data set that renders its clips ([`dataset`]), the clip
//!   analyser ([`analysis`]) and the semantic checks its card reports ([`semantics`]);
//! - feature `train`: training it with Burn's autodiff ([`train`]) and the `freenoise-demo`
//!   subcommands that train, evaluate, export and snapshot it (`demo/README.md`).

pub mod settings;
pub mod vocab;

#[cfg(feature = "world")]
pub mod analysis;
#[cfg(feature = "world")]
pub mod dataset;
#[cfg(all(feature = "world", not(target_arch = "wasm32")))]
pub mod semantics;
#[cfg(feature = "train")]
pub mod train;

//! Training the demo model (feature `train`): the engine's own modules under Burn's autodiff,
//! on the procedural data set, saved in the diffusers layout. See `Run` for the schedule.

mod average;
mod batch;
mod card;
mod decoder_stage;
mod denoise_stage;
mod evaluate;
mod export;
mod fork;
mod latent_pool;
mod model_dir;
mod parts;
mod recipe;
mod run;
mod snapshot;
mod vae_stage;

pub use average::average;
pub use card::write_card;
pub use evaluate::{evaluate, shipped_pipeline, Evaluation, EVALUATION_FILE};
pub use export::{export_f16, SHIPPED_POSITIONS};
pub use fork::{fork, Parent};
pub use model_dir::ModelDir;
pub use recipe::Recipe;
pub use run::{Run, State};
pub use snapshot::snapshot;

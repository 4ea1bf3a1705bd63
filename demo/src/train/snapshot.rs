//! Keeping a run's progress beyond the machine. The machine a session trains on can be replaced
//! between sessions with only the repository carried over (a run of hours was lost that way),
//! so a session that must hand a run on writes a snapshot (f16 model, state, recipe, losses)
//! for the next to fork from (`freenoise-demo train --run NEW --start-from SNAPSHOT`). The
//! repository commits only the shipped model; a snapshot goes with the session that needs it.
//!
//! A snapshot is what a fork needs and no more: the model with f16 weights (as the export
//! writes them, half the bytes, but with the run's own position tables, so its trainer loads
//! them again) beside the run's `state.json`, `recipe.json`, the loss log and the last
//! evaluation, so the history stays readable in the repository. AdamW moments and the clip pool
//! are left out: a fork starts fresh moments and its own pool.

use std::fs;
use std::path::Path;

use super::export::copy_f16;
use super::model_dir::io;
use super::EVALUATION_FILE;
use engine::EngineError;

/// Run files a snapshot keeps beside `model/`; `evaluation.json` only when the run has one.
const KEPT: [&str; 4] = ["state.json", "recipe.json", "losses.csv", EVALUATION_FILE];

/// Writes `run`'s snapshot into `target` (created, or replaced file by file; a kept file the
/// run does not have, such as an older evaluation, is removed so nothing stale stays beside it).
pub fn snapshot(run: &Path, target: &Path) -> Result<(), EngineError> {
    for required in ["state.json", "model"] {
        if !run.join(required).exists() {
            return Err(EngineError::Request(format!("{} has no {required}: nothing to snapshot", run.display())));
        }
    }
    copy_f16(&run.join("model"), &target.join("model"))?;
    for file in KEPT {
        let (from, to) = (run.join(file), target.join(file));
        if from.exists() {
            fs::copy(&from, &to).map_err(|e| io(&to, e))?;
        } else if to.exists() {
            fs::remove_file(&to).map_err(|e| io(&to, e))?;
        }
    }
    Ok(())
}

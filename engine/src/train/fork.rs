//! Starting a run from another run's trained model: its VAE (stage 1 done, latent scale
//! measured) and its text encoder and UNet as stage 2's starting weights, with fresh AdamW
//! moments and an empty clip pool. Why: a change of data set (the motion trails) should not
//! cost the hours the parent spent learning colours, shapes and motion from scratch.

use std::fs;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::model_dir::io;
use super::run::State;
use crate::EngineError;

/// Where a forked run's stage-2 weights came from (kept in its `state.json`, shown on the card).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parent {
    pub run: String,
    /// The parent's denoiser step and training seconds when it was forked.
    pub denoise_step: usize,
    pub seconds: f64,
}

/// Makes `child` (a new or empty folder) a run that starts where `parent` stands. The child's
/// `seconds` starts at the parent's, so training time on the card counts both.
pub fn fork(parent: &Path, child: &Path) -> Result<State, EngineError> {
    let from = State::read(parent)?;
    if from.denoise_step == 0 || !parent.join("model").is_dir() {
        return Err(EngineError::Request(format!("{} has no trained denoiser to start from (denoiser step 0 or no model/)", parent.display())));
    }
    if child.join("state.json").exists() {
        return Err(EngineError::Request(format!("{} already holds a run: fork into a new folder", child.display())));
    }
    copy_dir(&parent.join("model"), &child.join("model"))?;
    let state = State {
        denoise_step: 0,
        parent: Some(Parent { run: parent.display().to_string(), denoise_step: from.denoise_step, seconds: from.seconds }),
        ..from
    };
    let path = child.join("state.json");
    fs::write(&path, serde_json::to_string_pretty(&state).expect("serialises")).map_err(|e| io(&path, e))?;
    Ok(state)
}

fn copy_dir(from: &Path, to: &Path) -> Result<(), EngineError> {
    fs::create_dir_all(to).map_err(|e| io(to, e))?;
    for entry in fs::read_dir(from).map_err(|e| io(from, e))? {
        let entry = entry.map_err(|e| io(from, e))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), &target).map_err(|e| io(&target, e))?;
        }
    }
    Ok(())
}

//! Starting a run from another run's trained model: its VAE (stage 1 done, latent scale
//! measured) and its text encoder and UNet as stage 2's starting weights, with fresh AdamW
//! moments and an empty clip pool. Why: a change of data set (the motion trails) should not
//! cost the hours the parent spent learning colours, shapes and motion from scratch.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::model_dir::{copy_dir, ModelDir};
use super::recipe::Recipe;
use super::run::State;
use engine::EngineError;

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
///
/// A `recipe.json` already in `child` was put there before its first step, so it is a copy of
/// the parent's (the way to fork onto the parent's data), perhaps edited: its
/// `high_noise_since` counts the parent's denoiser steps, and becomes the child's count (the
/// parent's step taken off, down to 0). Why: the child counts from step 0, and the copied
/// value (the parent's whole step count, for a parent that switched late) would otherwise have
/// drawn noise levels uniformly for that many of the child's first steps.
pub fn fork(parent: &Path, child: &Path) -> Result<State, EngineError> {
    let from = State::read(parent)?;
    if from.denoise_step == 0 || !parent.join("model").is_dir() {
        return Err(EngineError::Request(format!("{} has no trained denoiser to start from (denoiser step 0 or no model/)", parent.display())));
    }
    if child.join("state.json").exists() {
        return Err(EngineError::Request(format!("{} already holds a run: fork into a new folder", child.display())));
    }
    copy_dir(&parent.join("model"), &child.join("model"))?;
    rebase_recipe(child, from.denoise_step)?;
    let state =
        State { denoise_step: 0, parent: Some(Parent { run: parent.display().to_string(), denoise_step: from.denoise_step, seconds: from.seconds }), ..from };
    state.write(child)?;
    Ok(state)
}

/// Shifts the high-noise share's start in `child`'s recipe (if it has one) back by the
/// parent's `steps`.
fn rebase_recipe(child: &Path, steps: usize) -> Result<(), EngineError> {
    let dir = ModelDir::new(child);
    let Some(mut recipe) = Recipe::recorded(&dir)? else {
        return Ok(());
    };
    recipe.high_noise_since = recipe.high_noise_since.saturating_sub(steps);
    dir.write("recipe.json", serde_json::to_string_pretty(&recipe).expect("serialises").as_bytes())
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    /// A parent at denoiser step `step` whose recipe began its high-noise share at `since`.
    fn parent(root: &Path, step: usize, since: usize) -> Recipe {
        fs::create_dir_all(root.join("model/unet")).unwrap();
        fs::write(root.join("model/unet/config.json"), "{}").unwrap();
        let state = State { denoise_step: step, ..State::default() };
        fs::write(root.join("state.json"), serde_json::to_string(&state).unwrap()).unwrap();
        Recipe { high_noise_share: 0.9, high_noise_since: since, ..Recipe::default() }
    }

    fn recorded(folder: &Path) -> Option<Recipe> {
        Recipe::recorded(&ModelDir::new(folder)).unwrap()
    }

    #[test]
    fn a_copied_recipe_counts_the_high_noise_share_from_the_childs_own_steps() {
        let root = std::env::temp_dir().join(format!("freenoise-fork-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        for (since, step, rebased) in [(1150, 3459, 0), (4000, 3459, 541), (0, 3459, 0)] {
            let (from, child) = (root.join(format!("parent-{since}")), root.join(format!("child-{since}")));
            let recipe = parent(&from, step, since);
            fs::create_dir_all(&child).unwrap();
            fs::write(child.join("recipe.json"), serde_json::to_string(&recipe).unwrap()).unwrap();
            let state = fork(&from, &child).unwrap();
            assert_eq!(state.denoise_step, 0);
            assert!(child.join("model/unet/config.json").is_file(), "the model is copied");
            let kept = recorded(&child).unwrap();
            assert_eq!(kept.high_noise_since, rebased, "since {since} at parent step {step}");
            assert_eq!(kept, Recipe { high_noise_since: rebased, ..recipe }, "nothing else changes");
        }
        // Without a recipe the child gets the caller's (a new run's default): none is written.
        let (from, child) = (root.join("parent-bare"), root.join("child-bare"));
        parent(&from, 10, 5);
        fork(&from, &child).unwrap();
        assert_eq!(recorded(&child), None);
        fs::remove_dir_all(&root).unwrap();
    }
}

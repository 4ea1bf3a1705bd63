//! Averaging a run's weights over several of its checkpoints (stochastic weight averaging,
//! Izmailov et al. 2018). Why: at a constant learning rate the weights wander around the
//! optimum rather than settle on it, and the demo model's reading of a warm colour (orange,
//! red, yellow) changed from checkpoint to checkpoint with them (`docs/demo-model-history.md`, stop 33);
//! the mean of the checkpoints sits nearer the middle of that wander than any one of them.
//!
//! The inputs are copies of one run folder taken right after its checkpoints (the trainer
//! keeps only the latest). Their VAE must be byte-identical (stage 2 leaves it frozen), which
//! is also how this tells copies of one run from unrelated ones. The result is a run folder
//! like any other: it evaluates, exports and snapshots as its last checkpoint would, and its
//! `state.json` lists the steps averaged, for the card.

use std::path::{Path, PathBuf};

use super::model_dir::{copy_dir, io, read_weights, ModelDir, TEXT_WEIGHTS, UNET_WEIGHTS, VAE_WEIGHTS};
use super::run::State;
use engine::weights::{Dtype, NamedTensor};
use engine::EngineError;

/// Run files copied from the latest checkpoint beside its `model/`.
const COPIED: [&str; 2] = ["recipe.json", "losses.csv"];

/// Writes into `target` (a new or empty folder) the run whose text encoder and UNet weights are
/// the element-wise mean of `checkpoints`' (at least two), and whose everything else is the
/// latest checkpoint's.
pub fn average(checkpoints: &[PathBuf], target: &Path) -> Result<State, EngineError> {
    if checkpoints.len() < 2 {
        return Err(EngineError::Request(format!("averaging needs at least two checkpoints, got {}", checkpoints.len())));
    }
    if target.join("state.json").exists() {
        return Err(EngineError::Request(format!("{} already holds a run: average into a new folder", target.display())));
    }
    let mut runs: Vec<(State, &PathBuf)> = checkpoints.iter().map(|c| Ok((State::read(c)?, c))).collect::<Result<_, EngineError>>()?;
    runs.sort_by_key(|(state, _)| state.denoise_step);
    let steps: Vec<usize> = runs.iter().map(|(state, _)| state.denoise_step).collect();
    if let Some(pair) = steps.windows(2).find(|pair| pair[0] == pair[1]) {
        return Err(EngineError::Request(format!("two checkpoints are both at denoiser step {}: each step counts once", pair[0])));
    }
    let folders: Vec<&Path> = runs.iter().map(|(_, folder)| folder.as_path()).collect();
    same_vae(&folders)?;
    let (latest_state, latest) = runs.last().expect("at least two");
    copy_dir(&latest.join("model"), &target.join("model"))?;
    for file in COPIED {
        let (from, to) = (latest.join(file), target.join(file));
        if from.exists() {
            std::fs::copy(&from, &to).map_err(|e| io(&to, e))?;
        }
    }
    let dir = ModelDir::new(&target.join("model"));
    for file in [TEXT_WEIGHTS, UNET_WEIGHTS] {
        let sets = folders.iter().map(|f| read_weights(&f.join("model").join(file))).collect::<Result<Vec<_>, _>>()?;
        dir.write_weights(file, &mean(&sets, &folders, file)?, Dtype::F32)?;
    }
    let state = State { averaged: steps, ..latest_state.clone() };
    state.write(target)?;
    Ok(state)
}

fn same_vae(folders: &[&Path]) -> Result<(), EngineError> {
    let read = |folder: &Path| {
        let path = folder.join("model").join(VAE_WEIGHTS);
        std::fs::read(&path).map_err(|e| io(&path, e))
    };
    let first = read(folders[0])?;
    for folder in &folders[1..] {
        if read(folder)? != first {
            return Err(EngineError::Request(format!(
                "{} and {} have different VAE weights: average checkpoints of one run",
                folders[0].display(),
                folder.display()
            )));
        }
    }
    Ok(())
}

/// The element-wise mean (summed in f64) of tensor sets that must hold the same keys and shapes.
fn mean(sets: &[Vec<NamedTensor>], folders: &[&Path], file: &str) -> Result<Vec<NamedTensor>, EngineError> {
    let first = &sets[0];
    let mut sums: Vec<Vec<f64>> = first.iter().map(|t| vec![0.0; t.values.len()]).collect();
    for (set, folder) in sets.iter().zip(folders) {
        let keys = |s: &[NamedTensor]| s.iter().map(|t| (t.key.clone(), t.shape.clone())).collect::<Vec<_>>();
        if keys(set) != keys(first) {
            return Err(EngineError::Request(format!("{}: its {file} has other tensors or shapes than {}'s", folder.display(), folders[0].display())));
        }
        for (sum, tensor) in sums.iter_mut().zip(set) {
            sum.iter_mut().zip(&tensor.values).for_each(|(s, &v)| *s += v as f64);
        }
    }
    let count = sets.len() as f64;
    Ok(first
        .iter()
        .zip(sums)
        .map(|(t, sum)| NamedTensor { key: t.key.clone(), shape: t.shape.clone(), values: sum.into_iter().map(|s| (s / count) as f32).collect() })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A checkpoint folder at `step` whose text encoder and UNet tensors hold `value` everywhere.
    fn checkpoint(root: &Path, step: usize, value: f32, vae: f32) -> PathBuf {
        let folder = root.join(format!("step-{step}"));
        let dir = ModelDir::new(&folder.join("model"));
        let tensor = |key: &str, v: f32| vec![NamedTensor { key: key.into(), shape: vec![2, 3], values: vec![v; 6] }];
        dir.write_weights(TEXT_WEIGHTS, &tensor("embeddings.weight", value), Dtype::F32).unwrap();
        dir.write_weights(UNET_WEIGHTS, &tensor("conv_in.weight", 2.0 * value), Dtype::F32).unwrap();
        dir.write_weights(VAE_WEIGHTS, &tensor("decoder.conv_in.weight", vae), Dtype::F32).unwrap();
        dir.write("unet/config.json", format!("{{\"step\": {step}}}").as_bytes()).unwrap();
        let state = State { denoise_step: step, seconds: step as f64, ..State::default() };
        std::fs::write(folder.join("state.json"), serde_json::to_string(&state).unwrap()).unwrap();
        folder
    }

    /// A fresh scratch folder per test (tests run in parallel in one process).
    fn scratch(name: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("freenoise-average-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        root
    }

    fn values(folder: &Path, file: &str) -> Vec<f32> {
        read_weights(&folder.join("model").join(file)).unwrap().remove(0).values
    }

    #[test]
    fn the_mean_of_the_checkpoints_with_the_latest_ones_state_and_files() {
        let root = scratch("mean");
        // Given out of order: the latest (step 300) is the one whose state and configs are kept.
        let given = [checkpoint(&root, 300, 3.0, 1.0), checkpoint(&root, 100, 1.0, 1.0), checkpoint(&root, 200, 8.0, 1.0)];
        let target = root.join("averaged");
        let state = average(&given, &target).unwrap();
        assert_eq!(values(&target, TEXT_WEIGHTS), vec![4.0; 6]);
        assert_eq!(values(&target, UNET_WEIGHTS), vec![8.0; 6]);
        assert_eq!(values(&target, VAE_WEIGHTS), vec![1.0; 6]);
        assert_eq!((state.denoise_step, state.averaged.clone()), (300, vec![100, 200, 300]));
        let saved = State::read(&target).unwrap();
        assert_eq!((saved.seconds, saved.averaged), (300.0, vec![100, 200, 300]));
        assert_eq!(std::fs::read_to_string(target.join("model/unet/config.json")).unwrap(), "{\"step\": 300}");
        assert!(average(&given, &target).unwrap_err().to_string().contains("already holds a run"));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn checkpoints_of_different_runs_or_too_few_are_refused() {
        let root = scratch("refused");
        let (a, b) = (checkpoint(&root, 100, 1.0, 1.0), checkpoint(&root, 200, 1.0, 5.0));
        let err = average(&[a.clone(), b], &root.join("x")).unwrap_err().to_string();
        assert!(err.contains("different VAE weights"), "{err}");
        let err = average(std::slice::from_ref(&a), &root.join("y")).unwrap_err().to_string();
        assert!(err.contains("at least two checkpoints"), "{err}");
        let err = average(&[a.clone(), a], &root.join("z")).unwrap_err().to_string();
        assert!(err.contains("both at denoiser step 100"), "{err}");
        assert!(!root.join("x").join("state.json").exists(), "a refused average writes no run");
        std::fs::remove_dir_all(&root).unwrap();
    }
}

//! Following a training run with the semantic checks (`freenoise-demo evaluate`): the
//! figures are printed and kept in the run folder (`evaluation.json`), where the model card
//! picks them up. The bars: 90% colour and direction, 90% coherent FreeNoise clips, 80%
//! turns at a keyframe.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::export::export_f16;
use super::model_dir::ModelDir;
use super::recipe::Recipe;
use super::run::State;
use crate::dataset::{held_out_prompts, EvalPrompt};
use crate::semantics::{self, Share};
use engine::pipeline::Pipeline;
use engine::store::DirStore;
use engine::{Backend, EngineError};

pub const EVALUATION_FILE: &str = "evaluation.json";

/// One evaluation of a run's model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The denoiser step the model was saved at.
    pub step: usize,
    pub colour: Share,
    pub direction: Share,
    /// The long-clip checks, when asked for (they cost about twenty times the 16-frame one).
    pub free_noise: Option<Share>,
    pub plain: Option<Share>,
    pub turns: Option<Share>,
}

/// Scores the run's model on the first `count` held-out prompts (of the recipe's focus motions,
/// if it has them; and the long-clip checks when
/// `long`), printing each clip's reading, and writes `evaluation.json` into the run folder.
pub fn evaluate(run: &Path, count: usize, long: bool) -> Result<Evaluation, EngineError> {
    // Read first: a bad state file should not surface only after minutes of sampling.
    let step = State::read(run)?.denoise_step;
    let dir = ModelDir::new(run);
    let focus = Recipe::recorded(&dir)?.and_then(|r| r.focus_motions);
    let pipeline = Pipeline::load(&DirStore::new(run.join("model"))?, None, &Backend::cpu_device())?;
    let prompts = prompts(focus.as_deref(), count);
    let log = &mut |line: String| println!("{line}");
    let (colour, direction) = semantics::held_out(&pipeline, &prompts, log)?;
    let mut evaluation = Evaluation { step, colour, direction, free_noise: None, plain: None, turns: None };
    if long {
        let shipped = shipped_pipeline(run)?;
        evaluation.free_noise = Some(semantics::long_clips(&shipped, &prompts, true, log)?);
        evaluation.plain = Some(semantics::long_clips(&shipped, &prompts, false, log)?);
        evaluation.turns = Some(semantics::keyframe_turns(&shipped, semantics::TURN_TRIES, log)?);
    }
    let json = serde_json::to_string_pretty(&evaluation).expect("JSON values serialise");
    dir.write(EVALUATION_FILE, json.as_bytes())?;
    Ok(evaluation)
}

/// The run's model as the page ships it (`export_f16`: f16 weights, position tables lengthened).
/// The long checks need it: plain sampling reads one position row per frame, and a run's own
/// tables stop at 32 rows, so 64 plain frames were refused after the FreeNoise clips had run.
pub fn shipped_pipeline(run: &Path) -> Result<Pipeline, EngineError> {
    let folder = std::env::temp_dir().join(format!("freenoise-shipped-{}", std::process::id()));
    let pipeline = export_f16(&run.join("model"), &folder).and_then(|()| Pipeline::load(&DirStore::new(&folder)?, None, &Backend::cpu_device()));
    // The weights are in memory now, or the export failed part-way: either way the copy goes.
    let _ = std::fs::remove_dir_all(&folder);
    pipeline
}

/// The first `count` held-out prompts whose motion is one of `focus` (all, without one).
fn prompts(focus: Option<&[usize]>, count: usize) -> Vec<EvalPrompt> {
    held_out_prompts().into_iter().filter(|p| focus.is_none_or(|m| m.contains(&p.motion))).take(count).collect()
}

impl std::fmt::Display for Evaluation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "step {}: held-out prompts, 16 frames: colour {}, direction {}", self.step, self.colour, self.direction)?;
        if let (Some(with), Some(without), Some(turns)) = (self.free_noise, self.plain, self.turns) {
            write!(f, "; 64 frames coherent: FreeNoise {with}, plain sampling {without}; turns at the keyframe: {turns}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_focus_keeps_only_its_motions_and_the_count_caps() {
        let all = prompts(None, usize::MAX);
        assert_eq!(all, held_out_prompts());
        let cardinal = prompts(Some(&[0, 1, 2, 3]), usize::MAX);
        assert!(!cardinal.is_empty() && cardinal.len() < all.len(), "{} of {}", cardinal.len(), all.len());
        assert!(cardinal.iter().all(|p| p.motion < 4));
        assert_eq!(prompts(Some(&[0, 1, 2, 3]), 3), cardinal[..3]);
    }
}

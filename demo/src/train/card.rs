//! The shipped model's card (`README.md` beside its weights): the data, the recipe, how long
//! each stage trained and how its loss went, and the semantic figures of the last evaluation,
//! all read from the run folder so the card cannot drift from the run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::evaluate::{Evaluation, EVALUATION_FILE};
use super::model_dir::ModelDir;
use super::recipe::Recipe;
use super::run::{json, State};
use crate::dataset::{held_out_prompts, Placement, TrailStyle, CENTRED_ACROSS, FRAMES, SIZE};
use crate::semantics::TURN_AT;
use crate::settings::{GUIDANCE, STEPS, WEIGHTING};
use crate::vocab::{drawable, held_out, vocabulary_sentence, COLOURS, MOTIONS, SHAPES};
use engine::Choice;
use engine::EngineError;

/// Rows of the loss table per stage.
const LOSS_ROWS: usize = 8;
/// Logged losses averaged into the "final loss" (single logged batches are noisy).
const FINAL_OVER: usize = 10;

/// One logged loss: `losses.csv`'s `stage,step,loss,detail,seconds`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Logged {
    step: usize,
    loss: f64,
    /// Training seconds since the previous kept row of any stage: the time this row's steps took.
    spent: f64,
}

/// Stages in training order (stage 1b may also run after stage 2 began; its time is its own).
const STAGE_ORDER: [&str; 3] = ["vae", "decoder", "denoise"];

/// Writes `README.md` into `target` from the run folder `run`.
pub fn write_card(run: &Path, target: &Path) -> Result<(), EngineError> {
    let dir = ModelDir::new(run);
    let recipe: Recipe = json(&dir.read_text("recipe.json")?, "recipe.json")?;
    let state = State::read(run)?;
    let stages = stages(&dir.read_text("losses.csv")?, &state)?;
    let evaluation: Option<Evaluation> = if dir.has(EVALUATION_FILE) { Some(json(&dir.read_text(EVALUATION_FILE)?, EVALUATION_FILE)?) } else { None };
    ModelDir::new(target).write("README.md", card(&recipe, &state, &stages, evaluation.as_ref()).as_bytes())
}

/// Logged losses per stage, by step, up to the checkpoint `state` records (later steps are not
/// in the saved weights); a step logged twice (a run resumed from an earlier checkpoint trains
/// it again) keeps its last row.
fn stages(csv: &str, state: &State) -> Result<BTreeMap<String, Vec<Logged>>, EngineError> {
    // (stage, step) → (line, loss, cumulative seconds); a later line replaces an earlier one.
    let mut last: BTreeMap<(String, usize), (usize, f64, f64)> = BTreeMap::new();
    for (i, line) in csv.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
        let bad = |problem: String| EngineError::BadFile { file: "losses.csv".into(), problem: format!("line {}: {problem}", i + 1) };
        let fields: Vec<&str> = line.split(',').collect();
        let [stage, step, loss, _, seconds] = fields[..] else { return Err(bad(format!("{} fields, not 5", fields.len()))) };
        let number = |text: &str| text.parse::<f64>().map_err(|e| bad(format!("{text:?}: {e}")));
        let step = step.parse().map_err(|e| bad(format!("step {step:?}: {e}")))?;
        last.insert((stage.to_string(), step), (i, number(loss)?, number(seconds)?));
    }
    let saved = |stage: &str| match stage {
        "vae" => state.vae_step,
        "decoder" => state.decoder_step,
        "denoise" => state.denoise_step,
        _ => usize::MAX,
    };
    let mut kept: Vec<(usize, String, usize, f64, f64)> = last
        .into_iter()
        .filter(|((stage, step), _)| *step <= saved(stage))
        .map(|((stage, step), (i, loss, seconds))| (i, stage, step, loss, seconds))
        .collect();
    kept.sort_by_key(|row| row.0);
    // A forked run's clock starts at its parent's total.
    let mut previous = state.parent.as_ref().map_or(0.0, |p| p.seconds);
    let mut by_stage: BTreeMap<String, Vec<Logged>> = BTreeMap::new();
    for (_, stage, step, loss, seconds) in kept {
        by_stage.entry(stage).or_default().push(Logged { step, loss, spent: seconds - previous });
        previous = seconds;
    }
    by_stage.values_mut().for_each(|rows| rows.sort_by_key(|r| r.step));
    Ok(by_stage)
}

fn card(recipe: &Recipe, state: &State, stages: &BTreeMap<String, Vec<Logged>>, evaluation: Option<&Evaluation>) -> String {
    let combinations = (0..COLOURS.len())
        .flat_map(|c| (0..SHAPES.len()).flat_map(move |s| (0..MOTIONS.len()).map(move |m| (c, s, m))))
        .filter(|&(_, s, m)| drawable(SHAPES[s], MOTIONS[m]))
        .collect::<Vec<_>>();
    let held = combinations.iter().filter(|&&(c, s, m)| held_out(c, s, m)).count();
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(w, "# Demo model: shapes in motion\n");
    let _ = writeln!(w, "A small text-to-video model in the diffusers AnimateDiff layout (CLIP text encoder, `UNetMotionModel`,");
    let _ = writeln!(w, "`AutoencoderKL`), trained by `freenoise-demo train` (`demo/src/train`). Weights are");
    let _ = writeln!(w, "f16 safetensors; the engine, the page and diffusers load the folder as it is.\n");
    let _ = writeln!(w, "## Data\n");
    let _ = writeln!(w, "The procedural data set of `demo/src/dataset` (seeded, no downloads): clips of {FRAMES} frames at {SIZE}×{SIZE}");
    let _ = writeln!(w, "showing one shape (or two, in one training clip in five) with an English caption such as");
    let _ = writeln!(w, "\"a red circle moving left on a black background\". Vocabulary: {}.", vocabulary_sentence());
    if recipe.trail > 0 {
        let look = match recipe.trail_style {
            TrailStyle::Fading => "a fading trail",
            TrailStyle::Comet => "a comet tail",
        };
        let _ = writeln!(w, "Moving objects leave {look} of {} ghosts, so each frame shows which way they go.", recipe.trail);
    }
    match recipe.placement {
        Placement::Spread => {}
        Placement::Centred => {
            let _ = writeln!(w, "Objects moving in a straight line cross the middle of the frame (the midpoint of their path within {CENTRED_ACROSS} px of its centre), so a direction word means one path.");
        }
        Placement::Torus => {
            let _ = writeln!(w, "The frame wraps around: an object moving in a straight line goes one lap of {SIZE} px along each axis it moves on in {FRAMES} frames, on a line within {CENTRED_ACROSS} px of the centre, starting anywhere along it, so the noise, not the caption, says where it is (what FreeNoise's long clips need).");
        }
        Placement::TwoPhaseTorus => {
            let _ = writeln!(w, "The frame wraps around: an object moving in a straight line goes one lap of {SIZE} px along each axis it moves on in {} frames, on a line within {CENTRED_ACROSS} px of the centre, starting at the centre of its line or half a lap from it, so a clip looks the same 4 frames later up to which of the two it started at (what FreeNoise's windows, 4 frames apart, need) and the direction word still says which way the object goes from there.", recipe.placement.lap_frames().unwrap_or(FRAMES));
        }
    }
    if let Some(motions) = &recipe.focus_motions {
        let words: Vec<String> = motions.iter().filter_map(|&m| MOTIONS.get(m)).map(|m| m.words()).collect();
        let _ = writeln!(
            w,
            "**A diagnostic model, not the demo model:** its last training stage drew only the motions {}, and its evaluation asks only for them.",
            words.join(", ")
        );
    }
    let _ = writeln!(w, "{held} of the {} colour × shape × motion combinations never appear in training; the", combinations.len());
    let _ = writeln!(w, "evaluation prompts ({} of them) are the held-out straight-line motions.\n", held_out_prompts().len());
    let _ = writeln!(w, "## Recipe\n");
    let _ = writeln!(w, "| field | value |\n|---|---|");
    if let serde_json::Value::Object(fields) = serde_json::to_value(recipe).expect("recipes serialise") {
        for (key, value) in fields {
            // The recipe's rates are f32: print them as f32s, not as their f64 expansions.
            let value = match value.as_f64() {
                Some(x) if x.fract() != 0.0 => (x as f32).to_string(),
                _ => value.to_string(),
            };
            let _ = writeln!(w, "| `{key}` | {value} |");
        }
    }
    let _ = writeln!(w, "\n## Training\n");
    let _ = writeln!(
        w,
        "{:.0} s of training in all ({:.1} h){}.\n",
        state.seconds,
        state.seconds / 3600.0,
        if state.denoise_step > 0 { format!(", to denoiser step {}", state.denoise_step) } else { String::new() }
    );
    if let Some(parent) = &state.parent {
        // The card ships, so it names the parent by its folder, not by a path on the training machine.
        let name = Path::new(&parent.run).file_name().map_or(parent.run.clone(), |n| n.to_string_lossy().into_owned());
        let _ = writeln!(
            w,
            "Stage 2 started from the text encoder and UNet of the run `{name}` at its denoiser step {} ({:.0} s of",
            parent.denoise_step, parent.seconds
        );
        let _ = writeln!(w, "training, VAE included, counted in the total above; its history is in the repository's");
        let _ = writeln!(w, "`docs/demo-model-history.md`), with fresh optimizer moments and this recipe's data.\n");
    }
    if let (Some(first), Some(last)) = (state.averaged.first(), state.averaged.last()) {
        let _ = writeln!(w, "The shipped text encoder and UNet weights are the mean of {} checkpoints of this run, at denoiser steps", state.averaged.len());
        let _ = writeln!(w, "{first} to {last} (stochastic weight averaging, `demo/src/train/average.rs`); the losses below are the run's.\n");
    }
    let ordered = STAGE_ORDER.iter().filter_map(|s| stages.get_key_value(*s)).chain(stages.iter().filter(|(s, _)| !STAGE_ORDER.contains(&s.as_str())));
    for (stage, rows) in ordered {
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else { continue };
        let tail = &rows[rows.len().saturating_sub(FINAL_OVER)..];
        let final_loss = tail.iter().map(|r| r.loss).sum::<f64>() / tail.len() as f64;
        let spent: f64 = rows.iter().map(|r| r.spent).sum();
        let _ = writeln!(w, "### Stage `{stage}`: {} steps, {spent:.0} s\n", last.step);
        let _ = writeln!(w, "Final loss (mean of the last {} logged batches): **{final_loss:.4}**.\n", tail.len());
        let _ = writeln!(w, "| steps | mean logged loss |\n|---|---|");
        let span = (last.step - first.step + 1).div_ceil(LOSS_ROWS).max(1);
        for bucket in rows.chunk_by(|a, b| (a.step - first.step) / span == (b.step - first.step) / span) {
            let mean = bucket.iter().map(|r| r.loss).sum::<f64>() / bucket.len() as f64;
            let _ = writeln!(w, "| {}–{} | {mean:.4} |", bucket[0].step, bucket[bucket.len() - 1].step);
        }
        let _ = writeln!(w);
    }
    let _ = writeln!(w, "## Evaluation\n");
    match evaluation {
        None => {
            let _ = writeln!(w, "Not evaluated yet (`freenoise-demo evaluate --run RUN --prompts N --long`).");
        }
        Some(e) => {
            let _ = writeln!(w, "At denoiser step {}, with the page's settings (DDIM, {STEPS} steps, guidance {GUIDANCE}, {SIZE}×{SIZE},", e.step);
            let _ = writeln!(w, "FreeNoise with {} window weights), read by", WEIGHTING.name());
            let _ = writeln!(w, "the clip analyser (`demo/src/analysis.rs`, `demo/src/semantics.rs`):\n");
            let _ = writeln!(w, "| check | result |\n|---|---|");
            let _ = writeln!(w, "| held-out prompts, 16 frames: colour right | {} |", e.colour);
            let _ = writeln!(w, "| held-out prompts, 16 frames: direction right | {} |", e.direction);
            for (name, share) in [
                ("64 frames, FreeNoise: coherent", e.free_noise),
                ("64 frames, plain sampling: coherent", e.plain),
                (&format!("\"moving left\" → \"moving up\" at frame {TURN_AT}: turned"), e.turns),
            ] {
                if let Some(share) = share {
                    let _ = writeln!(w, "| {name} | {share} |");
                }
            }
        }
    }
    let _ = writeln!(w, "\n## Settings\n");
    let _ = writeln!(w, "The page opens on the settings the figures above were measured with (`demo/src/settings.rs`): {FRAMES} frames at {SIZE}×{SIZE},");
    let _ = writeln!(
        w,
        "DDIM {STEPS} steps, guidance {GUIDANCE} and FreeNoise's {} window weights. Guidance above {GUIDANCE} drifted this model family's",
        WEIGHTING.name()
    );
    let _ = writeln!(w, "colours, and flat window weights kept more of its long clips coherent than the paper's pyramid: the measurements are");
    let _ = writeln!(w, "in the repository's `docs/demo-model-history.md` (stops 22 and 35–36).");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::semantics::Share;

    const CSV: &str = "stage,step,loss,detail,seconds\nvae,50,0.2,0.2,10.0\nvae,100,0.1,0.1,20.0\n\
        denoise,10,0.9,0,30.0\ndenoise,20,0.5,0,40.0\ndenoise,30,0.7,0,50.0\ndenoise,20,0.3,0,45.0\ndenoise,30,0.1,0,55.0\ndenoise,40,0.2,0,60.0\n";

    /// Checkpointed at denoiser step 30 (step 40 was logged, then the run stopped).
    fn state() -> State {
        State { vae_step: 100, scaling_factor: Some(0.5), decoder_step: 0, denoise_step: 30, seconds: 55.0, parent: None, averaged: Vec::new() }
    }

    #[test]
    fn a_resumed_step_keeps_its_last_loss_and_unsaved_steps_are_left_out() {
        let logged = stages(CSV, &state()).unwrap();
        let losses: Vec<f64> = logged["denoise"].iter().map(|r| r.loss).collect();
        assert_eq!(losses, [0.9, 0.3, 0.1]);
        assert_eq!(logged["vae"].len(), 2);
        let err = stages("stage,step,loss,detail,seconds\nvae,x,1,1,1\n", &state()).unwrap_err().to_string();
        assert!(err.contains("losses.csv") && err.contains("line 2") && err.contains("step"), "{err}");
    }

    #[test]
    fn the_card_reports_time_losses_and_figures() {
        let evaluation = Evaluation {
            step: 30,
            colour: Share { hits: 50, total: 56 },
            direction: Share { hits: 51, total: 56 },
            free_noise: Some(Share { hits: 52, total: 56 }),
            plain: Some(Share { hits: 10, total: 56 }),
            turns: Some(Share { hits: 8, total: 10 }),
        };
        let card = card(&Recipe::default(), &state(), &stages(CSV, &state()).unwrap(), Some(&evaluation));
        for expected in [
            "55 s of training",
            "### Stage `vae`: 100 steps, 20 s",
            "### Stage `denoise`: 30 steps, 35 s",
            "**0.4333**", // (0.9 + 0.3 + 0.1) / 3
            "| 10–10 | 0.9000 |",
            "| `seed` | 20261127 |",
            "FreeNoise with flat window weights",
            "| held-out prompts, 16 frames: colour right | 89.3% (50 of 56) |",
            "| 64 frames, plain sampling: coherent | 17.9% (10 of 56) |",
            "turned | 80.0% (8 of 10) |",
            "56 of them",
        ] {
            assert!(card.contains(expected), "missing {expected:?} in\n{card}");
        }
        assert!(card.find("Stage `vae`") < card.find("Stage `denoise`"), "stages in training order");
        let unevaluated = card_without_evaluation();
        assert!(unevaluated.contains("Not evaluated yet"));
        assert!(!card.contains("diagnostic"), "the demo recipe draws every motion");
        assert!(!card.contains("checkpoints of this run"), "weights trained as they are");
    }

    #[test]
    fn a_focused_run_is_called_a_diagnostic() {
        let recipe = Recipe { focus_motions: Some(vec![0, 3]), ..Recipe::default() };
        let card = card(&recipe, &state(), &stages(CSV, &state()).unwrap(), None);
        assert!(card.contains("A diagnostic model, not the demo model:** its last training stage drew only the motions moving left, moving down"), "{card}");
    }

    /// A forked run whose decoder stage ran between stretches of stage 2: each stage gets the
    /// time its own steps took, counted from the parent's total. Its weights are an average of
    /// two checkpoints, which the card says.
    #[test]
    fn a_forked_run_with_an_interleaved_decoder_stage() {
        let csv = "stage,step,loss,detail,seconds\ndenoise,10,0.5,0,110.0\ndenoise,20,0.4,0,120.0\n\
            decoder,10,0.02,0,150.0\ndecoder,20,0.01,0,180.0\ndenoise,30,0.3,0,190.0\n";
        let parent = crate::train::Parent { run: "runs/parent".into(), denoise_step: 4000, seconds: 100.0 };
        let state = State {
            vae_step: 100,
            scaling_factor: Some(0.5),
            decoder_step: 20,
            denoise_step: 30,
            seconds: 190.0,
            parent: Some(parent),
            averaged: vec![20, 30],
        };
        let card = card(&Recipe::default(), &state, &stages(csv, &state).unwrap(), None);
        for expected in [
            "### Stage `decoder`: 20 steps, 60 s",
            "### Stage `denoise`: 30 steps, 30 s",
            "the run `parent` at its denoiser step 4000",
            "comet tail of 3 ghosts",
            "the mean of 2 checkpoints",
            "20 to 30 (stochastic weight averaging",
        ] {
            assert!(card.contains(expected), "missing {expected:?} in\n{card}");
        }
        assert!(card.find("Stage `decoder`") < card.find("Stage `denoise`"), "stages in training order");
    }

    fn card_without_evaluation() -> String {
        card(&Recipe::default(), &state(), &stages(CSV, &state()).unwrap(), None)
    }
}

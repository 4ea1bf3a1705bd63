//! Semantic checks of a trained model with the clip analyser: on held-out prompts, is the
//! object's colour right, and does it travel the prompted way? Used to follow a training run
//! (`freenoise-train --evaluate N`); the bars are 90% for both.

use std::path::Path;

use crate::analysis::analyse;
use crate::dataset::held_out_prompts;
use crate::dataset::vocab::COLOURS;
use crate::pipeline::{Pipeline, Request};
use crate::store::DirStore;
use crate::{Backend, EngineError};

/// Evaluation settings: what the page's defaults for the demo model will be.
pub const STEPS: usize = 12;
pub const GUIDANCE: f32 = 5.0;

/// Shares of held-out prompts with the right colour and the right direction.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    pub prompts: usize,
    pub colour: f64,
    pub direction: f64,
}

/// Generates 16-frame clips for the first `count` held-out prompts and scores them.
pub fn evaluate(model: &Path, count: usize) -> Result<Scores, EngineError> {
    let pipeline = Pipeline::load(&DirStore::new(model)?, None, &Backend::cpu_device())?;
    let prompts: Vec<_> = held_out_prompts().into_iter().take(count).collect();
    let (mut colour, mut direction) = (0, 0);
    for (i, p) in prompts.iter().enumerate() {
        let mut r = Request::new(p.caption());
        (r.frames, r.height, r.width, r.steps, r.guidance, r.seed) = (16, 64, 64, STEPS, GUIDANCE, i as u64);
        let output = pollster::block_on(pipeline.generate(&r, &mut |_| {}))?;
        let frames: Vec<Vec<u8>> = (0..output.frames).map(|f| output.frame_rgb8(f)).collect();
        let a = analyse(&frames, output.width, output.height);
        colour += (a.colour == Some(p.colour)) as usize;
        direction += (a.direction(0..16) == Some(p.direction)) as usize;
        println!("{}: saw {:?} moving {:?}", p.caption(), a.colour.map(|c| COLOURS[c].name), a.direction(0..16));
    }
    let n = prompts.len().max(1) as f64;
    Ok(Scores { prompts: prompts.len(), colour: colour as f64 / n, direction: direction as f64 / n })
}

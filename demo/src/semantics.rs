//! What a model of the demo world means, measured with the clip analyser: the semantic
//! checks, shared by the demo model's tests (which hold the bars) and `freenoise-demo
//! evaluate` (which follows a training run and records the figures for the model card).
//!
//! - held-out prompts at 16 frames: is the colour right, does the object travel the prompted way;
//! - 64 frames, with FreeNoise and with plain sampling: does the object stay coherent;
//! - two keyframe prompts ("moving left" → "moving up" at frame 32): does the motion turn.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::analysis::{analyse, Analysis};
use crate::dataset::EvalPrompt;
use crate::settings::{FRAMES, GUIDANCE, SIZE, STEPS, WEIGHTING};
use crate::vocab::{Direction, COLOURS, SHAPES};
use engine::freenoise::prompts::Interpolation;
use engine::pipeline::{Pipeline, Request};
use engine::EngineError;

/// Clip lengths: the trained length, and the long clips FreeNoise is for.
pub const SHORT: usize = FRAMES;
pub const LONG: usize = 64;
/// The keyframe of the multi-prompt check, and how many two-prompt clips it makes.
pub const TURN_AT: usize = 32;
pub const TURN_TRIES: usize = 10;

/// How many of how many clips passed a check.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Share {
    pub hits: usize,
    pub total: usize,
}

impl Share {
    pub fn add(&mut self, hit: bool) {
        self.hits += hit as usize;
        self.total += 1;
    }

    pub fn fraction(&self) -> f64 {
        self.hits as f64 / self.total.max(1) as f64
    }
}

impl std::fmt::Display for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1}% ({} of {})", self.fraction() * 100.0, self.hits, self.total)
    }
}

/// A request with the checks' settings ([`crate::settings`]).
pub fn request(prompt: &str, frames: usize, seed: u64) -> Request {
    let mut r = Request::new(prompt);
    (r.frames, r.height, r.width, r.steps, r.guidance, r.seed) = (frames, SIZE, SIZE, STEPS, GUIDANCE, seed);
    if let Some(f) = r.free_noise.as_mut() {
        f.weighting = WEIGHTING;
    }
    r
}

/// Generates `request` and analyses the clip.
pub fn generate(pipeline: &Pipeline, request: &Request) -> Result<Analysis, EngineError> {
    let output = pollster::block_on(pipeline.generate(request, &mut |_| {}))?;
    let frames: Vec<Vec<u8>> = (0..output.frames).map(|f| output.frame_rgb8(f)).collect();
    Ok(analyse(&frames, output.width, output.height))
}

/// 16-frame clips of `prompts` (seed = index): shares with the right colour and the right
/// direction. `log` gets one line per clip.
pub fn held_out(pipeline: &Pipeline, prompts: &[EvalPrompt], log: &mut dyn FnMut(String)) -> Result<(Share, Share), EngineError> {
    let (mut colour, mut direction) = (Share::default(), Share::default());
    for (i, p) in prompts.iter().enumerate() {
        let a = generate(pipeline, &request(&p.caption(), SHORT, i as u64))?;
        colour.add(a.colour == Some(p.colour));
        direction.add(a.direction(0..SHORT) == Some(p.direction));
        log(format!("{}: saw {} moving {:?}", p.caption(), colour_name(&a), a.direction(0..SHORT)));
    }
    Ok((colour, direction))
}

/// 64-frame clips of `prompts` (seed = index), with FreeNoise or plain sampling: the share
/// that stays [`coherent`].
pub fn long_clips(pipeline: &Pipeline, prompts: &[EvalPrompt], free_noise: bool, log: &mut dyn FnMut(String)) -> Result<Share, EngineError> {
    let mut share = Share::default();
    for (i, p) in prompts.iter().enumerate() {
        let (ok, line) = long_clip(pipeline, p, i as u64, free_noise)?;
        share.add(ok);
        log(line);
    }
    Ok(share)
}

/// One 64-frame clip of `prompt` from `seed`: whether it stays [`coherent`], and its reading.
/// The demo model's test samples a subset of the held-out prompts with their evaluation seeds.
pub fn long_clip(pipeline: &Pipeline, prompt: &EvalPrompt, seed: u64, free_noise: bool) -> Result<(bool, String), EngineError> {
    let mut r = request(&prompt.caption(), LONG, seed);
    if !free_noise {
        r.free_noise = None;
    }
    let a = generate(pipeline, &r)?;
    let ok = coherent(&a, prompt.colour, prompt.direction);
    let line = format!(
        "{} ({LONG} frames, FreeNoise {}): saw {}, {:.0}% visible, quarters {:?}: {}",
        prompt.caption(),
        on_off(free_noise),
        colour_name(&a),
        a.visible() * 100.0,
        quarters(&a),
        if ok { "coherent" } else { "not coherent" }
    );
    Ok((ok, line))
}

/// `tries` two-prompt clips, "a C S moving left …" then "… moving up …" from frame
/// [`TURN_AT`], with the page's multi-prompt settings (each prompt held until the next
/// keyframe, FreeNoise's motion injection on): the share whose motion [`turned`].
pub fn keyframe_turns(pipeline: &Pipeline, tries: usize, log: &mut dyn FnMut(String)) -> Result<Share, EngineError> {
    let mut share = Share::default();
    for i in 0..tries {
        let (colour, shape) = (COLOURS[i % COLOURS.len()].name, SHAPES[i % SHAPES.len()].name());
        let first = format!("a {colour} {shape} moving left on a black background");
        let second = format!("a {colour} {shape} moving up on a black background");
        let mut r = request(&first, LONG, 1000 + i as u64);
        r.keyframes = vec![(0, first.clone()), (TURN_AT, second)];
        r.interpolation = Interpolation::Hold;
        r.motion_injection = true;
        let a = generate(pipeline, &r)?;
        let ok = turned(&a, Direction::Left, Direction::Up);
        share.add(ok);
        log(format!(
            "{first} → up at frame {TURN_AT}: before {:?}, after {:?}: {}",
            a.direction(before()),
            a.direction(after()),
            if ok { "turned" } else { "did not turn" }
        ));
    }
    Ok(share)
}

/// A long clip is coherent when the object keeps the prompted colour, is found in at least 90%
/// of the frames (no vanishing), never travels against the prompted direction in any 16-frame
/// quarter (no reversal), and travels the prompted way in at least two quarters (it moves).
pub fn coherent(a: &Analysis, colour: usize, direction: Direction) -> bool {
    let q = quarters(a);
    let reversal = q.iter().flatten().any(|d| dot(*d, direction) < 0.0);
    let moving = q.iter().flatten().filter(|d| **d == direction).count();
    a.colour == Some(colour) && a.visible() >= 0.9 && !reversal && moving >= 2
}

/// The motion turned when the object travels `from` in the frames before the keyframe and
/// mostly `to` (within 45°) after it; the 8 frames either side of the keyframe are the turn
/// itself and are not judged.
pub fn turned(a: &Analysis, from: Direction, to: Direction) -> bool {
    a.direction(before()) == Some(from) && a.direction(after()).is_some_and(|d| dot(d, to) > 0.5)
}

fn before() -> Range<usize> {
    8..TURN_AT
}

fn after() -> Range<usize> {
    TURN_AT + 8..LONG
}

/// The direction of travel in each whole 16-frame quarter of the clip, the long checks' unit:
/// [`coherent`] reads reversals from it, and `freenoise-demo analyse` prints it so a probe of
/// FreeNoise's settings can see which quarter went wrong.
pub fn quarters(a: &Analysis) -> Vec<Option<Direction>> {
    (0..a.centroids.len() / SHORT).map(|q| a.direction(q * SHORT..(q + 1) * SHORT)).collect()
}

fn dot(a: Direction, b: Direction) -> f32 {
    let (u, v) = (a.vector(), b.vector());
    u[0] * v[0] + u[1] * v[1]
}

fn colour_name(a: &Analysis) -> &'static str {
    a.colour.map_or("no object", |c| COLOURS[c].name)
}

fn on_off(on: bool) -> &'static str {
    if on {
        "on"
    } else {
        "off"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An analysis of a 64-frame clip whose object is at `path(frame)` (`None`: not found).
    fn track(colour: usize, path: impl Fn(usize) -> Option<[f32; 2]>) -> Analysis {
        Analysis { colour: Some(colour), centroids: (0..LONG).map(path).collect() }
    }

    #[test]
    fn the_checks_sample_with_the_demo_models_settings() {
        let r = request("a red circle moving left on a black background", LONG, 7);
        assert_eq!((r.frames, r.height, r.steps, r.guidance, r.seed), (LONG, SIZE, STEPS, GUIDANCE, 7));
        assert_eq!(r.free_noise.map(|f| f.weighting), Some(WEIGHTING), "the card's FreeNoise weighting");
    }

    #[test]
    fn steady_travel_is_coherent_and_reversal_vanishing_or_stillness_are_not() {
        let left = |f: usize| Some([60.0 - 0.8 * f as f32, 30.0]);
        assert!(coherent(&track(0, left), 0, Direction::Left));
        assert!(!coherent(&track(1, left), 0, Direction::Left), "wrong colour");
        assert!(!coherent(&track(0, left), 0, Direction::Right), "wrong way");
        // Back the other way in the last quarter.
        let back = |f: usize| Some([60.0 - 0.8 * f.min(48) as f32 + 0.8 * f.saturating_sub(48) as f32, 30.0]);
        assert!(!coherent(&track(0, back), 0, Direction::Left));
        // Gone for 12 of 64 frames.
        let vanishing = |f: usize| (!(20..32).contains(&f)).then_some([60.0 - 0.8 * f as f32, 30.0]);
        assert!(!coherent(&track(0, vanishing), 0, Direction::Left));
        assert!(!coherent(&track(0, |_| Some([30.0, 30.0])), 0, Direction::Left), "still");
        // Travels in two quarters and rests in the others: still coherent.
        let rests = |f: usize| Some([60.0 - 0.8 * f.clamp(16, 48) as f32, 30.0]);
        assert!(coherent(&track(0, rests), 0, Direction::Left));
    }

    #[test]
    fn a_turn_needs_both_directions_on_their_side_of_the_keyframe() {
        let turn = |f: usize| Some(if f < TURN_AT { [60.0 - f as f32, 50.0] } else { [28.0, 50.0 - (f - TURN_AT) as f32] });
        assert!(turned(&track(0, turn), Direction::Left, Direction::Up));
        let straight = |f: usize| Some([63.0 - f as f32 * 0.9, 50.0]);
        assert!(!turned(&track(0, straight), Direction::Left, Direction::Up));
        // Up and a little left after the keyframe is within 45° of up.
        let diagonal = |f: usize| Some(if f < TURN_AT { [60.0 - f as f32, 50.0] } else { [28.0 - 0.6 * (f - TURN_AT) as f32, 50.0 - (f - TURN_AT) as f32] });
        assert!(turned(&track(0, diagonal), Direction::Left, Direction::Up));
    }

    #[test]
    fn shares_count_and_print() {
        let mut s = Share::default();
        for hit in [true, false, true, true] {
            s.add(hit);
        }
        assert_eq!((s.hits, s.total, s.fraction()), (3, 4, 0.75));
        assert_eq!(s.to_string(), "75.0% (3 of 4)");
        assert_eq!(Share::default().fraction(), 0.0);
    }
}

//! Sliding windows over frames and the weights that merge their temporal-attention outputs.

use crate::options::choice;
use crate::EngineError;

choice! {
    /// How a frame's outputs from overlapping windows are weighted by its position in each window.
    pub enum Weighting {
        /// 1, 2, …, W/2, W/2, …, 2, 1 (the paper's Eq. 9).
        Pyramid = ("pyramid", "Pyramid"),
        Flat = ("flat", "Flat"),
        /// diffusers' `delayed_reverse_sawtooth`.
        DelayedReverseSawtooth = ("sawtooth", "Delayed reverse sawtooth"),
    }
}

choice! {
    /// Where fusion happens inside a motion-module transformer block.
    pub enum FusionPlacement {
        /// diffusers / FreeNoise-AnimateDiff: both attentions per window, one fusion per block,
        /// then the feed-forward on all frames.
        Block = ("block", "Once per transformer block, then the feed-forward (diffusers)"),
        /// The official code: fuse after each attention layer.
        Attention = ("attention", "After each attention layer (the official FreeNoise code)"),
    }
}

/// Per-position weights for a window of `window` frames.
pub fn window_weights(window: usize, weighting: Weighting) -> Vec<f32> {
    match weighting {
        Weighting::Flat => vec![1.0; window],
        Weighting::Pyramid => {
            // 1..=W/2 up, the middle once more for odd W, then back down.
            let up: Vec<f32> = (1..=window / 2).map(|v| v as f32).collect();
            let mut out = up.clone();
            if !window.is_multiple_of(2) {
                out.push(window.div_ceil(2) as f32);
            }
            out.extend(up.iter().rev());
            out
        }
        Weighting::DelayedReverseSawtooth => {
            // Even W (m = W/2): m−1 × 0.01, m, then m, m−1, …, 1. For odd W diffusers returns W+1
            // weights (m × 0.01, then m..1), which cannot multiply a window; we drop one 0.01.
            let mid = window.div_ceil(2);
            let mut out = vec![0.01; mid - 1];
            if window.is_multiple_of(2) {
                out.push(mid as f32);
            }
            out.extend((1..=mid).rev().map(|v| v as f32));
            out
        }
    }
}

/// One window: frames `start..end`; its outputs are merged for frames `merge_from..end` (the
/// whole window, except a tail window, which only fills frames no earlier window covered).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: usize,
    pub end: usize,
    pub merge_from: usize,
}

/// The windows and per-frame normalisers for a clip.
#[derive(Clone, Debug, PartialEq)]
pub struct WindowPlan {
    pub windows: Vec<Window>,
    /// Weight of each position inside a window.
    pub weights: Vec<f32>,
    /// Per frame: the sum of the weights merged into it (the divisor).
    pub totals: Vec<f32>,
}

impl WindowPlan {
    /// Windows at 0, stride, 2·stride, … and, when the stride does not land on the last frame,
    /// a final window ending there.
    pub fn new(frames: usize, window: usize, stride: usize, weighting: Weighting) -> Result<Self, EngineError> {
        validate_window(window, stride)?;
        if frames < window {
            // Shorter clips are the caller's fallback case (plain sampling).
            return Err(EngineError::Request(format!("{frames} frames is fewer than the FreeNoise window of {window}")));
        }
        let mut windows: Vec<Window> =
            (0..=(frames - window) / stride).map(|j| Window { start: j * stride, end: j * stride + window, merge_from: j * stride }).collect();
        let covered = windows.last().expect("at least one window").end;
        if covered < frames {
            // diffusers merges only the uncovered tail of this window; it then divides by one
            // position's weight (`weights[:, -k]`), a bug. Here each frame gets its own weight.
            windows.push(Window { start: frames - window, end: frames, merge_from: covered });
        }
        let weights = window_weights(window, weighting);
        let mut totals = vec![0f32; frames];
        for w in &windows {
            for f in w.merge_from..w.end {
                totals[f] += weights[f - w.start];
            }
        }
        Ok(Self { windows, weights, totals })
    }

    /// Per slot (window w, position p, as w·W + p): the share its output takes in its frame,
    /// weight over the frame's total; 0 for a tail window's slots that are not merged.
    pub fn slot_shares(&self) -> Vec<f32> {
        self.windows
            .iter()
            .flat_map(|span| (span.start..span.end).map(move |f| if f >= span.merge_from { self.weights[f - span.start] / self.totals[f] } else { 0.0 }))
            .collect()
    }
}

/// Window and stride limits, whatever the clip length.
pub fn validate_window(window: usize, stride: usize) -> Result<(), EngineError> {
    if window == 0 {
        return Err(EngineError::Request("the FreeNoise window (context length) must be at least 1 frame".into()));
    }
    if stride == 0 || stride > window {
        return Err(EngineError::Request(format!("the FreeNoise stride must be between 1 and the window ({window}); got {stride}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(plan: &WindowPlan) -> Vec<(usize, usize)> {
        plan.windows.iter().map(|w| (w.start, w.end)).collect()
    }

    #[test]
    fn window_lists_match_the_official_code() {
        let plan = WindowPlan::new(64, 16, 4, Weighting::Pyramid).unwrap();
        assert_eq!(spans(&plan), (0..13).map(|j| (4 * j, 4 * j + 16)).collect::<Vec<_>>());
        let plan = WindowPlan::new(128, 16, 4, Weighting::Pyramid).unwrap();
        assert_eq!(plan.windows.len(), 29);
        assert_eq!(plan.windows.last().unwrap().end, 128);
        let plan = WindowPlan::new(24, 8, 2, Weighting::Flat).unwrap();
        assert_eq!(spans(&plan), (0..9).map(|j| (2 * j, 2 * j + 8)).collect::<Vec<_>>());
        // 25 frames: the stride lands on 24, so a tail window (9, 25) fills frame 24 alone.
        let plan = WindowPlan::new(25, 16, 4, Weighting::Pyramid).unwrap();
        assert_eq!(spans(&plan), vec![(0, 16), (4, 20), (8, 24), (9, 25)]);
        assert_eq!(plan.windows[3].merge_from, 24);
        assert_eq!(plan.totals[24], plan.weights[15]);
    }

    #[test]
    fn weight_vectors_for_each_scheme() {
        assert_eq!(window_weights(16, Weighting::Pyramid), [1., 2., 3., 4., 5., 6., 7., 8., 8., 7., 6., 5., 4., 3., 2., 1.]);
        assert_eq!(window_weights(5, Weighting::Pyramid), [1., 2., 3., 2., 1.]);
        assert_eq!(window_weights(4, Weighting::DelayedReverseSawtooth), [0.01, 2., 2., 1.]);
        assert_eq!(window_weights(16, Weighting::DelayedReverseSawtooth)[..8], [0.01; 7].iter().chain(&[8.0]).cloned().collect::<Vec<f32>>()[..]);
        assert_eq!(window_weights(5, Weighting::DelayedReverseSawtooth), [0.01, 0.01, 3., 2., 1.]);
        assert_eq!(window_weights(3, Weighting::Flat), [1., 1., 1.]);
    }

    #[test]
    fn totals_are_the_sum_of_merged_weights() {
        let plan = WindowPlan::new(24, 8, 2, Weighting::Pyramid).unwrap();
        // Frame 0 is only in window 0 at position 0; frame 8 is in windows 1..=4 at positions 6,4,2,0.
        assert_eq!(plan.totals[0], 1.0);
        assert_eq!(plan.totals[8], 2.0 + 4.0 + 3.0 + 1.0);
    }

    #[test]
    fn each_frame_takes_shares_that_sum_to_one() {
        for (frames, window, stride) in [(64, 16, 4), (25, 16, 4), (24, 8, 2)] {
            let plan = WindowPlan::new(frames, window, stride, Weighting::Pyramid).unwrap();
            let shares = plan.slot_shares();
            let mut per_frame = vec![0f32; frames];
            for (slot, share) in shares.iter().enumerate() {
                per_frame[plan.windows[slot / window].start + slot % window] += share;
            }
            assert!(per_frame.iter().all(|s| (s - 1.0).abs() < 1e-6), "{frames}/{window}/{stride}: {per_frame:?}");
        }
    }

    #[test]
    fn bad_windows_are_refused() {
        assert!(WindowPlan::new(64, 16, 0, Weighting::Flat).unwrap_err().to_string().contains("stride"));
        assert!(WindowPlan::new(64, 16, 17, Weighting::Flat).unwrap_err().to_string().contains("stride"));
        assert!(WindowPlan::new(8, 16, 4, Weighting::Flat).unwrap_err().to_string().contains("fewer"));
    }
}

//! Training batches from the procedural data set, as host arrays.

use crate::dataset::{ClipSpec, Split, FRAMES, SIZE};
use crate::rng::SplitMix64;

const FRAME: usize = 3 * SIZE * SIZE;

/// `[frames, 3, SIZE, SIZE]` in [-1, 1]: frames drawn from fresh training clips, four per clip.
pub fn frames(rng: &mut SplitMix64, count: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(count * FRAME);
    while out.len() < count * FRAME {
        let clip = ClipSpec::sample(rng, Split::Train).render();
        for _ in 0..4.min(count - out.len() / FRAME) {
            let f = (rng.next_u64() % FRAMES as u64) as usize;
            out.extend(clip[f * FRAME..(f + 1) * FRAME].iter().map(|v| v * 2.0 - 1.0));
        }
    }
    out
}

/// `clips` training clips: pixels `[clips·FRAMES, 3, SIZE, SIZE]` in [-1, 1] and captions.
pub fn clips(rng: &mut SplitMix64, clips: usize) -> (Vec<f32>, Vec<String>) {
    let mut pixels = Vec::with_capacity(clips * FRAMES * FRAME);
    let mut captions = Vec::with_capacity(clips);
    for _ in 0..clips {
        let spec = ClipSpec::sample(rng, Split::Train);
        pixels.extend(spec.render().into_iter().map(|v| v * 2.0 - 1.0));
        captions.push(spec.caption());
    }
    (pixels, captions)
}

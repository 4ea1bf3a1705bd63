//! Initial noise for long clips. `Shuffle` is FreeNoise's rescheduling: base noise for the first
//! window; each later block of `stride` frames is a shuffled copy of the block `window` frames
//! earlier (sequentially, so a source may itself be a copy). Everything is drawn from the seed
//! with the engine's own generator, so it is the same on every backend.

use crate::options::choice;
use crate::rng::SplitMix64;

choice! {
    /// Where each frame's initial noise comes from.
    pub enum NoiseType {
        /// FreeNoise's rescheduling.
        Shuffle = ("shuffle", "Shuffled windows"),
        /// Frames at and after the window repeat the first window.
        Repeat = ("repeat", "Repeated window"),
        /// Fresh noise for every frame.
        Random = ("random", "Independent"),
    }
}

/// For each frame, the base-noise frame it takes its noise from.
pub fn source_frames(frames: usize, window: usize, stride: usize, noise: NoiseType, seed: u64) -> Vec<usize> {
    let mut source: Vec<usize> = (0..frames).collect();
    match noise {
        NoiseType::Random => {}
        NoiseType::Repeat => {
            for (f, s) in source.iter_mut().enumerate().skip(window) {
                *s = f % window;
            }
        }
        NoiseType::Shuffle => {
            // A stream of its own, so the permutations do not depend on how much noise was drawn.
            let mut rng = SplitMix64::new(seed ^ 0x5348_5546_464C_4521);
            let mut i = window;
            while i < frames {
                let block: Vec<usize> = (i - window..i - window + stride).collect();
                let permuted = permute(&block, &mut rng);
                // A ragged tail takes the first frames of the permutation, as diffusers does.
                for (k, &from) in permuted.iter().enumerate().take(frames - i) {
                    source[i + k] = source[from];
                }
                i += stride;
            }
        }
    }
    source
}

/// Fisher–Yates shuffle.
fn permute(items: &[usize], rng: &mut SplitMix64) -> Vec<usize> {
    let mut out = items.to_vec();
    for i in (1..out.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        out.swap(i, j);
    }
    out
}

/// Noise `[channels, frames, pixels]` (flattened, row-major) for a clip: base noise drawn for
/// every frame from `seed`, then gathered through [`source_frames`].
pub fn clip_noise(channels: usize, frames: usize, pixels: usize, window: usize, stride: usize, noise: NoiseType, seed: u64) -> Vec<f32> {
    let base = SplitMix64::new(seed).normals(channels * frames * pixels);
    let source = source_frames(frames, window.min(frames), stride, noise, seed);
    let mut out = Vec::with_capacity(base.len());
    for c in 0..channels {
        for &s in &source {
            let start = (c * frames + s) * pixels;
            out.extend_from_slice(&base[start..start + pixels]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shuffle_permutes_the_block_one_window_back() {
        for (frames, window, stride) in [(64, 16, 4), (128, 16, 4), (24, 8, 2)] {
            let source = source_frames(frames, window, stride, NoiseType::Shuffle, 7);
            assert_eq!(&source[..window], &(0..window).collect::<Vec<_>>()[..]);
            for start in (window..frames).step_by(stride) {
                let mut block: Vec<usize> = source[start..start + stride].to_vec();
                let mut earlier: Vec<usize> = source[start - window..start - window + stride].to_vec();
                block.sort();
                earlier.sort();
                assert_eq!(block, earlier, "frames {start}.. of {frames} are not a permutation of the block {window} earlier");
            }
            // Only base frames of the first window are ever used: no fresh noise after it.
            assert!(source.iter().all(|&s| s < window));
            assert_eq!(source, source_frames(frames, window, stride, NoiseType::Shuffle, 7), "reproducible");
            assert_ne!(source, source_frames(frames, window, stride, NoiseType::Shuffle, 8), "seeded");
        }
    }

    #[test]
    fn ragged_tail_takes_a_prefix_of_a_permutation() {
        let source = source_frames(25, 16, 4, NoiseType::Shuffle, 3);
        assert!(source[24] < 16, "frame 24 takes a first-window frame: {}", source[24]);
        let mut tail_block: Vec<usize> = source[20..24].to_vec();
        let mut origin: Vec<usize> = source[4..8].to_vec();
        tail_block.sort();
        origin.sort();
        assert_eq!(tail_block, origin);
        assert!(source[8..12].contains(&source[24]), "frame 24 copies one of frames 8..12");
    }

    #[test]
    fn repeat_and_random() {
        assert_eq!(source_frames(40, 16, 4, NoiseType::Repeat, 0)[16..20], [0, 1, 2, 3]);
        assert_eq!(source_frames(40, 16, 4, NoiseType::Repeat, 0)[39], 7);
        assert_eq!(source_frames(20, 16, 4, NoiseType::Random, 0), (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn clip_noise_copies_whole_frames() {
        let noise = clip_noise(2, 24, 3, 8, 2, NoiseType::Shuffle, 5);
        let source = source_frames(24, 8, 2, NoiseType::Shuffle, 5);
        for f in 0..24 {
            for c in 0..2 {
                assert_eq!(noise[(c * 24 + f) * 3..(c * 24 + f + 1) * 3], noise[(c * 24 + source[f]) * 3..(c * 24 + source[f] + 1) * 3]);
            }
        }
    }
}

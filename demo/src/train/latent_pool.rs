//! Stage 2's clip pool: training clips encoded once by the frozen VAE encoder, kept on disk
//! beside the checkpoint and reused by later batches.
//!
//! Why: the encoder's forward pass costs about twice the small UNet's forward and backward for
//! the same clip, so encoding every clip afresh spent most of a step on a frozen model. Clip `i` of the pool is a pure function of the recipe seed and `i`
//! (rendered from its own seed, encoded by the same weights), so the pool file can run ahead of
//! the last checkpoint without changing what a resumed run draws.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::dataset::{ClipSpec, Split, Style, FRAMES};
use engine::EngineError;

use super::model_dir::io;
use super::run::stage_rng;

pub struct LatentPool {
    path: PathBuf,
    /// Beside the pool: clip `i`'s caption on line `i` (`latent_pool.txt`), so probes in
    /// `tests/reference/` can pair the pool's latents with their captions.
    captions_path: PathBuf,
    seed: u64,
    /// How the clips are drawn (the recipe's).
    style: Style,
    /// The recipe's `focus_motions`: the only motions drawn, when set.
    motions: Option<Vec<usize>>,
    /// Latent values per clip: `C·FRAMES·h·w`.
    per_clip: usize,
    latents: Vec<f32>,
    captions: Vec<String>,
}

impl LatentPool {
    /// Reads the whole clips in `path` (a torn last clip, from a run stopped mid-write, is dropped
    /// and rewritten).
    pub fn open(path: &Path, seed: u64, style: Style, motions: Option<Vec<usize>>, per_clip: usize) -> Result<Self, EngineError> {
        let bytes = if path.exists() { fs::read(path).map_err(|e| io(path, e))? } else { Vec::new() };
        let whole = bytes.len() / (per_clip * 4) * per_clip * 4;
        if whole != bytes.len() {
            fs::write(path, &bytes[..whole]).map_err(|e| io(path, e))?;
        }
        let latents: Vec<f32> = bytes[..whole].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let count = latents.len() / per_clip;
        let captions: Vec<String> = (0..count).map(|i| spec(seed, style, motions.as_deref(), i).caption()).collect();
        let captions_path = path.with_extension("txt");
        fs::write(&captions_path, captions.iter().map(|c| format!("{c}\n")).collect::<String>()).map_err(|e| io(&captions_path, e))?;
        Ok(Self { path: path.to_path_buf(), captions_path, seed, style, motions, per_clip, latents, captions })
    }

    fn len(&self) -> usize {
        self.captions.len()
    }

    /// Renders, encodes and stores clips until the pool holds `count`, [`ENCODE_CLIPS`] at a
    /// time. `encode` maps pixels `[clips·FRAMES, 3, SIZE, SIZE]` in [-1, 1] to latents
    /// `[clips, C, FRAMES, h, w]`.
    pub fn fill_to(&mut self, count: usize, encode: impl Fn(Vec<f32>, usize) -> Result<Vec<f32>, EngineError>) -> Result<(), EngineError> {
        while self.len() < count {
            self.append((count - self.len()).min(ENCODE_CLIPS), &encode)?;
        }
        Ok(())
    }

    /// Renders, encodes and stores the next `count` clips.
    fn append(&mut self, count: usize, encode: impl Fn(Vec<f32>, usize) -> Result<Vec<f32>, EngineError>) -> Result<(), EngineError> {
        let new: Vec<ClipSpec> = (self.len()..self.len() + count).map(|i| spec(self.seed, self.style, self.motions.as_deref(), i)).collect();
        let pixels: Vec<f32> = new.iter().flat_map(|s| s.render()).map(|v| v * 2.0 - 1.0).collect();
        let latents = encode(pixels, new.len())?;
        if latents.len() != new.len() * self.per_clip {
            return Err(EngineError::Request(format!("the encoder gave {} latent values for {} clips of {}", latents.len(), new.len(), self.per_clip)));
        }
        let mut file = OpenOptions::new().create(true).append(true).open(&self.path).map_err(|e| io(&self.path, e))?;
        let bytes: Vec<u8> = latents.iter().flat_map(|v| v.to_le_bytes()).collect();
        file.write_all(&bytes).map_err(|e| io(&self.path, e))?;
        let lines: String = new.iter().map(|s| format!("{}\n", s.caption())).collect();
        let mut captions = OpenOptions::new().append(true).open(&self.captions_path).map_err(|e| io(&self.captions_path, e))?;
        captions.write_all(lines.as_bytes()).map_err(|e| io(&self.captions_path, e))?;
        self.latents.extend(latents);
        self.captions.extend(new.iter().map(ClipSpec::caption));
        Ok(())
    }

    /// Clip `i`'s latents `[C, FRAMES, h, w]` and caption.
    pub fn clip(&self, i: usize) -> (&[f32], &str) {
        (&self.latents[i * self.per_clip..(i + 1) * self.per_clip], &self.captions[i])
    }
}

/// Clips encoded in one call: a pool's starting fill (hundreds of clips) in one batch would
/// hold gigabytes of encoder activations.
const ENCODE_CLIPS: usize = 8;

/// Clip `i` of the pool, from its own seed.
fn spec(seed: u64, style: Style, motions: Option<&[usize]>, i: usize) -> ClipSpec {
    ClipSpec::sample(&mut stage_rng(seed, 4, i), Split::Train, motions, style)
}

/// Latent values per clip of `FRAMES` frames, for a VAE with `channels` latent channels and
/// `latent_size` latents per side.
pub fn per_clip(channels: usize, latent_size: usize) -> usize {
    channels * FRAMES * latent_size * latent_size
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::STYLE;

    /// A stand-in encoder: each clip's latents are its first pixel repeated.
    fn encode(per_clip: usize) -> impl Fn(Vec<f32>, usize) -> Result<Vec<f32>, EngineError> {
        move |pixels, clips| {
            let per_pixels = pixels.len() / clips;
            Ok((0..clips).flat_map(|c| std::iter::repeat_n(pixels[c * per_pixels], per_clip)).collect())
        }
    }

    #[test]
    fn clips_survive_reopening_and_a_torn_tail_is_dropped() {
        let path = std::env::temp_dir().join(format!("freenoise-pool-test-{}.f32", std::process::id()));
        let _ = fs::remove_file(&path);
        let per_clip = 6;
        let mut pool = LatentPool::open(&path, 7, STYLE, None, per_clip).unwrap();
        pool.fill_to(3, encode(per_clip)).unwrap();
        pool.fill_to(2, encode(per_clip)).unwrap(); // already there: nothing encoded
        assert_eq!(pool.len(), 3);
        let first: Vec<(Vec<f32>, String)> = (0..3).map(|i| (pool.clip(i).0.to_vec(), pool.clip(i).1.to_string())).collect();
        assert_ne!(first[0].1, first[1].1, "clips come from their own seeds");

        // A run stopped mid-write leaves part of a clip: reopening keeps the whole ones.
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&[0u8; 10]).unwrap();
        let mut reopened = LatentPool::open(&path, 7, STYLE, None, per_clip).unwrap();
        assert_eq!(reopened.len(), 3);
        for (i, (latents, caption)) in first.iter().enumerate() {
            assert_eq!((reopened.clip(i).0, reopened.clip(i).1), (latents.as_slice(), caption.as_str()));
        }
        let listed = |pool: &LatentPool| fs::read_to_string(&pool.captions_path).unwrap().lines().map(String::from).collect::<Vec<_>>();
        assert_eq!(listed(&reopened), first.iter().map(|f| f.1.clone()).collect::<Vec<_>>(), "captions listed beside the pool");
        // Growing after reopening gives the clip an uninterrupted pool would hold.
        reopened.fill_to(4, encode(per_clip)).unwrap();
        assert_eq!(listed(&reopened).len(), 4);
        assert_eq!(listed(&reopened)[3], reopened.clip(3).1);
        let mut fresh =
            LatentPool::open(&std::env::temp_dir().join(format!("freenoise-pool-test-{}-b.f32", std::process::id())), 7, STYLE, None, per_clip).unwrap();
        fresh.fill_to(4, encode(per_clip)).unwrap();
        assert_eq!(reopened.clip(3), fresh.clip(3));
        // A starting fill larger than one encoder call comes in several, in order.
        fresh.fill_to(21, encode(per_clip)).unwrap();
        assert_eq!((fresh.len(), listed(&fresh).len()), (21, 21));
        assert_eq!(fresh.clip(20).1, spec(7, STYLE, None, 20).caption());
        assert_eq!(fresh.clip(3), reopened.clip(3));
        assert_eq!(fs::metadata(&path).unwrap().len(), 4 * per_clip as u64 * 4);

        let bad = LatentPool::open(&path, 7, STYLE, None, per_clip).unwrap().fill_to(5, |_, _| Ok(vec![0.0; 2]));
        assert!(bad.unwrap_err().to_string().contains("latent values"));
        for file in [path.clone(), path.with_extension("txt")] {
            fs::remove_file(file).unwrap();
        }
        let other = std::env::temp_dir().join(format!("freenoise-pool-test-{}-b.f32", std::process::id()));
        for file in [other.clone(), other.with_extension("txt")] {
            fs::remove_file(file).unwrap();
        }
    }
}

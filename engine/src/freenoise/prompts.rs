//! Prompt travel: a map {frame → prompt}, with per-frame embeddings interpolated between
//! keyframes (diffusers' semantics: frame 0 required, the last keyframe held to the end), or
//! each keyframe's prompt held until the next ([`Interpolation::Hold`]).

use crate::options::choice;
use crate::EngineError;

choice! {
    /// How the prompt goes from one keyframe to the next.
    pub enum Interpolation {
        /// Each keyframe's prompt from its frame until the next keyframe; FreeNoise's overlapping
        /// windows make the change a transition over about a window's frames. Why: a user who
        /// writes "moving left" at frame 0 and "moving up" from frame 32 means left until frame
        /// 32, where diffusers' travel is already half "up" at frame 16 (the demo model's turns
        /// follow held prompts far more often: `docs/demo-model-history.md`, stop 31).
        Hold = ("hold", "Change at each keyframe"),
        /// Diffusers' prompt travel: frame by frame from one keyframe's embedding to the next's.
        Linear = ("linear", "Blend from keyframe to keyframe"),
        /// As `Linear`, along the great circle between the two embeddings.
        Spherical = ("spherical", "Blend along the sphere"),
    }
}

/// Validated keyframes: sorted, starting at 0, distinct, inside the clip, non-empty prompts.
#[derive(Clone, Debug, PartialEq)]
pub struct Keyframes(Vec<(usize, String)>);

impl Keyframes {
    pub fn new(keys: Vec<(usize, String)>, frames: usize) -> Result<Self, EngineError> {
        Self::checked(keys, frames, false)
    }

    /// As [`Self::new`]; `allow_empty` admits empty prompts (negative prompts may be empty).
    pub fn checked(mut keys: Vec<(usize, String)>, frames: usize, allow_empty: bool) -> Result<Self, EngineError> {
        keys.sort_by_key(|(f, _)| *f);
        if keys.first().map(|(f, _)| *f) != Some(0) {
            return Err(EngineError::Request("prompt keyframes must start at frame 0".into()));
        }
        for pair in keys.windows(2) {
            if pair[0].0 == pair[1].0 {
                return Err(EngineError::Request(format!("frame {} has two prompts", pair[0].0)));
            }
        }
        if let Some((f, _)) = keys.iter().find(|(f, _)| *f >= frames) {
            return Err(EngineError::Request(format!("keyframe {f} is outside the clip (frames 0..{})", frames - 1)));
        }
        if let Some((f, _)) = keys.iter().find(|(_, p)| !allow_empty && p.trim().is_empty()) {
            return Err(EngineError::Request(format!("the prompt at frame {f} is empty")));
        }
        Ok(Self(keys))
    }

    pub fn single(prompt: &str) -> Self {
        Self(vec![(0, prompt.to_string())])
    }

    pub fn prompts(&self) -> Vec<&str> {
        self.0.iter().map(|(_, p)| p.as_str()).collect()
    }

    pub fn frames(&self) -> Vec<usize> {
        self.0.iter().map(|(f, _)| *f).collect()
    }

    /// Per frame `(from, to, t)`: blend keyframe `from` into `to` by `t` ∈ [0, 1]. With
    /// [`Interpolation::Hold`] every frame is its latest keyframe's (`t` = 0, `from` = `to`).
    pub fn blend_plan(&self, frames: usize, how: Interpolation) -> Vec<(usize, usize, f32)> {
        let keys = self.frames();
        (0..frames)
            .map(|f| {
                let next = keys.iter().position(|&k| k > f);
                match next {
                    None => (keys.len() - 1, keys.len() - 1, 0.0),
                    Some(n) if how == Interpolation::Hold => (n - 1, n - 1, 0.0),
                    Some(n) => {
                        let (a, b) = (keys[n - 1], keys[n]);
                        (n - 1, n, (f - a) as f32 / (b - a) as f32)
                    }
                }
            })
            .collect()
    }

    /// Per frame, the keyframe it travels towards (the next keyframe after it, or the last):
    /// motion injection's target prompt. With two prompts that is the second for every frame,
    /// as in the official code.
    pub fn targets(&self, frames: usize) -> Vec<usize> {
        let keys = self.frames();
        (0..frames).map(|f| keys.iter().position(|&k| k > f).unwrap_or(keys.len() - 1)).collect()
    }
}

/// Blends two embeddings (flattened) by `t`; holding keeps `a`.
pub fn blend(a: &[f32], b: &[f32], t: f32, how: Interpolation) -> Vec<f32> {
    match how {
        Interpolation::Hold => a.to_vec(),
        Interpolation::Linear => a.iter().zip(b).map(|(x, y)| (1.0 - t) * x + t * y).collect(),
        Interpolation::Spherical => {
            let dot: f64 = a.iter().zip(b).map(|(x, y)| (*x as f64) * (*y as f64)).sum();
            let norms = a.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt() * b.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
            let cos = (dot / norms.max(1e-12)).clamp(-1.0, 1.0);
            let theta = cos.acos();
            if theta.abs() < 1e-4 {
                return blend(a, b, t, Interpolation::Linear);
            }
            let (wa, wb) = (((1.0 - t as f64) * theta).sin() / theta.sin(), (t as f64 * theta).sin() / theta.sin());
            a.iter().zip(b).map(|(x, y)| (wa * *x as f64 + wb * *y as f64) as f32).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[(usize, &str)]) -> Vec<(usize, String)> {
        list.iter().map(|(f, p)| (*f, p.to_string())).collect()
    }

    #[test]
    fn plans_blend_between_keyframes_and_hold_the_last() {
        let k = Keyframes::new(keys(&[(8, "b"), (0, "a")]), 16).unwrap();
        let plan = k.blend_plan(16, Interpolation::Linear);
        assert_eq!(plan[0], (0, 1, 0.0));
        assert_eq!(plan[4], (0, 1, 0.5));
        assert_eq!(plan[8], (1, 1, 0.0));
        assert_eq!(plan[15], (1, 1, 0.0));
        assert_eq!(k.blend_plan(16, Interpolation::Spherical), plan);
        let held: Vec<usize> = k
            .blend_plan(16, Interpolation::Hold)
            .iter()
            .map(|&(from, to, t)| {
                assert_eq!((from, t), (to, 0.0), "holding never blends");
                from
            })
            .collect();
        assert_eq!(held, [vec![0; 8], vec![1; 8]].concat(), "each prompt from its keyframe to the next");
        assert_eq!(k.targets(16), vec![1; 16]);
        let three = Keyframes::new(keys(&[(0, "a"), (4, "b"), (8, "c")]), 12).unwrap();
        assert_eq!(three.targets(12), vec![1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2]);
    }

    #[test]
    fn bad_keyframes_are_refused() {
        let err = |list: &[(usize, &str)]| Keyframes::new(keys(list), 16).unwrap_err().to_string();
        assert!(err(&[(2, "a")]).contains("start at frame 0"));
        assert!(err(&[(0, "a"), (3, "b"), (3, "c")]).contains("two prompts"));
        assert!(err(&[(0, "a"), (16, "b")]).contains("outside"));
        assert!(err(&[(0, "a"), (5, "  ")]).contains("empty"));
    }

    #[test]
    fn blending() {
        assert_eq!(blend(&[0.0, 2.0], &[2.0, 0.0], 0.25, Interpolation::Linear), vec![0.5, 1.5]);
        let s = blend(&[1.0, 0.0], &[0.0, 1.0], 0.5, Interpolation::Spherical);
        assert!((s[0] - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-6 && (s[1] - s[0]).abs() < 1e-6);
        assert_eq!(blend(&[0.0, 2.0], &[2.0, 0.0], 0.25, Interpolation::Hold), vec![0.0, 2.0]);
    }
}

//! Phase 1, the prompts: each keyframe prompt encoded once, then one text embedding per frame
//! travelling between them (and the negative prompts likewise, under guidance).

use burn::prelude::*;

use super::generate::read;
use super::{Pipeline, Request};
use crate::freenoise::prompts::{blend, Interpolation, Keyframes};
use crate::EngineError;

/// The UNet's text per frame, batch-major (`[uncond frames, cond frames]` under guidance):
/// `travel` as the prompts travel between keyframes, `target` each frame's own keyframe prompt
/// (what motion injection feeds the down and mid blocks).
pub struct PromptEmbeddings {
    pub travel: Tensor<3>,
    pub target: Tensor<3>,
}

impl Pipeline {
    /// The request's prompts and negative prompts as per-frame embeddings.
    pub(super) async fn encode_prompts(&self, request: &Request, warnings: &mut Vec<String>) -> Result<PromptEmbeddings, EngineError> {
        let frames = request.frames;
        let keyframes = if request.keyframes.is_empty() { Keyframes::single(&request.prompt) } else { Keyframes::new(request.keyframes.clone(), frames)? };
        let keys = self.encode_keyframes(&keyframes, warnings)?;
        let travel = self.travel(&keys, &keyframes, frames, request.interpolation).await?;
        let target = select_frames(Tensor::cat(keys, 0), &keyframes.targets(frames));
        if !request.guided() {
            return Ok(PromptEmbeddings { travel, target });
        }
        let negative_keyframes = if request.negative_keyframes.is_empty() {
            Keyframes::single(request.negative.as_deref().unwrap_or(""))
        } else {
            Keyframes::checked(request.negative_keyframes.clone(), frames, true)?
        };
        let negative_keys = self.encode_keyframes(&negative_keyframes, warnings)?;
        let negative = self.travel(&negative_keys, &negative_keyframes, frames, request.interpolation).await?;
        let with_uncond = |cond: Tensor<3>| Tensor::cat(vec![negative.clone(), cond], 0);
        Ok(PromptEmbeddings { travel: with_uncond(travel), target: with_uncond(target) })
    }

    /// `[1, tokens, dim]` text embedding of a prompt, with a warning if it was truncated.
    pub fn encode_prompt(&self, text: &str, warnings: &mut Vec<String>) -> Result<Tensor<3>, EngineError> {
        let tokens = self.tokenizer.encode(text)?;
        if tokens.dropped > 0 {
            warnings.push(format!(
                "the prompt is longer than the tokenizer's {} tokens: the last {} tokens were dropped",
                self.tokenizer.max_tokens(),
                tokens.dropped
            ));
        }
        let ids: Vec<i64> = tokens.ids.iter().map(|&id| id as i64).collect();
        let len = ids.len();
        Ok(self.text_encoder.forward(Tensor::from_data(TensorData::new(ids, [1, len]), &self.device)))
    }

    /// One `[1, tokens, dim]` embedding per keyframe prompt.
    fn encode_keyframes(&self, keyframes: &Keyframes, warnings: &mut Vec<String>) -> Result<Vec<Tensor<3>>, EngineError> {
        keyframes.prompts().iter().map(|p| self.encode_prompt(p, warnings)).collect()
    }

    /// Per-frame embeddings `[frames, tokens, dim]` travelling between keyframe embeddings.
    async fn travel(&self, keys: &[Tensor<3>], keyframes: &Keyframes, frames: usize, how: Interpolation) -> Result<Tensor<3>, EngineError> {
        let plan = keyframes.blend_plan(frames, how);
        let all = Tensor::cat(keys.to_vec(), 0);
        let [_, tokens, dim] = all.dims();
        match how {
            Interpolation::Linear | Interpolation::Hold => {
                let from = select_frames(all.clone(), &plan.iter().map(|p| p.0).collect::<Vec<_>>());
                let to = select_frames(all, &plan.iter().map(|p| p.1).collect::<Vec<_>>());
                let t: Vec<f32> = plan.iter().map(|p| p.2).collect();
                let t = Tensor::<1>::from_data(TensorData::new(t, [frames]), &self.device).reshape([frames, 1, 1]);
                Ok(from * (t.clone().neg() + 1.0) + to * t)
            }
            Interpolation::Spherical => {
                let values = read(all, "keyframe embeddings").await?;
                let size = tokens * dim;
                let key = |i: usize| &values[i * size..(i + 1) * size];
                let blended: Vec<f32> = plan.iter().flat_map(|&(a, b, t)| blend(key(a), key(b), t, how)).collect();
                Ok(Tensor::from_data(TensorData::new(blended, [frames, tokens, dim]), &self.device))
            }
        }
    }
}

/// Rows of `embeddings` `[keys, tokens, dim]` picked per frame.
fn select_frames(embeddings: Tensor<3>, rows: &[usize]) -> Tensor<3> {
    let device = embeddings.device();
    let ids: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
    embeddings.select(0, Tensor::<1, Int>::from_data(TensorData::new(ids, [rows.len()]), &device))
}

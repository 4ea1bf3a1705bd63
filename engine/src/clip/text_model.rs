//! transformers' `CLIPTextModel`: token + position embeddings, pre-norm encoder layers with a
//! causal mask, final layer norm. Keys with or without the `text_model.` prefix.

use burn::prelude::*;
use burn::tensor::activation::{gelu, sigmoid};

use super::ClipTextConfig;
use crate::blocks::multi_head_attention;
use crate::nn::{Embedding, LayerNorm, Linear};
use crate::store::ModelStore;
use crate::weights::{Builder, WeightFiles};
use crate::EngineError;

#[derive(Module, Debug)]
pub struct ClipAttention {
    pub q_proj: Linear,
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub out_proj: Linear,
    pub heads: usize,
}

#[derive(Module, Debug)]
pub struct ClipMlp {
    pub fc1: Linear,
    pub fc2: Linear,
    pub quick_gelu: bool,
}

#[derive(Module, Debug)]
pub struct ClipEncoderLayer {
    pub layer_norm1: LayerNorm,
    pub self_attn: ClipAttention,
    pub layer_norm2: LayerNorm,
    pub mlp: ClipMlp,
}

#[derive(Module, Debug)]
pub struct ClipEmbeddings {
    pub token_embedding: Embedding,
    pub position_embedding: Embedding,
}

#[derive(Module, Debug)]
pub struct ClipTextModel {
    pub embeddings: ClipEmbeddings,
    pub layers: Vec<ClipEncoderLayer>,
    pub final_layer_norm: LayerNorm,
}

impl ClipTextModel {
    /// `b` is at the model root; the `text_model.` prefix is used when the checkpoint has it.
    pub fn new(b: &Builder, cfg: &ClipTextConfig) -> Self {
        let prefixed = b.push("text_model");
        let b = if prefixed.exists() { prefixed } else { b.clone() };
        let (d, eps) = (cfg.hidden_size, cfg.layer_norm_eps);
        let layer = |i: usize| {
            let l = b.push("encoder").push("layers").push(i);
            let a = l.push("self_attn");
            ClipEncoderLayer {
                layer_norm1: LayerNorm::new(&l.push("layer_norm1"), d, eps),
                self_attn: ClipAttention {
                    q_proj: Linear::new(&a.push("q_proj"), d, d, true),
                    k_proj: Linear::new(&a.push("k_proj"), d, d, true),
                    v_proj: Linear::new(&a.push("v_proj"), d, d, true),
                    out_proj: Linear::new(&a.push("out_proj"), d, d, true),
                    heads: cfg.num_attention_heads,
                },
                layer_norm2: LayerNorm::new(&l.push("layer_norm2"), d, eps),
                mlp: ClipMlp {
                    fc1: Linear::new(&l.push("mlp").push("fc1"), d, cfg.intermediate_size, true),
                    fc2: Linear::new(&l.push("mlp").push("fc2"), cfg.intermediate_size, d, true),
                    quick_gelu: cfg.hidden_act == "quick_gelu",
                },
            }
        };
        let e = b.push("embeddings");
        Self {
            embeddings: ClipEmbeddings {
                token_embedding: Embedding::new(&e.push("token_embedding"), cfg.vocab_size, d),
                position_embedding: Embedding::new(&e.push("position_embedding"), cfg.max_position_embeddings, d),
            },
            layers: (0..cfg.num_hidden_layers).map(layer).collect(),
            final_layer_norm: LayerNorm::new(&b.push("final_layer_norm"), d, eps),
        }
    }

    /// Longest id sequence the position table covers (`max_position_embeddings`).
    pub fn max_positions(&self) -> usize {
        self.embeddings.position_embedding.weight.dims()[0]
    }

    /// `[batch, tokens]` ids → last hidden state `[batch, tokens, hidden]`.
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let [batch, tokens] = ids.dims();
        let device = ids.device();
        let positions = Tensor::<1, Int>::arange(0..tokens as i64, &device).reshape([1, tokens]);
        let mut x = self.embeddings.token_embedding.forward(ids) + self.embeddings.position_embedding.forward(positions);
        let mask = causal_mask(tokens, &device);
        for layer in &self.layers {
            let normed = layer.layer_norm1.forward(x.clone());
            let attn = &layer.self_attn;
            let mixed = multi_head_attention(
                attn.q_proj.forward(normed.clone()),
                attn.k_proj.forward(normed.clone()),
                attn.v_proj.forward(normed),
                attn.heads,
                Some(mask.clone()),
            );
            x = x + attn.out_proj.forward(mixed);
            let hidden = layer.mlp.fc1.forward(layer.layer_norm2.forward(x.clone()));
            let hidden = if layer.mlp.quick_gelu { hidden.clone() * sigmoid(hidden.mul_scalar(1.702)) } else { gelu(hidden) };
            x = x + layer.mlp.fc2.forward(hidden);
        }
        let _ = batch;
        self.final_layer_norm.forward(x)
    }
}

/// `[1, 1, n, n]`: 0 on and below the diagonal, a huge negative above (a token sees only the past).
fn causal_mask(n: usize, device: &Device) -> Tensor<4> {
    let values: Vec<f32> = (0..n * n).map(|i| if i % n > i / n { -1e30 } else { 0.0 }).collect();
    Tensor::from_data(TensorData::new(values, [1, 1, n, n]), device)
}

/// Loads `text_encoder/` (`model.safetensors`, or the fp16 variant).
pub fn load_text_encoder(store: &dyn ModelStore, device: &Device) -> Result<ClipTextModel, EngineError> {
    let path = "text_encoder/config.json";
    let config = ClipTextConfig::from_json(&store.read_text(path)?, &format!("{}/{path}", store.name()))?;
    let mut files = WeightFiles::new();
    files.add(store.open(&crate::store::weights_file(store, "text_encoder", "model")?)?)?;
    let builder = Builder::load(files, device);
    let model = ClipTextModel::new(&builder, &config);
    // Old checkpoints carry the position-id buffer; positions are computed instead.
    builder.finish("text encoder", &["text_model.embeddings.position_ids", "embeddings.position_ids"])?;
    Ok(model)
}

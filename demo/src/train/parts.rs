//! The demo model's three trainable parts, built fresh from the recipe's seed or loaded from a
//! checkpoint folder, each with the diffusers key of every parameter (for saving).

use std::collections::BTreeMap;

use burn::module::ParamId;
use burn::prelude::*;

use super::model_dir::{ModelDir, TEXT_WEIGHTS, UNET_WEIGHTS, VAE_WEIGHTS};
use super::recipe;
use engine::clip::{ClipTextConfig, ClipTextModel};
use engine::unet::{UNetConfig, UNetMotionModel};
use engine::vae::{VaeConfig, VaeDecoder, VaeEncoder};
use engine::weights::{Builder, FileSource, WeightFiles};
use engine::EngineError;

pub type Keys = BTreeMap<ParamId, String>;

const TEXT_CONFIG: &str = "text_encoder/config.json";
const UNET_CONFIG: &str = "unet/config.json";

/// Fresh token embeddings' std over transformers' 0.02: 0.5.
const TOKEN_INIT_SCALE: f32 = 25.0;

/// Encoder and decoder, trained together in stage 1.
#[derive(Module, Debug)]
pub struct Autoencoder {
    pub encoder: VaeEncoder,
    pub decoder: VaeDecoder,
}

/// Text encoder and UNet, trained together in stage 2.
#[derive(Module, Debug)]
pub struct Denoiser {
    pub text_encoder: ClipTextModel,
    pub unet: UNetMotionModel,
}

/// A fresh builder (seeded) or one reading `file` from the checkpoint folder.
fn builder(dir: Option<&ModelDir>, file: &str, seed: u64, device: &Device) -> Result<Builder, EngineError> {
    match dir {
        None => Ok(Builder::init(seed, device)),
        Some(dir) => {
            let mut files = WeightFiles::new();
            files.add(Box::new(FileSource::open(&dir.root.join(file))?))?;
            Ok(Builder::load(files, device))
        }
    }
}

pub fn vae_config(scaling_factor: f32) -> VaeConfig {
    VaeConfig::from_json(&recipe::vae_config(scaling_factor).to_string(), "recipe vae config").expect("the recipe's VAE config is valid")
}

/// The autoencoder; `scaling_factor` goes into the decoder's config (1 while training it).
pub fn autoencoder(dir: Option<&ModelDir>, seed: u64, scaling_factor: f32, device: &Device) -> Result<(Autoencoder, Keys), EngineError> {
    let cfg = vae_config(scaling_factor);
    let b = builder(dir, VAE_WEIGHTS, seed, device)?;
    let model = Autoencoder { encoder: VaeEncoder::new(&b, &cfg)?, decoder: VaeDecoder::new(&b, &cfg) };
    let keys = b.keys();
    b.finish("VAE checkpoint", &[])?;
    Ok((model, keys))
}

/// Text encoder and UNet: a checkpoint to its own config files, a fresh model to the recipe's.
pub fn denoiser(dir: Option<&ModelDir>, seed: u64, device: &Device) -> Result<(Denoiser, Keys, Keys), EngineError> {
    let (text_json, unet_json) = match dir {
        Some(dir) => (dir.read_text(TEXT_CONFIG)?, dir.read_text(UNET_CONFIG)?),
        None => (recipe::text_config().to_string(), recipe::unet_config().to_string()),
    };
    let text_cfg = ClipTextConfig::from_json(&text_json, TEXT_CONFIG)?;
    let unet_cfg = UNetConfig::from_json(&unet_json, UNET_CONFIG, None)?;
    let tb = builder(dir, TEXT_WEIGHTS, seed.wrapping_add(1), device)?;
    // Fresh models get transformers' `text_model.` prefix; saved ones already have it.
    let text_root = if tb.is_loading() { tb.clone() } else { tb.push("text_model") };
    let mut text_encoder = ClipTextModel::new(&text_root, &text_cfg);
    if !tb.is_loading() {
        // Token embeddings start far larger than transformers' 0.02 (the position table keeps
        // it): after the layer norms every hidden state, the padding ones included (causal
        // attention averages the words before them), then carries the caption's words rather
        // than mostly its positions, so the UNet's cross-attention has a caption signal to
        // follow from the first step. With 0.02 the trained encoder's outputs barely differed
        // between captions and the UNet learnt to ignore them (`docs/demo-model-history.md`).
        let e = &mut text_encoder.embeddings.token_embedding;
        // Rebuilt from data and marked trainable: a parameter must be a leaf (an op on it
        // would be a graph node), and a tensor made from data is not tracked by itself.
        e.weight = e.weight.clone().map(|w| {
            let (device, shape) = (w.device(), w.dims());
            let values: Vec<f32> = w.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 weights").iter().map(|v| v * TOKEN_INIT_SCALE).collect();
            Tensor::from_data(TensorData::new(values, shape), &device).require_grad()
        });
    }
    let ub = builder(dir, UNET_WEIGHTS, seed.wrapping_add(2), device)?;
    let unet = UNetMotionModel::new(&ub, &unet_cfg);
    let (text_keys, unet_keys) = (tb.keys(), ub.keys());
    tb.finish("text encoder checkpoint", &[])?;
    ub.finish("UNet checkpoint", &[])?;
    Ok((Denoiser { text_encoder, unet }, text_keys, unet_keys))
}

#[cfg(test)]
mod tests {
    use burn::module::{ModuleVisitor, Param};

    use super::*;

    /// Parameters the optimizer would never update.
    struct Frozen<'a> {
        keys: &'a Keys,
        names: Vec<String>,
    }

    impl ModuleVisitor for Frozen<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let name = self.keys.get(&param.id).cloned().unwrap_or_else(|| param.id.to_string());
            // The motion modules' sinusoidal position tables are fixed buffers in diffusers too.
            if !param.val().is_require_grad() && !name.ends_with("pos_embed.pe") {
                self.names.push(name);
            }
        }
    }

    /// The rescaled token table once lost its gradient (a tensor rebuilt from data is not
    /// tracked): every parameter of a fresh denoiser must train.
    #[test]
    fn every_parameter_of_a_fresh_denoiser_trains() {
        let device = engine::Backend::cpu_device().autodiff();
        let (model, text_keys, unet_keys) = denoiser(None, 1, &device).unwrap();
        let mut frozen = Frozen { keys: &text_keys, names: Vec::new() };
        model.text_encoder.visit(&mut frozen);
        let mut frozen_unet = Frozen { keys: &unet_keys, names: Vec::new() };
        model.unet.visit(&mut frozen_unet);
        frozen.names.extend(frozen_unet.names);
        assert!(frozen.names.is_empty(), "not trainable: {:?}", frozen.names);
        let table = model.text_encoder.embeddings.token_embedding.weight.val();
        let std = table.clone().sub(table.mean().unsqueeze()).powi_scalar(2).mean().into_scalar::<f32>().sqrt();
        assert!((std - 0.02 * TOKEN_INIT_SCALE).abs() < 0.01, "token table std {std}");
    }
}

//! The memory a generation needs, known before any weights load: the largest single GPU buffer,
//! so a request the device cannot hold is refused up front (naming the limit and the longest
//! clip that fits), and a rough total for the page to show as the user types. WebGPU shows a
//! page no total memory figure, but it caps every buffer a shader binds
//! (`maxStorageBufferBindingSize`), and that cap is what long clips and large sizes hit first.
//!
//! The figures follow the engine's own data flow: spatial attention scores for `chunk` frames at
//! a time (split inference), the whole clip's activation entering each motion module, temporal
//! attention scores over a FreeNoise window (or the whole clip without FreeNoise), and the VAE's
//! full-resolution activation per decode chunk, at the device's float width (f32, or f16 on a
//! GPU with `shader-f16`).

use burn::module::Module;

use crate::pipeline::{Pipeline, Request};
use crate::store::{weights_file, ModelStore};
use crate::unet::{unet_config, unet_weight_files, UNetConfig};
use crate::vae::VaeConfig;
use crate::weights::read_header;
use crate::EngineError;

/// One buffer the generation allocates, in bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct BufferNeed {
    pub what: &'static str,
    pub bytes: u64,
}

/// What a request's memory depends on, read from the model's config files (and its weight
/// files' headers, when the store has them) without loading a weight.
#[derive(Clone, Debug)]
pub struct ModelShape {
    pub unet: UNetConfig,
    pub vae: VaeConfig,
    /// How many weight values inference loads; `None` when the store holds only the configs
    /// (a Hub model not downloaded yet).
    pub weight_values: Option<u64>,
    /// Bytes per value on the device: 4 (f32) or 2 (f16).
    pub value_bytes: u64,
}

/// A rough total for the page: weights plus the working memory at the peak, and the largest
/// single buffer (the figure a device's cap is checked against).
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub weight_bytes: Option<u64>,
    pub working_bytes: u64,
    pub largest: BufferNeed,
}

const F32: u64 = 4;
const F16: u64 = 2;

const SPATIAL: &str = "spatial attention scores";
const CLIP_ACTIVATION: &str = "the clip's activation in the motion modules";
const TEMPORAL: &str = "temporal attention scores";
const VAE_ACTIVATION: &str = "the VAE decoder's full-size activation";
const VAE_ATTENTION: &str = "the VAE decoder's attention scores";

/// Checkpoint tensors inference never loads, per component: CLIP's position ids (computed
/// instead) and the VAE's encoder half. Per file, since a bare CLIP checkpoint's keys also
/// start with `encoder.`.
const TEXT_UNUSED: &[&str] = &["text_model.embeddings.position_ids", "embeddings.position_ids"];
const VAE_UNUSED: &[&str] = &["encoder.", "quant_conv."];

impl ModelShape {
    /// Reads `vae/config.json`, `unet/config.json` (with the adapter's) and, when every weight
    /// file is present, their headers.
    pub fn read(store: &dyn ModelStore, adapter: Option<&dyn ModelStore>) -> Result<Self, EngineError> {
        let vae_path = "vae/config.json";
        let vae = VaeConfig::from_json(&store.read_text(vae_path)?, &format!("{}/{vae_path}", store.name()))?;
        let unet = unet_config(store, adapter)?;
        Ok(Self { unet, vae, weight_values: weight_values(store, adapter), value_bytes: F32 })
    }

    /// The same model computed in f16.
    pub fn in_f16(self) -> Self {
        Self { value_bytes: F16, ..self }
    }

    /// Every large buffer the request allocates (largest first).
    pub fn buffer_needs(&self, request: &Request) -> Vec<BufferNeed> {
        let scale = self.vae.scale_factor();
        let tokens = ((request.height / scale) * (request.width / scale)) as u64;
        let batch: u64 = if request.guidance > 1.0 { 2 } else { 1 };
        let frames = request.frames as u64;
        let chunk = request.chunk.map_or(frames, |c| (c as u64).min(frames));
        let unet = &self.unet;
        let heads = unet.num_attention_heads.first().copied().unwrap_or(1) as u64;
        let motion_heads = unet.motion.num_attention_heads.first().copied().unwrap_or(1) as u64;
        let channels = unet.block_out_channels.first().copied().unwrap_or(1) as u64;
        let window = match &request.free_noise {
            Some(s) if request.frames > s.window => s.window as u64,
            _ => frames,
        };
        let vae = &self.vae;
        let decode = (request.decode_chunk as u64).min(frames);
        let pixels = (request.height * request.width) as u64;
        let mut needs = vec![
            BufferNeed { what: SPATIAL, bytes: batch * chunk * heads * tokens * tokens * self.value_bytes },
            BufferNeed { what: CLIP_ACTIVATION, bytes: batch * frames * channels * tokens * self.value_bytes },
            BufferNeed { what: TEMPORAL, bytes: batch * tokens * motion_heads * window * window * self.value_bytes },
            BufferNeed { what: VAE_ACTIVATION, bytes: decode * vae.block_out_channels.first().copied().unwrap_or(1) as u64 * pixels * self.value_bytes },
        ];
        if vae.mid_block_add_attention {
            needs.push(BufferNeed { what: VAE_ATTENTION, bytes: decode * tokens * tokens * self.value_bytes });
        }
        needs.sort_by_key(|need| std::cmp::Reverse(need.bytes));
        needs
    }

    /// Weights plus the peak of working memory. The peak is an estimate from the data flow, not
    /// a measurement: in the UNet a block's input, its residual and its output live together
    /// (three clip activations) beside one attention's scores and their softmax; in the VAE
    /// three full-size activations beside its attention scores; the larger phase counts.
    pub fn estimate(&self, request: &Request) -> Estimate {
        let needs = self.buffer_needs(request);
        let bytes = |what: &str| needs.iter().find(|n| n.what == what).map_or(0, |n| n.bytes);
        let unet = 3 * bytes(CLIP_ACTIVATION) + 2 * bytes(SPATIAL).max(bytes(TEMPORAL));
        let vae = 3 * bytes(VAE_ACTIVATION) + bytes(VAE_ATTENTION);
        let weight_bytes = self.weight_values.map(|v| v * self.value_bytes);
        Estimate { weight_bytes, working_bytes: unet.max(vae), largest: needs[0].clone() }
    }

    /// Refuses a request whose largest buffer exceeds `limit` bytes, saying which buffer, the
    /// limit, and the most frames this size allows.
    pub fn check_buffer_limit(&self, request: &Request, limit: u64) -> Result<(), EngineError> {
        let largest = |r: &Request| self.buffer_needs(r).remove(0);
        let need = largest(request);
        if need.bytes <= limit {
            return Ok(());
        }
        let fits = (1..request.frames).rev().find(|&frames| largest(&Request { frames, ..request.clone() }).bytes <= limit);
        let advice = match fits {
            Some(n) => format!("at {}×{} this device can make at most {n} frames; use fewer frames or a smaller size", request.width, request.height),
            None => format!("even one frame is too much at {}×{}; use a smaller size", request.width, request.height),
        };
        Err(EngineError::Request(format!(
            "{} frames at {}×{} need a {} buffer for {}, but this device allows {} per buffer: {advice}",
            request.frames,
            request.width,
            request.height,
            binary_size(need.bytes),
            need.what,
            binary_size(limit)
        )))
    }
}

impl Pipeline {
    /// The loaded model's shape, its weights counted on the device at the device's float width.
    pub fn shape(&self) -> ModelShape {
        let params = self.text_encoder.num_params() + self.unet.num_params() + self.vae.num_params();
        let value_bytes = if crate::backend::computes_in_f16(&self.device) { F16 } else { F32 };
        ModelShape { unet: self.unet.config.clone(), vae: self.vae.config.clone(), weight_values: Some(params as u64), value_bytes }
    }
}

/// How many values the tensors inference loads hold, from the weight files' headers; `None`
/// when a weight file is not in the store.
fn weight_values(store: &dyn ModelStore, adapter: Option<&dyn ModelStore>) -> Option<u64> {
    let mut files: Vec<_> = unet_weight_files(store, adapter).ok()?.into_iter().map(|(s, path)| (s, path, &[] as &[&str])).collect();
    files.push((store, weights_file(store, "text_encoder", "model").ok()?, TEXT_UNUSED));
    files.push((store, weights_file(store, "vae", "diffusion_pytorch_model").ok()?, VAE_UNUSED));
    let mut total = 0;
    for (store, path, unused) in files {
        let header = read_header(store.open(&path).ok()?.as_mut()).ok()?;
        total += header
            .tensors
            .iter()
            .filter(|(key, _)| !unused.iter().any(|u| key.starts_with(u)))
            .map(|(_, info)| info.shape.iter().product::<usize>() as u64)
            .sum::<u64>();
    }
    Some(total)
}

/// Memory in binary units, as GPU memory is counted: "2.0 GiB", "33.6 MiB", "512 KiB".
pub fn binary_size(bytes: u64) -> String {
    let b = bytes as f64;
    match bytes {
        n if n >= 1 << 30 => format!("{:.1} GiB", b / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MiB", b / (1u64 << 20) as f64),
        _ => format!("{:.0} KiB", b / 1024.0),
    }
}

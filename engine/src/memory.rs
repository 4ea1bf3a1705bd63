//! The largest single GPU buffer a generation needs, so a request the device cannot hold is
//! refused before any work, naming the limit and the longest clip that fits. WebGPU shows a page
//! no total memory figure, but it caps every buffer a shader binds
//! (`maxStorageBufferBindingSize`), and that cap is what long clips and large sizes hit first.
//!
//! The figures follow the engine's own data flow: spatial attention scores for `chunk` frames at
//! a time (split inference), the whole clip's activation entering each motion module, temporal
//! attention scores over a FreeNoise window (or the whole clip without FreeNoise), and the VAE's
//! full-resolution activation per decode chunk. All f32.

use crate::pipeline::{Pipeline, Request};
use crate::EngineError;

/// One buffer the generation allocates, in bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct BufferNeed {
    pub what: &'static str,
    pub bytes: u64,
}

const F32: u64 = 4;

impl Pipeline {
    /// Every large buffer the request allocates (largest first).
    pub fn buffer_needs(&self, request: &Request) -> Vec<BufferNeed> {
        let scale = self.vae_scale();
        let tokens = ((request.height / scale) * (request.width / scale)) as u64;
        let batch: u64 = if request.guidance > 1.0 { 2 } else { 1 };
        let frames = request.frames as u64;
        let chunk = request.chunk.map_or(frames, |c| (c as u64).min(frames));
        let unet = &self.unet.config;
        let heads = unet.num_attention_heads.first().copied().unwrap_or(1) as u64;
        let motion_heads = unet.motion.num_attention_heads.first().copied().unwrap_or(1) as u64;
        let channels = unet.block_out_channels.first().copied().unwrap_or(1) as u64;
        let window = match &request.free_noise {
            Some(s) if request.frames > s.window => s.window as u64,
            _ => frames,
        };
        let vae = &self.vae.config;
        let decode = (request.decode_chunk as u64).min(frames);
        let pixels = (request.height * request.width) as u64;
        let mut needs = vec![
            BufferNeed { what: "spatial attention scores", bytes: batch * chunk * heads * tokens * tokens * F32 },
            BufferNeed { what: "the clip's activation in the motion modules", bytes: batch * frames * channels * tokens * F32 },
            BufferNeed { what: "temporal attention scores", bytes: batch * tokens * motion_heads * window * window * F32 },
            BufferNeed { what: "the VAE decoder's full-size activation", bytes: decode * vae.block_out_channels.first().copied().unwrap_or(1) as u64 * pixels * F32 },
        ];
        if vae.mid_block_add_attention {
            needs.push(BufferNeed { what: "the VAE decoder's attention scores", bytes: decode * tokens * tokens * F32 });
        }
        needs.sort_by(|a, b| b.bytes.cmp(&a.bytes));
        needs
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
            gigabytes(need.bytes),
            need.what,
            gigabytes(limit)
        )))
    }
}

fn gigabytes(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.0} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

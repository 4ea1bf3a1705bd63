//! The decoder: `post_quant_conv`, then `decoder.{conv_in, mid_block, up_blocks, conv_norm_out,
//! conv_out}`. The mid block's attention is diffusers' single-head `Attention` with a group norm
//! and biased projections.

use burn::prelude::*;
use burn::tensor::activation::silu;

use super::VaeConfig;
use crate::nn::{Conv2d, GroupNorm, Linear};
use crate::store::{weights_file, ModelStore};
use crate::unet::attention::multi_head_attention;
use crate::unet::resnet::ResnetBlock2D;
use crate::unet::sampling::Upsample2D;
use crate::weights::{Builder, WeightFiles};
use crate::EngineError;

const EPS: f32 = 1e-6;

#[derive(Module, Debug)]
pub struct VaeAttention {
    pub group_norm: GroupNorm,
    pub to_q: Linear,
    pub to_k: Linear,
    pub to_v: Linear,
    pub to_out: Vec<Linear>,
}

impl VaeAttention {
    fn new(b: &Builder, channels: usize, groups: usize) -> Self {
        Self {
            group_norm: GroupNorm::new(&b.push("group_norm"), groups, channels, EPS),
            to_q: Linear::new(&b.push("to_q"), channels, channels, true),
            to_k: Linear::new(&b.push("to_k"), channels, channels, true),
            to_v: Linear::new(&b.push("to_v"), channels, channels, true),
            to_out: vec![Linear::new(&b.push("to_out").push(0), channels, channels, true)],
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, c, h, w] = x.dims();
        let tokens = self.group_norm.forward(x.clone()).reshape([n, c, h * w]).swap_dims(1, 2);
        let (q, k, v) = (self.to_q.forward(tokens.clone()), self.to_k.forward(tokens.clone()), self.to_v.forward(tokens));
        let out = self.to_out[0].forward(multi_head_attention(q, k, v, 1, None));
        out.swap_dims(1, 2).reshape([n, c, h, w]) + x
    }
}

#[derive(Module, Debug)]
pub struct VaeMidBlock {
    pub resnets: Vec<ResnetBlock2D>,
    pub attentions: Vec<VaeAttention>,
}

#[derive(Module, Debug)]
pub struct UpDecoderBlock {
    pub resnets: Vec<ResnetBlock2D>,
    pub upsamplers: Vec<Upsample2D>,
}

#[derive(Module, Debug)]
pub struct Decoder {
    pub conv_in: Conv2d,
    pub mid_block: VaeMidBlock,
    pub up_blocks: Vec<UpDecoderBlock>,
    pub conv_norm_out: GroupNorm,
    pub conv_out: Conv2d,
}

#[derive(Module, Debug)]
pub struct VaeDecoder {
    pub post_quant_conv: Option<Conv2d>,
    pub decoder: Decoder,
    #[module(skip)]
    pub config: VaeConfig,
}

impl VaeDecoder {
    pub fn new(b: &Builder, cfg: &VaeConfig) -> Self {
        let groups = cfg.norm_num_groups;
        let top = *cfg.block_out_channels.last().expect("blocks");
        let d = b.push("decoder");
        let mid = d.push("mid_block");
        let channels: Vec<usize> = cfg.block_out_channels.iter().rev().copied().collect();
        let up_blocks = channels
            .iter()
            .enumerate()
            .map(|(i, &out)| {
                let input = if i == 0 { top } else { channels[i - 1] };
                let ub = d.push("up_blocks").push(i);
                UpDecoderBlock {
                    resnets: (0..=cfg.layers_per_block)
                        .map(|j| ResnetBlock2D::new(&ub.push("resnets").push(j), if j == 0 { input } else { out }, out, None, groups, EPS))
                        .collect(),
                    upsamplers: (i + 1 < channels.len()).then(|| Upsample2D::new(&ub.push("upsamplers").push(0), out)).into_iter().collect(),
                }
            })
            .collect();
        Self {
            post_quant_conv: cfg
                .use_post_quant_conv
                .then(|| Conv2d::new(&b.push("post_quant_conv"), cfg.latent_channels, cfg.latent_channels, 1, 1, 0)),
            decoder: Decoder {
                conv_in: Conv2d::new(&d.push("conv_in"), cfg.latent_channels, top, 3, 1, 1),
                mid_block: VaeMidBlock {
                    resnets: (0..2).map(|i| ResnetBlock2D::new(&mid.push("resnets").push(i), top, top, None, groups, EPS)).collect(),
                    attentions: cfg
                        .mid_block_add_attention
                        .then(|| VaeAttention::new(&mid.push("attentions").push(0), top, groups))
                        .into_iter()
                        .collect(),
                },
                up_blocks,
                conv_norm_out: GroupNorm::new(&d.push("conv_norm_out"), groups, cfg.block_out_channels[0], EPS),
                conv_out: Conv2d::new(&d.push("conv_out"), cfg.block_out_channels[0], cfg.out_channels, 3, 1, 1),
            },
            config: cfg.clone(),
        }
    }

    /// Latents as the UNet makes them (`[n, C, h, w]`, not yet divided by the scaling factor)
    /// → images `[n, 3, H, W]` in [-1, 1] (not clamped).
    pub fn decode(&self, latents: Tensor<4>) -> Tensor<4> {
        let mut z = latents.div_scalar(self.config.scaling_factor);
        if let Some(shift) = self.config.shift_factor {
            z = z.add_scalar(shift);
        }
        if let Some(conv) = &self.post_quant_conv {
            z = conv.forward(z);
        }
        let d = &self.decoder;
        let mut x = d.conv_in.forward(z);
        x = d.mid_block.resnets[0].forward(x, None);
        if let Some(attention) = d.mid_block.attentions.first() {
            x = attention.forward(x);
        }
        x = d.mid_block.resnets[1].forward(x, None);
        for block in &d.up_blocks {
            for resnet in &block.resnets {
                x = resnet.forward(x, None);
            }
            for upsampler in &block.upsamplers {
                x = upsampler.forward(x);
            }
        }
        d.conv_out.forward(silu(d.conv_norm_out.forward(x)))
    }
}

/// Loads `vae/`; the encoder half of the checkpoint is accepted unread.
pub fn load_vae_decoder(store: &dyn ModelStore, device: &Device) -> Result<VaeDecoder, EngineError> {
    let path = "vae/config.json";
    let config = VaeConfig::from_json(&store.read_text(path)?, &format!("{}/{path}", store.name()))?;
    let mut files = WeightFiles::new();
    files.add(store.open(&weights_file(store, "vae", "diffusion_pytorch_model")?)?)?;
    let builder = Builder::load(files, device);
    let vae = VaeDecoder::new(&builder, &config);
    builder.finish("VAE", &["encoder.", "quant_conv."])?;
    Ok(vae)
}

//! The encoder half of `AutoencoderKL`: `encoder.{conv_in, down_blocks, mid_block,
//! conv_norm_out, conv_out}` then `quant_conv`, giving the mean and log-variance of a diagonal
//! Gaussian per latent. Inference never encodes; training the demo model's VAE does.

use burn::prelude::*;
use burn::tensor::activation::silu;

use super::mid_block::{VaeMidBlock, EPS};
use super::VaeConfig;
use crate::blocks::Downsample2D;
use crate::blocks::ResnetBlock2D;
use crate::nn::{Conv2d, GroupNorm};
use crate::weights::Builder;
use crate::EngineError;

#[derive(Module, Debug)]
pub struct DownEncoderBlock {
    pub resnets: Vec<ResnetBlock2D>,
    pub downsamplers: Vec<Downsample2D>,
}

#[derive(Module, Debug)]
pub struct Encoder {
    pub conv_in: Conv2d,
    pub down_blocks: Vec<DownEncoderBlock>,
    pub mid_block: VaeMidBlock,
    pub conv_norm_out: GroupNorm,
    pub conv_out: Conv2d,
}

#[derive(Module, Debug)]
pub struct VaeEncoder {
    pub encoder: Encoder,
    pub quant_conv: Option<Conv2d>,
}

/// The posterior of one batch: `[n, C, h, w]` each.
pub struct Posterior {
    pub mean: Tensor<4>,
    pub logvar: Tensor<4>,
}

impl VaeEncoder {
    pub fn new(b: &Builder, cfg: &VaeConfig) -> Result<Self, EngineError> {
        if let Some(bad) = cfg.down_block_types.iter().find(|t| *t != "DownEncoderBlock2D") {
            return Err(EngineError::Config {
                file: "vae/config.json".into(),
                field: "down_block_types".into(),
                problem: format!("block type {bad:?} is not supported (only \"DownEncoderBlock2D\")"),
            });
        }
        let groups = cfg.norm_num_groups;
        let channels = &cfg.block_out_channels;
        let top = *channels.last().expect("validated: at least one block");
        let e = b.push("encoder");
        let down_blocks = channels
            .iter()
            .enumerate()
            .map(|(i, &out)| {
                let input = if i == 0 { channels[0] } else { channels[i - 1] };
                let db = e.push("down_blocks").push(i);
                DownEncoderBlock {
                    resnets: (0..cfg.layers_per_block)
                        .map(|j| ResnetBlock2D::new(&db.push("resnets").push(j), if j == 0 { input } else { out }, out, None, groups, EPS))
                        .collect(),
                    // diffusers pads right/bottom by one, then convolves with no padding.
                    downsamplers: (i + 1 < channels.len()).then(|| Downsample2D::new(&db.push("downsamplers").push(0), out, 0)).into_iter().collect(),
                }
            })
            .collect();
        Ok(Self {
            encoder: Encoder {
                conv_in: Conv2d::new(&e.push("conv_in"), cfg.in_channels, channels[0], 3, 1, 1),
                down_blocks,
                mid_block: VaeMidBlock::new(&e.push("mid_block"), top, groups, cfg.mid_block_add_attention),
                conv_norm_out: GroupNorm::new(&e.push("conv_norm_out"), groups, top, EPS),
                conv_out: Conv2d::new(&e.push("conv_out"), top, 2 * cfg.latent_channels, 3, 1, 1),
            },
            quant_conv: cfg.use_quant_conv.then(|| Conv2d::new(&b.push("quant_conv"), 2 * cfg.latent_channels, 2 * cfg.latent_channels, 1, 1, 0)),
        })
    }

    /// Images `[n, 3, H, W]` in [-1, 1] → the latent posterior (unscaled, as diffusers returns it).
    pub fn encode(&self, images: Tensor<4>) -> Posterior {
        let e = &self.encoder;
        let mut x = e.conv_in.forward(images);
        for block in &e.down_blocks {
            for resnet in &block.resnets {
                x = resnet.forward(x, None);
            }
            for downsampler in &block.downsamplers {
                let [n, c, h, w] = x.dims();
                let padded = Tensor::zeros([n, c, h + 1, w + 1], &x.device()).slice_assign([0..n, 0..c, 0..h, 0..w], x);
                x = downsampler.forward(padded);
            }
        }
        x = e.conv_out.forward(silu(e.conv_norm_out.forward(e.mid_block.forward(x))));
        if let Some(conv) = &self.quant_conv {
            x = conv.forward(x);
        }
        let [mean, logvar] = x.chunk(2, 1).try_into().expect("conv_out has 2·latent channels");
        Posterior { mean, logvar: logvar.clamp(-30.0, 20.0) }
    }
}

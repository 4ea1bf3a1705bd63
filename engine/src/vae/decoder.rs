//! The decoder: `post_quant_conv`, then `decoder.{conv_in, mid_block, up_blocks, conv_norm_out,
//! conv_out}`.

use burn::prelude::*;
use burn::tensor::activation::silu;

use super::mid_block::{VaeMidBlock, EPS};
use super::VaeConfig;
use crate::blocks::ResnetBlock2D;
use crate::blocks::Upsample2D;
use crate::nn::{Conv2d, GroupNorm};
use crate::store::{weights_file, ModelStore};
use crate::weights::{Builder, WeightFiles};
use crate::EngineError;

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
            post_quant_conv: cfg.use_post_quant_conv.then(|| Conv2d::new(&b.push("post_quant_conv"), cfg.latent_channels, cfg.latent_channels, 1, 1, 0)),
            decoder: Decoder {
                conv_in: Conv2d::new(&d.push("conv_in"), cfg.latent_channels, top, 3, 1, 1),
                mid_block: VaeMidBlock::new(&d.push("mid_block"), top, groups, cfg.mid_block_add_attention),
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
        let mut x = d.mid_block.forward(d.conv_in.forward(z));
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

//! The UNet's shape, from either a `UNetMotionModel` config or an SD1.5 `UNet2DConditionModel`
//! config plus a `MotionAdapter` config (the two ways AnimateDiff checkpoints are shipped).

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::config::{parse, require_one_of, PerBlock};
use crate::EngineError;

#[derive(Clone, Debug)]
pub struct MotionConfig {
    pub max_seq_length: usize,
    pub num_attention_heads: Vec<usize>,
    pub reverse_num_attention_heads: Vec<usize>,
    pub layers_per_block: Vec<usize>,
    pub reverse_layers_per_block: Vec<usize>,
    pub mid_layers: usize,
    pub use_mid_block: bool,
}

#[derive(Clone, Debug)]
pub struct UNetConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    pub block_out_channels: Vec<usize>,
    pub down_cross_attention: Vec<bool>,
    pub up_cross_attention: Vec<bool>,
    pub layers_per_block: Vec<usize>,
    pub norm_num_groups: usize,
    pub norm_eps: f32,
    pub cross_attention_dim: usize,
    pub transformer_layers_per_block: Vec<usize>,
    pub reverse_transformer_layers_per_block: Vec<usize>,
    pub transformer_layers_per_mid_block: usize,
    pub num_attention_heads: Vec<usize>,
    pub use_linear_projection: bool,
    pub downsample_padding: usize,
    pub mid_block_layers: usize,
    pub flip_sin_to_cos: bool,
    pub freq_shift: f32,
    pub motion: MotionConfig,
}

/// One block's widths and counts, derived from the config.
#[derive(Clone, Debug)]
pub struct BlockPlan {
    pub input: usize,
    pub output: usize,
    pub layers: usize,
    pub resample: bool,
    pub cross_attention: bool,
    pub heads: usize,
    pub transformer_layers: usize,
    pub motion_heads: usize,
    pub motion_layers: usize,
}

impl BlockPlan {
    pub fn mid(cfg: &UNetConfig) -> Self {
        let channels = *cfg.block_out_channels.last().expect("blocks");
        BlockPlan {
            input: channels,
            output: channels,
            layers: cfg.mid_block_layers,
            resample: false,
            cross_attention: true,
            heads: *cfg.num_attention_heads.last().expect("blocks"),
            transformer_layers: cfg.transformer_layers_per_mid_block,
            motion_heads: *cfg.motion.num_attention_heads.last().expect("blocks"),
            motion_layers: cfg.motion.mid_layers,
        }
    }
}

/// Fields shared by both UNet config kinds.
#[derive(Deserialize)]
struct RawUNet {
    in_channels: usize,
    out_channels: usize,
    block_out_channels: Vec<usize>,
    down_block_types: Vec<String>,
    up_block_types: Vec<String>,
    layers_per_block: PerBlock,
    norm_num_groups: usize,
    #[serde(default = "default_norm_eps")]
    norm_eps: f32,
    cross_attention_dim: usize,
    #[serde(default = "one")]
    transformer_layers_per_block: PerBlock,
    #[serde(default)]
    reverse_transformer_layers_per_block: Option<PerBlock>,
    #[serde(default)]
    transformer_layers_per_mid_block: Option<usize>,
    #[serde(default)]
    num_attention_heads: Option<PerBlock>,
    #[serde(default)]
    attention_head_dim: Option<PerBlock>,
    #[serde(default)]
    use_linear_projection: bool,
    #[serde(default = "default_padding")]
    downsample_padding: usize,
    #[serde(default = "default_mid_layers")]
    mid_block_layers: usize,
    #[serde(default = "default_true")]
    flip_sin_to_cos: bool,
    #[serde(default)]
    freq_shift: f32,
    // UNetMotionModel only:
    #[serde(default)]
    motion_max_seq_length: Option<usize>,
    #[serde(default)]
    motion_num_attention_heads: Option<PerBlock>,
    #[serde(default)]
    reverse_motion_num_attention_heads: Option<PerBlock>,
    #[serde(default)]
    temporal_transformer_layers_per_block: Option<PerBlock>,
    #[serde(default)]
    reverse_temporal_transformer_layers_per_block: Option<PerBlock>,
    #[serde(default)]
    temporal_transformer_layers_per_mid_block: Option<usize>,
    #[serde(default)]
    use_motion_mid_block: Option<bool>,
}

#[derive(Deserialize)]
struct RawAdapter {
    block_out_channels: Vec<usize>,
    #[serde(default = "two")]
    motion_layers_per_block: PerBlock,
    #[serde(default = "one")]
    motion_transformer_layers_per_block: PerBlock,
    #[serde(default = "default_mid_layers")]
    motion_transformer_layers_per_mid_block: usize,
    #[serde(default = "eight")]
    motion_num_attention_heads: PerBlock,
    #[serde(default = "default_seq")]
    motion_max_seq_length: usize,
    #[serde(default = "default_true")]
    use_motion_mid_block: bool,
}

fn default_norm_eps() -> f32 {
    1e-5
}
fn one() -> PerBlock {
    PerBlock::One(1)
}
fn two() -> PerBlock {
    PerBlock::One(2)
}
fn eight() -> PerBlock {
    PerBlock::One(8)
}
fn default_padding() -> usize {
    1
}
fn default_mid_layers() -> usize {
    1
}
fn default_true() -> bool {
    true
}
fn default_seq() -> usize {
    32
}

const DOWN_CROSS: [&str; 2] = ["CrossAttnDownBlockMotion", "CrossAttnDownBlock2D"];
const DOWN_PLAIN: [&str; 2] = ["DownBlockMotion", "DownBlock2D"];
const UP_CROSS: [&str; 2] = ["CrossAttnUpBlockMotion", "CrossAttnUpBlock2D"];
const UP_PLAIN: [&str; 2] = ["UpBlockMotion", "UpBlock2D"];

/// Settings a real SD1.5/AnimateDiff config may carry, each allowed only at the value we run.
fn check_supported(raw: &Map<String, Value>, file: &str) -> Result<(), EngineError> {
    let rules: Vec<(&str, Vec<Value>)> = vec![
        ("act_fn", vec![json!("silu")]),
        ("resnet_time_scale_shift", vec![json!("default")]),
        ("time_embedding_type", vec![json!("positional")]),
        ("class_embed_type", vec![]),
        ("addition_embed_type", vec![]),
        ("encoder_hid_dim_type", vec![]),
        ("encoder_hid_dim", vec![]),
        ("time_cond_proj_dim", vec![]),
        ("num_class_embeds", vec![]),
        ("timestep_post_act", vec![]),
        ("time_embedding_act_fn", vec![]),
        ("cross_attention_norm", vec![]),
        ("only_cross_attention", vec![json!(false)]),
        ("dual_cross_attention", vec![json!(false)]),
        ("conv_in_kernel", vec![json!(3)]),
        ("conv_out_kernel", vec![json!(3)]),
        ("attention_type", vec![json!("default")]),
        ("mid_block_type", vec![json!("UNetMidBlock2DCrossAttn")]),
        ("center_input_sample", vec![json!(false)]),
        ("resnet_skip_time_act", vec![json!(false)]),
        ("resnet_out_scale_factor", vec![json!(1.0), json!(1)]),
        ("mid_block_scale_factor", vec![json!(1.0), json!(1)]),
        ("mid_block_only_cross_attention", vec![json!(false)]),
        ("conv_in_channels", vec![]),
    ];
    for (field, allowed) in rules {
        require_one_of(raw, file, field, &allowed)?;
    }
    Ok(())
}

fn block_kinds(types: &[String], cross: &[&str], plain: &[&str], file: &str, field: &str) -> Result<Vec<bool>, EngineError> {
    types
        .iter()
        .map(|t| {
            if cross.contains(&t.as_str()) {
                Ok(true)
            } else if plain.contains(&t.as_str()) {
                Ok(false)
            } else {
                Err(EngineError::Config {
                    file: file.into(),
                    field: field.into(),
                    problem: format!("block type {t:?} is not supported (supported: {cross:?}, {plain:?})"),
                })
            }
        })
        .collect()
}

fn reversed(values: &[usize]) -> Vec<usize> {
    values.iter().rev().copied().collect()
}

impl UNetConfig {
    /// From a `UNetMotionModel` config, or a `UNet2DConditionModel` config plus the motion
    /// adapter's config (`adapter`: its text and file name).
    pub fn from_json(text: &str, file: &str, adapter: Option<(&str, &str)>) -> Result<Self, EngineError> {
        let (raw, object): (RawUNet, _) = parse(text, file)?;
        check_supported(&object, file)?;
        let blocks = raw.block_out_channels.len();
        if blocks == 0 || raw.down_block_types.len() != blocks || raw.up_block_types.len() != blocks {
            return Err(EngineError::Config {
                file: file.into(),
                field: "down_block_types".into(),
                problem: format!(
                    "{} down and {} up block types for {blocks} block_out_channels: they must match",
                    raw.down_block_types.len(),
                    raw.up_block_types.len()
                ),
            });
        }
        if let Some(bad) = raw.block_out_channels.iter().find(|c| *c % raw.norm_num_groups != 0) {
            return Err(EngineError::Config {
                file: file.into(),
                field: "norm_num_groups".into(),
                problem: format!("{} groups do not divide {bad} channels", raw.norm_num_groups),
            });
        }
        let heads_field = raw.num_attention_heads.as_ref().or(raw.attention_head_dim.as_ref()).ok_or_else(|| EngineError::Config {
            file: file.into(),
            field: "num_attention_heads".into(),
            problem: "missing (and no attention_head_dim)".into(),
        })?;
        let num_attention_heads = heads_field.expand(blocks, file, "num_attention_heads")?;
        let transformer_layers = raw.transformer_layers_per_block.expand(blocks, file, "transformer_layers_per_block")?;
        let reverse_transformer_layers = match &raw.reverse_transformer_layers_per_block {
            Some(v) => v.expand(blocks, file, "reverse_transformer_layers_per_block")?,
            None => reversed(&transformer_layers),
        };
        let motion = match adapter {
            None => Self::motion_from_unet(&raw, file, blocks)?,
            Some((text, adapter_file)) => Self::motion_from_adapter(text, adapter_file, &raw.block_out_channels)?,
        };
        Ok(Self {
            in_channels: raw.in_channels,
            out_channels: raw.out_channels,
            down_cross_attention: block_kinds(&raw.down_block_types, &DOWN_CROSS, &DOWN_PLAIN, file, "down_block_types")?,
            up_cross_attention: block_kinds(&raw.up_block_types, &UP_CROSS, &UP_PLAIN, file, "up_block_types")?,
            layers_per_block: raw.layers_per_block.expand(blocks, file, "layers_per_block")?,
            norm_num_groups: raw.norm_num_groups,
            norm_eps: raw.norm_eps,
            cross_attention_dim: raw.cross_attention_dim,
            transformer_layers_per_mid_block: raw.transformer_layers_per_mid_block.unwrap_or(*transformer_layers.last().expect("blocks")),
            transformer_layers_per_block: transformer_layers,
            reverse_transformer_layers_per_block: reverse_transformer_layers,
            num_attention_heads,
            use_linear_projection: raw.use_linear_projection,
            downsample_padding: raw.downsample_padding,
            mid_block_layers: raw.mid_block_layers,
            flip_sin_to_cos: raw.flip_sin_to_cos,
            freq_shift: raw.freq_shift,
            block_out_channels: raw.block_out_channels,
            motion,
        })
    }

    fn motion_from_unet(raw: &RawUNet, file: &str, blocks: usize) -> Result<MotionConfig, EngineError> {
        let missing = |field: &str| EngineError::Config {
            file: file.into(),
            field: field.into(),
            problem: "missing: this is not a UNetMotionModel config, so give a motion adapter".into(),
        };
        let max_seq_length = raw.motion_max_seq_length.ok_or_else(|| missing("motion_max_seq_length"))?;
        let heads = raw.motion_num_attention_heads.as_ref().ok_or_else(|| missing("motion_num_attention_heads"))?;
        let heads = heads.expand(blocks, file, "motion_num_attention_heads")?;
        let layers = raw.temporal_transformer_layers_per_block.clone().unwrap_or(PerBlock::One(1));
        let layers = layers.expand(blocks, file, "temporal_transformer_layers_per_block")?;
        Ok(MotionConfig {
            max_seq_length,
            reverse_num_attention_heads: match &raw.reverse_motion_num_attention_heads {
                Some(v) => v.expand(blocks, file, "reverse_motion_num_attention_heads")?,
                None => reversed(&heads),
            },
            reverse_layers_per_block: match &raw.reverse_temporal_transformer_layers_per_block {
                Some(v) => v.expand(blocks, file, "reverse_temporal_transformer_layers_per_block")?,
                None => reversed(&layers),
            },
            num_attention_heads: heads,
            layers_per_block: layers,
            mid_layers: raw.temporal_transformer_layers_per_mid_block.unwrap_or(1),
            use_mid_block: raw.use_motion_mid_block.unwrap_or(true),
        })
    }

    fn motion_from_adapter(text: &str, file: &str, unet_channels: &[usize]) -> Result<MotionConfig, EngineError> {
        let (raw, object): (RawAdapter, _) = parse(text, file)?;
        require_one_of(&object, file, "conv_in_channels", &[])?;
        if raw.block_out_channels != unet_channels {
            return Err(EngineError::Config {
                file: file.into(),
                field: "block_out_channels".into(),
                problem: format!("{:?} does not match the UNet's {unet_channels:?}", raw.block_out_channels),
            });
        }
        let blocks = unet_channels.len();
        let heads = raw.motion_num_attention_heads.expand(blocks, file, "motion_num_attention_heads")?;
        let layers = raw.motion_transformer_layers_per_block.expand(blocks, file, "motion_transformer_layers_per_block")?;
        // The adapter's per-block module count must equal the UNet's layers per block; the
        // loader reports any mismatch tensor by tensor.
        let _ = raw.motion_layers_per_block.expand(blocks, file, "motion_layers_per_block")?;
        Ok(MotionConfig {
            max_seq_length: raw.motion_max_seq_length,
            reverse_num_attention_heads: reversed(&heads),
            reverse_layers_per_block: reversed(&layers),
            num_attention_heads: heads,
            layers_per_block: layers,
            mid_layers: raw.motion_transformer_layers_per_mid_block,
            use_mid_block: raw.use_motion_mid_block,
        })
    }

    pub fn down_plans(&self) -> Vec<BlockPlan> {
        let blocks = self.block_out_channels.len();
        (0..blocks)
            .map(|i| BlockPlan {
                input: if i == 0 { self.block_out_channels[0] } else { self.block_out_channels[i - 1] },
                output: self.block_out_channels[i],
                layers: self.layers_per_block[i],
                resample: i + 1 < blocks,
                cross_attention: self.down_cross_attention[i],
                heads: self.num_attention_heads[i],
                transformer_layers: self.transformer_layers_per_block[i],
                motion_heads: self.motion.num_attention_heads[i],
                motion_layers: self.motion.layers_per_block[i],
            })
            .collect()
    }

    pub fn up_plans(&self) -> Vec<BlockPlan> {
        let blocks = self.block_out_channels.len();
        let channels = reversed(&self.block_out_channels);
        let layers = reversed(&self.layers_per_block);
        let heads = reversed(&self.num_attention_heads);
        (0..blocks)
            .map(|i| BlockPlan {
                input: if i == 0 { channels[0] } else { channels[i - 1] },
                output: channels[i],
                layers: layers[i] + 1,
                resample: i + 1 < blocks,
                cross_attention: self.up_cross_attention[i],
                heads: heads[i],
                transformer_layers: self.reverse_transformer_layers_per_block[i],
                motion_heads: self.motion.reverse_num_attention_heads[i],
                motion_layers: self.motion.reverse_layers_per_block[i],
            })
            .collect()
    }
}

//! A motion adapter shipped as one bare safetensors file, with no `config.json`
//! (AnimateDiff-Lightning's `animatediff_lightning_4step_diffusers.safetensors`). diffusers loads
//! such a file into `MotionAdapter()` with its default config; we read the structure from the
//! tensor names and shapes instead (block widths, modules per block, transformer layers, the mid
//! block, the position table's length), so any adapter that fits its UNet loads. Only the head
//! count cannot be seen in shapes: it takes MotionAdapter's default, 8, as diffusers does.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::json;

use crate::weights::Header;
use crate::EngineError;

/// MotionAdapter's default `motion_num_attention_heads`.
const DEFAULT_HEADS: usize = 8;

/// The adapter's `config.json`, as diffusers would write it, from the file's header.
pub fn config_from_header(header: &Header, file: &str) -> Result<String, EngineError> {
    // (block, module) → transformer block indices, per down block; and the mid block's.
    let mut down: BTreeMap<usize, BTreeMap<usize, BTreeSet<usize>>> = BTreeMap::new();
    let mut mid: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for key in header.tensors.keys() {
        let parts: Vec<&str> = key.split('.').collect();
        let index = |i: usize| parts.get(i).and_then(|p| p.parse::<usize>().ok());
        match parts.as_slice() {
            ["down_blocks", _, "motion_modules", _, "transformer_blocks", ..] => {
                if let (Some(b), Some(m), Some(t)) = (index(1), index(3), index(5)) {
                    down.entry(b).or_default().entry(m).or_default().insert(t);
                }
            }
            ["mid_block", "motion_modules", _, "transformer_blocks", ..] => {
                if let (Some(m), Some(t)) = (index(2), index(4)) {
                    mid.entry(m).or_default().insert(t);
                }
            }
            _ => {}
        }
    }
    let bad = |problem: String| EngineError::BadFile { file: file.into(), problem };
    if down.is_empty() || down.keys().copied().ne(0..down.len()) {
        return Err(bad("holds no down_blocks.N.motion_modules.… tensors numbered from 0: not a motion adapter (and it has no config.json)".into()));
    }
    let shape = |key: String| header.tensors.get(&key).map(|t| t.shape.clone()).ok_or_else(|| bad(format!("lacks `{key}`")));
    let mut channels = Vec::new();
    let mut transformer_layers = Vec::new();
    for (block, modules) in &down {
        channels.push(shape(format!("down_blocks.{block}.motion_modules.0.proj_in.weight"))?[0]);
        transformer_layers.push(modules.get(&0).map_or(0, BTreeSet::len));
    }
    let modules_per_block = down[&0].len();
    if let Some((block, _)) = down.iter().find(|(_, m)| m.len() != modules_per_block) {
        return Err(bad(format!("down block {block} has another number of motion modules than block 0 ({modules_per_block})")));
    }
    let table = shape("down_blocks.0.motion_modules.0.transformer_blocks.0.pos_embed.pe".into())?;
    let max_seq_length = *table.get(1).ok_or_else(|| bad(format!("position table of shape {table:?}: expected [1, frames, channels]")))?;
    let config = json!({
        "_class_name": "MotionAdapter",
        "block_out_channels": channels,
        "motion_layers_per_block": modules_per_block,
        "motion_transformer_layers_per_block": transformer_layers,
        "motion_num_attention_heads": DEFAULT_HEADS,
        "motion_max_seq_length": max_seq_length,
        "use_motion_mid_block": !mid.is_empty(),
        "motion_transformer_layers_per_mid_block": mid.get(&0).map_or(1, BTreeSet::len),
    });
    Ok(config.to_string())
}

//! Loading the UNet from a diffusers pipeline: `unet/` already a `UNetMotionModel`, or an SD1.5
//! `unet/` plus a motion adapter folder.

use burn::prelude::Device;

use super::{UNetConfig, UNetMotionModel};
use crate::store::{weights_file, ModelStore};
use crate::weights::{Builder, WeightFiles};
use crate::EngineError;

/// `adapter`: a store holding the motion adapter's `config.json` and weights at its root.
pub fn load_unet(store: &dyn ModelStore, adapter: Option<&dyn ModelStore>, device: &Device) -> Result<UNetMotionModel, EngineError> {
    let config_path = "unet/config.json";
    let config_text = store.read_text(config_path)?;
    let config_file = format!("{}/{config_path}", store.name());
    let mut files = WeightFiles::new();
    files.add(store.open(&weights_file(store, "unet", "diffusion_pytorch_model")?)?)?;
    let config = match adapter {
        None => UNetConfig::from_json(&config_text, &config_file, None)?,
        Some(adapter) => {
            let adapter_text = adapter.read_text("config.json")?;
            let adapter_file = format!("{}/config.json", adapter.name());
            files.add(adapter.open(&weights_file(adapter, ".", "diffusion_pytorch_model")?.trim_start_matches("./"))?)?;
            UNetConfig::from_json(&config_text, &config_file, Some((&adapter_text, &adapter_file)))?
        }
    };
    let builder = Builder::load(files, device);
    let unet = UNetMotionModel::new(&builder, &config);
    builder.finish("UNet", &[])?;
    Ok(unet)
}

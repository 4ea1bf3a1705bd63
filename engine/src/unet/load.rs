//! Loading the UNet from a diffusers pipeline: `unet/` already a `UNetMotionModel`, or an SD1.5
//! `unet/` plus a motion adapter folder.

use burn::prelude::Device;

use super::adapter_file::config_from_header;
use super::{UNetConfig, UNetMotionModel};
use crate::store::{weights_file, ModelStore};
use crate::weights::{read_header, Builder, WeightFiles};
use crate::EngineError;

/// A motion adapter's weights file, at its folder's root.
const ADAPTER_STEM: &str = "diffusion_pytorch_model";

/// `adapter`: a store holding the motion adapter's `config.json` and weights at its root.
pub fn load_unet(store: &dyn ModelStore, adapter: Option<&dyn ModelStore>, device: &Device) -> Result<UNetMotionModel, EngineError> {
    let config = unet_config(store, adapter)?;
    let mut files = WeightFiles::new();
    for (store, path) in unet_weight_files(store, adapter)? {
        files.add(store.open(&path)?)?;
    }
    let builder = Builder::load(files, device);
    let unet = UNetMotionModel::new(&builder, &config);
    builder.finish("UNet", &[])?;
    Ok(unet)
}

/// The UNet's config: `unet/config.json`, merged with the adapter's `config.json` when given
/// (or with the config its tensors imply, when it has none).
pub fn unet_config(store: &dyn ModelStore, adapter: Option<&dyn ModelStore>) -> Result<UNetConfig, EngineError> {
    let config_path = "unet/config.json";
    let config_text = store.read_text(config_path)?;
    let config_file = format!("{}/{config_path}", store.name());
    match adapter {
        None => UNetConfig::from_json(&config_text, &config_file, None),
        Some(adapter) if adapter.exists("config.json") => {
            let adapter_text = adapter.read_text("config.json")?;
            let adapter_file = format!("{}/config.json", adapter.name());
            UNetConfig::from_json(&config_text, &config_file, Some((&adapter_text, &adapter_file)))
        }
        // A bare adapter file (AnimateDiff-Lightning): its config is read from its tensors.
        Some(adapter) => {
            let path = weights_file(adapter, ".", ADAPTER_STEM)?;
            let mut source = adapter.open(&path)?;
            let adapter_file = source.name().to_string();
            let adapter_text = config_from_header(&read_header(source.as_mut())?, &adapter_file)?;
            UNetConfig::from_json(&config_text, &config_file, Some((&adapter_text, &format!("{adapter_file} (its config, read from its tensors)"))))
        }
    }
}

/// The UNet's weight files, each with the store that holds it.
pub fn unet_weight_files<'a>(store: &'a dyn ModelStore, adapter: Option<&'a dyn ModelStore>) -> Result<Vec<(&'a dyn ModelStore, String)>, EngineError> {
    let mut files = vec![(store, weights_file(store, "unet", "diffusion_pytorch_model")?)];
    if let Some(adapter) = adapter {
        files.push((adapter, weights_file(adapter, ".", ADAPTER_STEM)?));
    }
    Ok(files)
}

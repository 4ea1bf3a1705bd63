//! One UNet call against diffusers' `UNetMotionModel` on both tiny fixtures.

mod common;

use common::*;
use engine::store::DirStore;
use engine::unet::load_unet;
use engine::Backend;

#[test]
fn unet_call_matches_diffusers() {
    let device = Backend::cpu_device();
    for config in CONFIGS {
        let store = DirStore::new(fixture(config)).unwrap();
        let adapter_dir = fixture(&format!("{config}/motion_adapter"));
        let adapter = adapter_dir.is_dir().then(|| DirStore::new(&adapter_dir).unwrap());
        let unet = load_unet(&store, adapter.as_ref().map(|a| a as _), &device).unwrap();
        let sample = tensor::<5>(&golden(config, "unet_sample"), &device);
        let text = tensor::<3>(&golden(config, "unet_encoder_hidden_states"), &device);
        let timestep = golden(config, "unet_timestep").data[0];
        let out = unet.forward(sample, timestep, text).unwrap();
        let error = relative_l2(&values(out), &golden(config, "unet_output").data);
        println!("{config}: UNet relative L2 {error:.2e}");
        assert!(error <= 1e-4, "{config}: UNet relative L2 {error:.2e} > 1e-4");
    }
}

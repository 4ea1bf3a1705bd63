//! Text encoder and VAE decoder against diffusers/transformers on both tiny fixtures
//! (tiny-split stores the text encoder in f16 and the VAE in bf16: the upcast path).

mod common;

use common::*;
use engine::burn::prelude::*;
use engine::clip::load_text_encoder;
use engine::store::DirStore;
use engine::vae::load_vae_decoder;
use engine::Backend;

#[test]
fn text_encoder_matches_transformers() {
    let device = Backend::cpu_device();
    for config in CONFIGS {
        let store = DirStore::new(fixture(config)).unwrap();
        let model = load_text_encoder(&store, &device).unwrap();
        let ids = golden(config, "token_ids");
        let ids_tensor = Tensor::<2, Int>::from_data(TensorData::new(ids.data.iter().map(|&v| v as i64).collect::<Vec<_>>(), ids.shape.clone()), &device);
        let error = relative_l2(&values(model.forward(ids_tensor)), &golden(config, "text_embeddings").data);
        println!("{config}: text encoder relative L2 {error:.2e}");
        assert!(error <= 1e-4, "{config}: text encoder relative L2 {error:.2e}");
    }
}

#[test]
fn vae_decoder_matches_diffusers() {
    let device = Backend::cpu_device();
    for config in CONFIGS {
        let store = DirStore::new(fixture(config)).unwrap();
        let vae = load_vae_decoder(&store, &device).unwrap();
        let decoded = vae.decode(tensor::<4>(&golden(config, "vae_latents"), &device));
        let error = relative_l2(&values(decoded), &golden(config, "vae_decoded").data);
        println!("{config}: VAE decode relative L2 {error:.2e}");
        assert!(error <= 1e-4, "{config}: VAE decode relative L2 {error:.2e}");
    }
}

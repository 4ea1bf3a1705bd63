//! f16 compute, as the page uses on GPUs with `shader-f16`: the tiny pipelines with f16 as the
//! device's float type (on the CPU backend, so it runs here), against diffusers' f32 runs.

mod common;

use common::*;
use engine::backend::{compute_in_f16, computes_in_f16};
use engine::burn::tensor::DType;
use engine::pipeline::{FreeNoiseSettings, Latents, Pipeline, Request};
use engine::store::DirStore;
use engine::Backend;

// One test in this binary: the CPU device's float type is set once per process.
#[test]
fn f16_runs_close_to_diffusers_f32() {
    let mut device = Backend::cpu_device();
    compute_in_f16(&mut device).unwrap();
    assert!(computes_in_f16(&device));
    let store = DirStore::new(fixture("tiny-split")).unwrap();
    let adapter = DirStore::new(fixture("tiny-split/motion_adapter")).unwrap();
    let pipeline = Pipeline::load(&store, Some(&adapter), &device).unwrap();
    assert_eq!(pipeline.unet.conv_in.weight.val().dtype(), DType::F16, "weights are held in f16");
    assert_eq!(pipeline.shape().value_bytes, 2, "memory figures follow the precision");
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("tiny-split/golden/run.json")).unwrap()).unwrap();
    let init = golden("tiny-split", "init_latents");
    let mut request = Request::new(run["prompt"].as_str().unwrap());
    request.negative = Some(run["negative"].as_str().unwrap().to_string());
    (request.frames, request.height, request.width) = (8, 64, 64);
    (request.steps, request.guidance) = (3, 7.5);
    request.init_latents = Some(Latents { shape: init.shape.clone().try_into().unwrap(), data: init.data });
    let output = pollster::block_on(pipeline.generate(&request, &mut |_| {})).unwrap();
    let error = relative_l2(&output.video, &golden("tiny-split", "ddim_video").data);
    println!("f16, 8 frames, DDIM: video {error:.2e} from diffusers' f32 run");
    assert!(error <= 1e-2, "{error:.2e}");

    // FreeNoise's window fusion (weights made on the host) in f16 too: 64 frames.
    let init = golden("tiny-split", "freenoise64_init_latents");
    (request.frames, request.free_noise) = (64, Some(FreeNoiseSettings::default()));
    request.init_latents = Some(Latents { shape: init.shape.clone().try_into().unwrap(), data: init.data });
    let output = pollster::block_on(pipeline.generate(&request, &mut |_| {})).unwrap();
    let error = relative_l2(&output.video, &golden("tiny-split", "freenoise64_video").data);
    println!("f16, 64 frames, FreeNoise: video {error:.2e} from diffusers' f32 run");
    assert!(error <= 1e-2, "{error:.2e}");
}

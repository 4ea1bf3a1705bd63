//! FreeNoise against diffusers 0.42.1 `enable_free_noise(16, 4, "pyramid", "shuffle_context")`
//! on tiny-split, from diffusers' own rescheduled initial latents: 64 frames with one prompt,
//! and 32 frames with a two-keyframe prompt map. Both are window + k·stride, where diffusers'
//! tail-window normalisation bug does not bite (our fix is pinned in `freenoise::windows`).

mod common;

use common::*;
use engine::burn::prelude::*;
use engine::freenoise::FusionPlacement;
use engine::pipeline::{step_conditioning, FreeNoiseSettings, Latents, Pipeline, Request};
use engine::schedulers::Sampler;
use engine::store::DirStore;
use engine::Backend;

const PROMPT: &str = "a red fox running through fresh snow, cinematic";

fn pipeline() -> Pipeline {
    let store = DirStore::new(fixture("tiny-split")).unwrap();
    let adapter = DirStore::new(fixture("tiny-split/motion_adapter")).unwrap();
    Pipeline::load(&store, Some(&adapter), &Backend::cpu_device()).unwrap()
}

fn request(name: &str, frames: usize) -> Request {
    let init = golden("tiny-split", &format!("{name}_init_latents"));
    let mut request = Request::new(PROMPT);
    request.negative = Some("blurry, low quality".into());
    request.frames = frames;
    request.height = 64;
    request.width = 64;
    request.steps = 3;
    request.guidance = 7.5;
    request.sampler = Some(Sampler::Ddim);
    request.init_latents = Some(Latents { shape: init.shape.clone().try_into().unwrap(), data: init.data });
    request.free_noise = Some(FreeNoiseSettings::default());
    request
}

fn check(pipeline: &Pipeline, request: &Request, name: &str) {
    let output = pollster::block_on(pipeline.generate(request, &mut |_| {})).unwrap();
    let latent_error = relative_l2(&output.latents.data, &golden("tiny-split", &format!("{name}_latents")).data);
    let video_error = relative_l2(&output.video, &golden("tiny-split", &format!("{name}_video")).data);
    println!("{name}: final latents {latent_error:.2e}, video {video_error:.2e}");
    assert!(latent_error <= 1e-3, "{name}: latents relative L2 {latent_error:.2e}");
    assert!(video_error <= 1e-3, "{name}: video relative L2 {video_error:.2e}");
}

#[test]
fn sixty_four_frames_match_diffusers() {
    check(&pipeline(), &request("freenoise64", 64), "freenoise64");
}

#[test]
fn prompt_travel_matches_diffusers() {
    let mut request = request("freenoise32_travel", 32);
    request.keyframes = vec![(0, PROMPT.into()), (16, "a white rabbit jumping over a log".into())];
    check(&pipeline(), &request, "freenoise32_travel");
}

#[test]
fn fusion_placements_differ_but_both_run() {
    let pipeline = pipeline();
    let mut request = request("freenoise32_travel", 32);
    request.steps = 1;
    let block = pollster::block_on(pipeline.generate(&request, &mut |_| {})).unwrap();
    request.free_noise.as_mut().unwrap().placement = FusionPlacement::Attention;
    let attention = pollster::block_on(pipeline.generate(&request, &mut |_| {})).unwrap();
    let difference = relative_l2(&attention.latents.data, &block.latents.data);
    assert!(difference > 1e-6, "the official placement should change the result ({difference:.2e})");
}

#[test]
fn motion_injection_feeds_the_target_prompt_to_down_blocks_at_injection_steps() {
    let device = Backend::cpu_device();
    let travel = Tensor::<3>::zeros([4, 2, 3], &device);
    let target = Tensor::<3>::ones([4, 2, 3], &device);
    let is_target = |t: &Tensor<3>| t.clone().sum().into_scalar::<f32>() == 24.0;
    for index in 0..50 {
        let (up, down) = step_conditioning(index, 50, true, &travel, &target);
        assert!(!is_target(&up), "up blocks always read the travelling prompt");
        assert_eq!(is_target(&down), !(5..=15).contains(&index), "step {index}");
        let (_, off) = step_conditioning(index, 50, false, &travel, &target);
        assert!(!is_target(&off), "without injection the down blocks read the travelling prompt");
    }
}

#[test]
fn split_inference_does_not_change_the_result() {
    let pipeline = pipeline();
    let mut request = request("freenoise32_travel", 32);
    request.steps = 2;
    request.keyframes = vec![(0, PROMPT.into()), (16, "a white rabbit jumping over a log".into())];
    request.motion_injection = true;
    request.chunk = None;
    let whole = pollster::block_on(pipeline.generate(&request, &mut |_| {})).unwrap();
    request.chunk = Some(7); // ragged on purpose: 2 × 32 rows in chunks of 7
    let chunked = pollster::block_on(pipeline.generate(&request, &mut |_| {})).unwrap();
    // Float sums regroup with the batch size, so "equal" is within 1e-5 relative L2.
    let latent_change = relative_l2(&chunked.latents.data, &whole.latents.data);
    let video_change = relative_l2(&chunked.video, &whole.video);
    println!("chunking: latents {latent_change:.2e}, video {video_change:.2e}");
    assert!(latent_change <= 1e-5, "chunking changed the latents by {latent_change:.2e}");
    assert!(video_change <= 1e-5, "chunking changed the video by {video_change:.2e}");
}

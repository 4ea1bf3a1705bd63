//! The memory check: what each large buffer of a generation takes, a request over the device's
//! per-buffer cap refused up front with the limit and the frame count that fits, and the shape
//! read from config files and weight headers alone agreeing with the loaded model.

mod common;

use common::fixture;
use engine::memory::ModelShape;
use engine::pipeline::{FreeNoiseSettings, Pipeline, Request};
use engine::store::{DirStore, MemoryStore, ModelStore};
use engine::Backend;

fn tiny() -> ModelShape {
    Pipeline::load(&DirStore::new(fixture("tiny-mid")).unwrap(), None, &Backend::cpu_device()).unwrap().shape()
}

fn request(frames: usize, free_noise: bool) -> Request {
    let mut r = Request::new("a red circle moving left");
    (r.frames, r.height, r.width, r.guidance) = (frames, 64, 64, 7.5);
    r.free_noise = free_noise.then(FreeNoiseSettings::default);
    r
}

fn bytes(pipeline: &ModelShape, r: &Request, what: &str) -> u64 {
    pipeline.buffer_needs(r).into_iter().find(|n| n.what == what).unwrap_or_else(|| panic!("no {what}")).bytes
}

#[test]
fn buffer_sizes_follow_chunking_windows_and_guidance() {
    let p = tiny();
    // tiny-mid: VAE scale 8 → 8×8 = 64 latent tokens at 64×64; 2 spatial heads, 4 motion heads,
    // first UNet block 32 channels; VAE first block 16 channels, with mid-block attention.
    let r = request(64, true);
    assert_eq!(bytes(&p, &r, "spatial attention scores"), 2 * 8 * 2 * 64 * 64 * 4, "guidance doubles the batch; 8 frames per chunk");
    assert_eq!(bytes(&p, &r, "temporal attention scores"), 2 * 64 * 4 * 16 * 16 * 4, "one FreeNoise window at a time");
    assert_eq!(bytes(&p, &r, "the clip's activation in the motion modules"), 2 * 64 * 32 * 64 * 4);
    assert_eq!(bytes(&p, &r, "the VAE decoder's full-size activation"), 16 * 16 * 64 * 64 * 4);
    assert_eq!(bytes(&p, &r, "the VAE decoder's attention scores"), 16 * 64 * 64 * 4);
    let plain = request(24, false);
    assert_eq!(bytes(&p, &plain, "temporal attention scores"), 2 * 64 * 4 * 24 * 24 * 4, "without FreeNoise: the whole clip");
    let unguided = Request { guidance: 1.0, ..r.clone() };
    assert_eq!(bytes(&p, &unguided, "spatial attention scores"), 8 * 2 * 64 * 64 * 4);
    let needs = p.buffer_needs(&r);
    assert!(needs.windows(2).all(|w| w[0].bytes >= w[1].bytes), "largest first");
}

#[test]
fn a_request_over_the_cap_is_refused_naming_the_limit_and_what_fits() {
    let p = tiny();
    let r = request(128, true);
    let largest = p.buffer_needs(&r)[0].bytes;
    assert!(p.check_buffer_limit(&r, largest).is_ok(), "exactly the cap fits");
    let message = p.check_buffer_limit(&r, largest / 2).unwrap_err().to_string();
    assert!(message.starts_with("128 frames at 64×64 need a "), "{message}");
    assert!(message.contains("this device allows"), "{message}");
    let most: usize = message.split("at most ").nth(1).and_then(|s| s.split(' ').next()).and_then(|n| n.parse().ok()).unwrap_or_else(|| panic!("{message}"));
    assert!(p.check_buffer_limit(&request(most, true), largest / 2).is_ok(), "{most} frames fit");
    assert!(p.check_buffer_limit(&request(most + 1, true), largest / 2).is_err(), "{} frames do not", most + 1);
    let tiny_cap = p.check_buffer_limit(&r, 1000).unwrap_err().to_string();
    assert!(tiny_cap.contains("even one frame is too much at 64×64"), "{tiny_cap}");
}

#[test]
fn the_shape_read_from_files_matches_the_loaded_model() {
    let device = Backend::cpu_device();
    // tiny-split: an SD1.5-style UNet plus a motion adapter, f16 and bf16 files (read as f32),
    // and a bare CLIP checkpoint whose keys start with `encoder.` like the VAE's unused half.
    let (model, adapter) = (DirStore::new(fixture("tiny-split")).unwrap(), DirStore::new(fixture("tiny-split/motion_adapter")).unwrap());
    let loaded = Pipeline::load(&model, Some(&adapter), &device).unwrap().shape();
    let read = ModelShape::read(&model, Some(&adapter)).unwrap();
    assert_eq!(read.weight_values, loaded.weight_values, "every loaded weight counted once, unused ones not");
    assert!(read.weight_values.unwrap() > 0);
    let r = request(48, true);
    assert_eq!(read.buffer_needs(&r), loaded.buffer_needs(&r));
    let mid = DirStore::new(fixture("tiny-mid")).unwrap();
    assert_eq!(ModelShape::read(&mid, None).unwrap().weight_values, tiny().weight_values);
}

#[test]
fn configs_alone_give_buffers_but_no_weight_figure() {
    let dir = DirStore::new(fixture("tiny-mid")).unwrap();
    let mut configs = MemoryStore::new("tiny-mid configs");
    for path in ["unet/config.json", "vae/config.json"] {
        configs.insert(path, dir.read_text(path).unwrap().into_bytes());
    }
    let shape = ModelShape::read(&configs, None).unwrap();
    assert_eq!(shape.weight_values, None);
    let r = request(32, true);
    assert_eq!(shape.buffer_needs(&r), tiny().buffer_needs(&r));
    let missing = ModelShape::read(&MemoryStore::new("empty"), None).unwrap_err().to_string();
    assert!(missing.contains("vae/config.json"), "{missing}");
}

#[test]
fn the_estimate_grows_with_the_clip_and_holds_its_largest_buffer() {
    let shape = tiny();
    // At 64×64 the tiny model's VAE decode (16 frames at a time) is the peak up to ~300 frames.
    let short = shape.estimate(&request(16, true));
    let long = shape.estimate(&request(512, true));
    assert_eq!(short.weight_bytes, shape.weight_values.map(|v| v * 4), "f32 weights");
    assert_eq!(long.largest, shape.buffer_needs(&request(512, true))[0]);
    assert!(long.working_bytes >= long.largest.bytes, "the peak holds at least the largest buffer");
    assert!(long.working_bytes > short.working_bytes, "{long:?} vs {short:?}");
    // FreeNoise bounds the temporal scores by the window; plain sampling's grow with the clip.
    let plain = shape.estimate(&request(512, false));
    assert!(plain.working_bytes > long.working_bytes, "{plain:?} vs {long:?}");
}

#[test]
fn f16_halves_every_figure() {
    let shape = tiny();
    let r = request(64, true);
    let (full, half) = (shape.estimate(&r), shape.clone().in_f16().estimate(&r));
    assert_eq!(half.weight_bytes.unwrap() * 2, full.weight_bytes.unwrap());
    assert_eq!(half.working_bytes * 2, full.working_bytes);
    assert_eq!(half.largest.bytes * 2, full.largest.bytes);
}

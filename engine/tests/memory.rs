//! The buffer-size check: what each large buffer of a generation takes, and a request over the
//! device's per-buffer cap refused up front with the limit and the frame count that fits.

mod common;

use common::fixture;
use engine::pipeline::{FreeNoiseSettings, Pipeline, Request};
use engine::store::DirStore;
use engine::Backend;

fn tiny() -> Pipeline {
    Pipeline::load(&DirStore::new(fixture("tiny-mid")).unwrap(), None, &Backend::cpu_device()).unwrap()
}

fn request(frames: usize, free_noise: bool) -> Request {
    let mut r = Request::new("a red circle moving left");
    (r.frames, r.height, r.width, r.guidance) = (frames, 64, 64, 7.5);
    r.free_noise = free_noise.then(FreeNoiseSettings::default);
    r
}

fn bytes(pipeline: &Pipeline, r: &Request, what: &str) -> u64 {
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

//! The `freenoise-demo` binary: `analyse` reads clips of the demo model's world.

use std::process::Command;

use demo::dataset::{ClipSpec, FRAMES, SIZE};
use demo::vocab::{Direction, Motion, MOTIONS};
use engine::npy::write_npy;

fn freenoise_demo(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_freenoise-demo")).args(args).output().unwrap()
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("freenoise-demo-cli-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `analyse` reads a clip the data set draws (ground truth known) and refuses a wrong shape.
#[test]
fn cli_analyses_a_clip() {
    let motion = MOTIONS.iter().position(|m| *m == Motion::Direction(Direction::UpLeft)).unwrap();
    let clip = ClipSpec::single(4, 1, motion, 0, &mut engine::rng::SplitMix64::new(7)); // a blue square on black
                                                                                        // [F, 3, S, S] → [F, S, S, 3]
    let planar = clip.render();
    let plane = SIZE * SIZE;
    let video: Vec<f32> =
        (0..FRAMES).flat_map(|f| (0..plane).flat_map(move |p| (0..3).map(move |c| (f, c, p)))).map(|(f, c, p)| planar[(f * 3 + c) * plane + p]).collect();
    let out = tempdir();
    let path = out.join("clip.npy");
    std::fs::write(&path, write_npy(&[FRAMES, SIZE, SIZE, 3], &video)).unwrap();
    let result = freenoise_demo(&["analyse", "--video", path.to_str().unwrap()]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let json: serde_json::Value = serde_json::from_slice(&result.stdout).unwrap();
    assert_eq!((json["frames"].as_u64(), json["colour"].as_str(), json["direction"].as_str()), (Some(16), Some("blue"), Some("up and left")), "{json}");
    assert!(json["visible"].as_f64().unwrap() > 0.99 && json["consistency"].as_f64().unwrap() > 0.9, "{json}");
    assert_eq!(json["quarters"], serde_json::json!(["up and left"]), "one 16-frame quarter: {json}");

    std::fs::write(&path, write_npy(&[FRAMES, SIZE * SIZE * 3], &video)).unwrap();
    let refused = freenoise_demo(&["analyse", "--video", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success() && stderr.contains("clip.npy") && stderr.contains("(frames, height, width, 3)"), "{stderr}");
}

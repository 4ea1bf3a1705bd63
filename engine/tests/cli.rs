//! The `freenoise` binary reproduces the golden latents and video from the fixtures' initial
//! latents, and fails with a clear message on bad input.

mod common;

use std::process::Command;

use common::*;
use engine::npy::{read_npy, write_npy};

fn freenoise(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_freenoise")).args(args).output().unwrap()
}

#[test]
fn cli_reproduces_golden_runs() {
    let out = tempdir();
    let init = fixture("tiny-split/golden/init_latents.npy");
    let model = fixture("tiny-split");
    let adapter = fixture("tiny-split/motion_adapter");
    let latents = out.join("latents.npy");
    let video = out.join("video.npy");
    let gif = out.join("clip.gif");
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("tiny-split/golden/run.json")).unwrap()).unwrap();
    let result = freenoise(&[
        "generate",
        "--model",
        model.to_str().unwrap(),
        "--motion-adapter",
        adapter.to_str().unwrap(),
        "--prompt",
        run["prompt"].as_str().unwrap(),
        "--negative",
        run["negative"].as_str().unwrap(),
        "--steps",
        "3",
        "--guidance",
        "7.5",
        "--scheduler",
        "ddim",
        "--init-latents",
        init.to_str().unwrap(),
        "--save-latents",
        latents.to_str().unwrap(),
        "--save-video",
        video.to_str().unwrap(),
        "--out",
        gif.to_str().unwrap(),
    ]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let read = |p: &std::path::Path| read_npy(&std::fs::read(p).unwrap(), "out").unwrap();
    let steps = golden("tiny-split", "ddim_step_latents");
    let last = &steps.data[steps.data.len() / 3 * 2..];
    let got = read(&latents);
    assert_eq!(got.shape, vec![1, 4, 8, 8, 8]);
    assert!(relative_l2(&got.data, last) <= 1e-3);
    let got_video = read(&video);
    assert_eq!(got_video.shape, vec![8, 64, 64, 3]);
    assert!(relative_l2(&got_video.data, &golden("tiny-split", "ddim_video").data) <= 1e-3);
    assert!(std::fs::read(&gif).unwrap().starts_with(b"GIF89a"));
}

#[test]
fn cli_runs_a_bare_lightning_style_adapter_file() {
    let out = tempdir();
    let run: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(fixture("tiny-split/lightning/golden/run.json")).unwrap()).unwrap();
    let adapter = fixture(&format!("tiny-split/lightning/{}", run["file"].as_str().unwrap()));
    let video = out.join("lightning.npy");
    let result = freenoise(&[
        "generate",
        "--model",
        fixture("tiny-split").to_str().unwrap(),
        "--motion-adapter",
        adapter.to_str().unwrap(),
        "--prompt",
        run["prompt"].as_str().unwrap(),
        "--steps",
        "4",
        "--guidance",
        "1",
        "--scheduler",
        "euler",
        "--beta-schedule",
        "linear",
        "--init-latents",
        fixture("tiny-split/lightning/golden/init_latents.npy").to_str().unwrap(),
        "--save-video",
        video.to_str().unwrap(),
    ]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let got = read_npy(&std::fs::read(&video).unwrap(), "out").unwrap();
    assert!(relative_l2(&got.data, &golden("tiny-split/lightning", "video").data) <= 1e-3);
    // A file that is not a motion adapter is named, with what it lacks.
    let wrong = fixture("tiny-split/vae/diffusion_pytorch_model.safetensors");
    let result = freenoise(&["generate", "--model", fixture("tiny-split").to_str().unwrap(), "--motion-adapter", wrong.to_str().unwrap(), "--prompt", "x"]);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(!result.status.success() && stderr.contains("vae/diffusion_pytorch_model.safetensors") && stderr.contains("not a motion adapter"), "{stderr}");
}

#[test]
fn cli_explains_bad_input() {
    let out = tempdir();
    let model = fixture("tiny-mid");
    let m = model.to_str().unwrap();
    let stderr = |args: &[&str]| {
        let result = freenoise(args);
        assert!(!result.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&result.stderr).to_string()
    };
    assert!(stderr(&["generate", "--model", "/no/such/dir", "--prompt", "x"]).contains("no such folder"));
    assert!(stderr(&["generate", "--model", m, "--prompt", "x", "--height", "60", "--width", "64", "--steps", "1"]).contains("height 60"));
    assert!(stderr(&["generate", "--model", m, "--prompt", "x", "--height", "64", "--width", "64", "--steps", "0"]).contains("steps"));
    let small = ["generate", "--model", m, "--prompt", "x", "--height", "64", "--width", "64", "--steps", "1"];
    let with = |extra: &[&'static str]| [&small[..], extra].concat();
    assert!(stderr(&with(&["--frames", "40", "--freenoise", "off"])).contains("position table (32 frames)"));
    assert!(stderr(&with(&["--frames", "64", "--context-length", "40"])).contains("window of 40 frames is longer"));
    assert!(stderr(&with(&["--frames", "64", "--context-stride", "0"])).contains("stride"));
    assert!(stderr(&with(&["--frames", "64", "--context-stride", "17"])).contains("stride"));
    assert!(stderr(&with(&["--frames", "32", "--prompt-at", "40=a dog"])).contains("keyframe 40 is outside"));
    assert!(stderr(&with(&["--frames", "32", "--prompt-at", "8=a dog", "--prompt-at", "8=a cat"])).contains("two prompts"));
    assert!(stderr(&with(&["--frames", "32", "--prompt-at", "8="])).contains("empty"));
    assert!(stderr(&with(&["--frames", "32", "--prompt-at", "dog"])).contains("FRAME=TEXT"));
    assert!(stderr(&with(&["--frames", "32", "--chunk", "0"])).contains("chunk must be at least 1"));
    let wrong = out.join("wrong.npy");
    std::fs::write(&wrong, write_npy(&[1, 4, 8, 4, 4], &[0.0; 512])).unwrap();
    assert!(stderr(&["generate", "--model", m, "--prompt", "x", "--frames", "16", "--init-latents", wrong.to_str().unwrap(), "--steps", "1"])
        .contains("initial latents have shape"));
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("freenoise-cli-{}-{:?}", std::process::id(), std::thread::current().id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cli_runs_a_long_multi_prompt_clip() {
    let out = tempdir();
    let video = out.join("long.npy");
    let result = freenoise(&[
        "generate",
        "--model",
        fixture("tiny-mid").to_str().unwrap(),
        "--prompt",
        "a red fox",
        "--prompt-at",
        "20=a white rabbit",
        "--negative-at",
        "24=blurry",
        "--motion-injection",
        "--frames",
        "40",
        "--height",
        "64",
        "--width",
        "64",
        "--steps",
        "2",
        "--weighting",
        "sawtooth",
        "--fusion",
        "attention",
        "--chunk",
        "16",
        "--save-video",
        video.to_str().unwrap(),
    ]);
    assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
    let array = read_npy(&std::fs::read(&video).unwrap(), "long").unwrap();
    assert_eq!(array.shape, vec![40, 64, 64, 3]);
    // Frames fewer than the window fall back to plain sampling with a warning.
    let short = freenoise(&[
        "generate",
        "--model",
        fixture("tiny-mid").to_str().unwrap(),
        "--prompt",
        "a fox",
        "--frames",
        "8",
        "--height",
        "64",
        "--width",
        "64",
        "--steps",
        "1",
    ]);
    assert!(short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("plain sampling"));
}

/// `--interpolation hold` keeps each keyframe's prompt until the next: the same clip as linear
/// travel whose first prompt is repeated just before the second keyframe, and another clip than
/// linear travel between the two.
#[test]
fn cli_holds_keyframe_prompts_until_the_next() {
    let out = tempdir();
    let run = |name: &str, extra: &[&str]| {
        let (model, video) = (fixture("tiny-mid"), out.join(format!("{name}.npy")));
        let mut args = vec![
            "generate",
            "--model",
            model.to_str().unwrap(),
            "--prompt",
            "a red fox",
            "--frames",
            "16",
            "--height",
            "64",
            "--width",
            "64",
            "--steps",
            "2",
            "--save-video",
            video.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let result = freenoise(&args);
        assert!(result.status.success(), "{}", String::from_utf8_lossy(&result.stderr));
        read_npy(&std::fs::read(&video).unwrap(), name).unwrap().data
    };
    let held = run("hold", &["--prompt-at", "8=a white rabbit", "--interpolation", "hold"]);
    let stepped = run("stepped", &["--prompt-at", "7=a red fox", "--prompt-at", "8=a white rabbit"]);
    let blended = run("linear", &["--prompt-at", "8=a white rabbit"]);
    let largest = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max);
    assert!(largest(&held, &stepped) < 1e-4, "hold differs from a stepped linear travel by {}", largest(&held, &stepped));
    assert!(largest(&held, &blended) > 1e-3, "hold made the linear travel's clip");
}

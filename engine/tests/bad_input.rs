//! Broken models fail with errors that name the file, field or tensor at fault.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use engine::pipeline::Pipeline;
use engine::store::DirStore;
use engine::Backend;

/// A private copy of a fixture pipeline to break.
fn copy_fixture(config: &str, tag: &str) -> PathBuf {
    let dest = std::env::temp_dir().join(format!("freenoise-bad-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dest);
    copy_dir(&fixture(config), &dest);
    dest
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &to.join(entry.file_name()));
        } else {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

fn load_error(dir: &Path) -> String {
    match Pipeline::load(&DirStore::new(dir).unwrap(), None, &Backend::cpu_device()) {
        Ok(_) => panic!("{} loaded but should not have", dir.display()),
        Err(e) => e.to_string(),
    }
}

fn edit_json(path: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    edit(&mut value);
    std::fs::write(path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
}

/// Rewrites a safetensors file with its header edited (data unchanged).
fn edit_header(path: &Path, edit: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>)) {
    let bytes = std::fs::read(path).unwrap();
    let len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let mut header: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&bytes[8..8 + len]).unwrap();
    let data = bytes[8 + len..].to_vec();
    edit(&mut header);
    let text = serde_json::to_vec(&header).unwrap();
    let mut out = (text.len() as u64).to_le_bytes().to_vec();
    out.extend(text);
    out.extend(data);
    std::fs::write(path, out).unwrap();
}

const UNET: &str = "unet/diffusion_pytorch_model.safetensors";

#[test]
fn missing_folder_and_file_are_named() {
    assert!(DirStore::new("/no/such/model").err().unwrap().to_string().contains("/no/such/model"));
    let dir = copy_fixture("tiny-mid", "missing-file");
    std::fs::remove_file(dir.join(UNET)).unwrap();
    let error = load_error(&dir);
    assert!(error.contains("unet/diffusion_pytorch_model.safetensors") && error.contains("missing"), "{error}");
}

#[test]
fn config_problems_name_the_field() {
    let dir = copy_fixture("tiny-mid", "config");
    let config = dir.join("unet/config.json");
    edit_json(&config, |v| {
        v.as_object_mut().unwrap().remove("block_out_channels");
    });
    assert!(load_error(&dir).contains("block_out_channels"));
    std::fs::copy(fixture("tiny-mid/unet/config.json"), &config).unwrap();
    edit_json(&config, |v| v["down_block_types"][1] = "SimpleDownBlock".into());
    let error = load_error(&dir);
    assert!(error.contains("down_block_types") && error.contains("SimpleDownBlock"), "{error}");
    std::fs::copy(fixture("tiny-mid/unet/config.json"), &config).unwrap();
    edit_json(&config, |v| v["act_fn"] = "gelu".into());
    assert!(load_error(&dir).contains("`act_fn`"));
    // Informational fields are ignored: a config with extra metadata still loads.
    std::fs::copy(fixture("tiny-mid/unet/config.json"), &config).unwrap();
    edit_json(&config, |v| v["_name_or_path"] = "someone/some-model".into());
    Pipeline::load(&DirStore::new(&dir).unwrap(), None, &Backend::cpu_device()).unwrap();
}

#[test]
fn a_tokenizer_longer_than_the_text_encoder_is_refused() {
    let dir = copy_fixture("tiny-mid", "tokens");
    let config = dir.join("tokenizer/tokenizer_config.json");
    edit_json(&config, |v| v["model_max_length"] = 100.into());
    let error = load_error(&dir);
    assert!(error.contains("model_max_length 100") && error.contains("77 positions"), "{error}");
    edit_json(&config, |v| v["model_max_length"] = 2.into());
    let error = load_error(&dir);
    assert!(error.contains("tokenizer_config.json") && error.contains("model_max_length 2"), "{error}");
}

#[test]
fn truncated_and_lying_files_are_refused() {
    let dir = copy_fixture("tiny-mid", "truncated");
    let weights = dir.join(UNET);
    let bytes = std::fs::read(&weights).unwrap();
    std::fs::write(&weights, &bytes[..bytes.len() - 100]).unwrap();
    let error = load_error(&dir);
    assert!(error.contains("truncated") && error.contains("diffusion_pytorch_model.safetensors"), "{error}");

    std::fs::write(&weights, &bytes).unwrap();
    edit_header(&weights, |h| h["conv_in.bias"]["data_offsets"][1] = serde_json::json!(u32::MAX));
    let error = load_error(&dir);
    assert!(error.contains("conv_in.bias"), "{error}");
}

#[test]
fn missing_unexpected_and_misshaped_tensors_are_all_listed() {
    let dir = copy_fixture("tiny-mid", "tensors");
    let weights = dir.join(UNET);
    edit_header(&weights, |h| {
        let conv = h.remove("conv_in.bias").unwrap();
        h.insert("extra.weight".into(), conv);
        let shape = h["conv_out.weight"]["shape"].clone();
        let mut swapped = shape.as_array().unwrap().clone();
        swapped.swap(0, 1);
        h["conv_out.weight"]["shape"] = swapped.into();
    });
    let error = load_error(&dir);
    for needle in ["missing tensor `conv_in.bias`", "unexpected tensor `extra.weight`", "tensor `conv_out.weight` has shape"] {
        assert!(error.contains(needle), "{needle} not in: {error}");
    }
}

#[test]
fn wrong_dtype_is_refused() {
    let dir = copy_fixture("tiny-mid", "dtype");
    edit_header(&dir.join(UNET), |h| h["conv_in.bias"]["dtype"] = "U8".into());
    assert!(load_error(&dir).contains("dtype U8"));
}

#[test]
fn text_encoder_keys_load_with_and_without_the_text_model_prefix() {
    let dir = copy_fixture("tiny-mid", "prefix");
    edit_header(&dir.join("text_encoder/model.safetensors"), |h| {
        let entries: Vec<(String, serde_json::Value)> = std::mem::take(h).into_iter().collect();
        for (key, value) in entries {
            let renamed = if key == "__metadata__" { key } else { format!("text_model.{key}") };
            h.insert(renamed, value);
        }
    });
    let device = Backend::cpu_device();
    let plain = engine::clip::load_text_encoder(&DirStore::new(fixture("tiny-mid")).unwrap(), &device).unwrap();
    let prefixed = engine::clip::load_text_encoder(&DirStore::new(&dir).unwrap(), &device).unwrap();
    let ids = || {
        engine::burn::prelude::Tensor::<2, engine::burn::prelude::Int>::from_data(
            engine::burn::prelude::TensorData::new(vec![49406i64, 320, 2368, 49407], [1, 4]),
            &device,
        )
    };
    assert_eq!(values(plain.forward(ids())), values(prefixed.forward(ids())));
}

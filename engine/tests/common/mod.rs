//! Shared helpers of the parity tests: fixture paths, golden arrays, the error measure.
#![allow(dead_code)] // each test binary uses its own subset

use std::path::PathBuf;

use engine::burn::prelude::*;
use engine::npy::{read_npy, NpyArray};

pub fn fixture(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures").join(path)
}

pub fn golden(config: &str, name: &str) -> NpyArray {
    let path = fixture(&format!("{config}/golden/{name}.npy"));
    read_npy(&std::fs::read(&path).unwrap(), &path.display().to_string()).unwrap()
}

pub fn tensor<const D: usize>(array: &NpyArray, device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(array.data.clone(), array.shape.clone()), device)
}

pub fn values<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap()
}

/// ‖got − want‖ / ‖want‖.
pub fn relative_l2(got: &[f32], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len(), "lengths differ");
    let diff: f64 = got.iter().zip(want).map(|(g, w)| (*g as f64 - *w as f64).powi(2)).sum();
    let norm: f64 = want.iter().map(|w| (*w as f64).powi(2)).sum();
    (diff / norm).sqrt()
}

pub const CONFIGS: [&str; 2] = ["tiny-mid", "tiny-split"];

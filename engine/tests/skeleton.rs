//! The skeleton block on the CPU backend against an independent loop implementation, and
//! against the committed reference image that the browser test also checks.

use burn::prelude::*;
use engine::skeleton::{self, SkeletonBlock, SkeletonWeights, GROUPS, HIDDEN, IN_CHANNELS, SIZE};
use engine::Backend;

/// The prompt whose image is committed in `tests/fixtures/skeleton.json`.
const FIXTURE_PROMPT: &str = "a red fox running through snow";
const FIXTURE_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/skeleton.json");

/// Plain-loop reference in f64: `[3, SIZE, SIZE]` values in (0, 1).
fn reference(weights: &SkeletonWeights, latent: &[f32]) -> Vec<f64> {
    let n = SIZE * SIZE;
    let at = |c: usize, y: isize, x: isize| -> f64 {
        if y < 0 || x < 0 || y >= SIZE as isize || x >= SIZE as isize {
            0.0
        } else {
            latent[c * n + y as usize * SIZE + x as usize] as f64
        }
    };
    // 3×3 convolution with zero padding.
    let mut hidden = vec![0f64; HIDDEN * n];
    for o in 0..HIDDEN {
        for y in 0..SIZE {
            for x in 0..SIZE {
                let mut sum = weights.conv_in_bias[o] as f64;
                for c in 0..IN_CHANNELS {
                    for ky in 0..3 {
                        for kx in 0..3 {
                            let w = weights.conv_in_weight[((o * IN_CHANNELS + c) * 3 + ky) * 3 + kx];
                            sum += w as f64 * at(c, y as isize + ky as isize - 1, x as isize + kx as isize - 1);
                        }
                    }
                }
                hidden[o * n + y * SIZE + x] = sum;
            }
        }
    }
    // GroupNorm (biased variance) then SiLU.
    let per_group = HIDDEN / GROUPS;
    for g in 0..GROUPS {
        let slice = &hidden[g * per_group * n..(g + 1) * per_group * n];
        let mean = slice.iter().sum::<f64>() / slice.len() as f64;
        let var = slice.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / slice.len() as f64;
        for c in g * per_group..(g + 1) * per_group {
            for i in 0..n {
                let v = (hidden[c * n + i] - mean) / (var + skeleton::NORM_EPS as f64).sqrt();
                let v = v * weights.norm_weight[c] as f64 + weights.norm_bias[c] as f64;
                hidden[c * n + i] = v / (1.0 + (-v).exp());
            }
        }
    }
    // Single-head attention over positions, residual.
    let linear = |w: &[f32], token: &[f64]| -> Vec<f64> {
        (0..HIDDEN).map(|o| (0..HIDDEN).map(|i| w[o * HIDDEN + i] as f64 * token[i]).sum()).collect()
    };
    let tokens: Vec<Vec<f64>> =
        (0..n).map(|p| (0..HIDDEN).map(|c| hidden[c * n + p]).collect()).collect();
    let q: Vec<_> = tokens.iter().map(|t| linear(&weights.to_q, t)).collect();
    let k: Vec<_> = tokens.iter().map(|t| linear(&weights.to_k, t)).collect();
    let v: Vec<_> = tokens.iter().map(|t| linear(&weights.to_v, t)).collect();
    let scale = 1.0 / (HIDDEN as f64).sqrt();
    let mut out = vec![0f64; 3 * n];
    for p in 0..n {
        let scores: Vec<f64> =
            k.iter().map(|kj| q[p].iter().zip(kj).map(|(a, b)| a * b).sum::<f64>() * scale).collect();
        let max = scores.iter().cloned().fold(f64::MIN, f64::max);
        let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
        let total: f64 = exps.iter().sum();
        let mixed: Vec<f64> = (0..HIDDEN)
            .map(|c| exps.iter().zip(&v).map(|(e, vj)| e * vj[c]).sum::<f64>() / total)
            .collect();
        let projected = linear(&weights.to_out_weight, &mixed);
        let token: Vec<f64> = (0..HIDDEN)
            .map(|c| tokens[p][c] + projected[c] + weights.to_out_bias[c] as f64)
            .collect();
        for o in 0..3 {
            let z = weights.conv_out_bias[o] as f64
                + (0..HIDDEN).map(|c| weights.conv_out_weight[o * HIDDEN + c] as f64 * token[c]).sum::<f64>();
            out[o * n + p] = 1.0 / (1.0 + (-z).exp());
        }
    }
    out
}

#[test]
fn block_matches_loop_reference() {
    let device = Backend::cpu_device();
    let weights = SkeletonWeights::seeded(skeleton::WEIGHT_SEED);
    let latent = skeleton::prompt_latent(FIXTURE_PROMPT);
    let block = SkeletonBlock::new(&weights, &device);
    let input = Tensor::<4>::from_data(TensorData::new(latent.clone(), [1, IN_CHANNELS, SIZE, SIZE]), &device);
    let got = block.forward(input).into_data().try_to_vec::<f32>().unwrap();
    let want = reference(&weights, &latent);
    let diff: f64 = got.iter().zip(&want).map(|(g, w)| (*g as f64 - w).powi(2)).sum::<f64>().sqrt();
    let norm: f64 = want.iter().map(|w| w * w).sum::<f64>().sqrt();
    assert!(diff / norm < 1e-5, "relative L2 error {}", diff / norm);
    // The image is not flat: a broken block that outputs a constant would pass a loose check.
    let spread = want.iter().cloned().fold(f64::MIN, f64::max) - want.iter().cloned().fold(f64::MAX, f64::min);
    assert!(spread > 0.5, "reference image spread {spread}");
}

#[test]
fn prompt_changes_the_image() {
    let device = Backend::cpu_device();
    let a = pollster::block_on(skeleton::render("a cat", &device)).unwrap();
    let b = pollster::block_on(skeleton::render("a dog", &device)).unwrap();
    assert_ne!(a.rgb, b.rgb);
    assert_eq!(a, pollster::block_on(skeleton::render("a cat", &device)).unwrap());
}

/// The committed image the browser test compares its canvas with. `UPDATE_FIXTURES=1` rewrites it.
#[test]
fn committed_reference_image_is_current() {
    let image = pollster::block_on(skeleton::render(FIXTURE_PROMPT, &Backend::cpu_device())).unwrap();
    assert_eq!((image.width, image.height), (SIZE, SIZE));
    if std::env::var_os("UPDATE_FIXTURES").is_some() {
        let json = serde_json::json!({
            "prompt": FIXTURE_PROMPT, "width": image.width, "height": image.height, "rgb": image.rgb,
        });
        std::fs::write(FIXTURE_PATH, serde_json::to_string(&json).unwrap()).unwrap();
    }
    let text = std::fs::read_to_string(FIXTURE_PATH).expect("tests/fixtures/skeleton.json");
    let fixture: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(fixture["prompt"], FIXTURE_PROMPT);
    let committed: Vec<u8> =
        fixture["rgb"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u8).collect();
    assert_eq!(committed.len(), image.rgb.len());
    // Another CPU may round a value across a u8 boundary; one step is the most that allows.
    let worst = committed.iter().zip(&image.rgb).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
    assert!(worst <= 1, "image differs from the committed reference by {worst}/255");
}

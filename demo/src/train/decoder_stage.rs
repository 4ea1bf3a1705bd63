//! Stage 1b: the VAE decoder alone, on the frozen encoder's latent means, with the pixels of
//! objects weighted above the background. Why: stage 1's plain MSE is dominated by background
//! and edges, and it left the objects' flat colours wrong often enough to cap the demo model's
//! colour score (too few held-out clips kept their named colour through encoder and decoder;
//! `docs/demo-model-history.md`, stop 14).
//! The encoder, and so every latent the denoiser learns and the clip pool, stay as they are.

use burn::prelude::*;

use engine::vae::VaeDecoder;

/// Unit-RGB distance from the row's median colour beyond which a pixel is an object's.
const OBJECT_DISTANCE: f32 = 0.1;

/// Per-pixel loss weights `[count, 1, size, size]` for frames `[count, 3, size, size]` in
/// [-1, 1]: `1 + object_weight` on object pixels (far from their row's median colour in this
/// frame; the clip analyser's background is a row median too, over all frames), 1 elsewhere.
pub fn object_weights(pixels: &[f32], count: usize, size: usize, object_weight: f32) -> Vec<f32> {
    let plane = size * size;
    let mut weights = vec![1.0; count * plane];
    for f in 0..count {
        let frame = &pixels[f * 3 * plane..(f + 1) * 3 * plane];
        for y in 0..size {
            let median: [f32; 3] = std::array::from_fn(|c| {
                let mut row: Vec<f32> = frame[c * plane + y * size..c * plane + (y + 1) * size].to_vec();
                row.sort_by(f32::total_cmp);
                row[size / 2]
            });
            for x in 0..size {
                // Pixels are in [-1, 1]: halve the difference for unit RGB.
                let distance = (0..3).map(|c| ((frame[c * plane + y * size + x] - median[c]) / 2.0).powi(2)).sum::<f32>().sqrt();
                if distance > OBJECT_DISTANCE {
                    weights[f * plane + y * size + x] += object_weight;
                }
            }
        }
    }
    weights
}

/// Weighted MSE of the decoded `latents` against `pixels`; `weights` is `[n, 1, h, w]`.
pub fn loss(decoder: &VaeDecoder, latents: Tensor<4>, pixels: Tensor<4>, weights: Tensor<4>) -> Tensor<1> {
    let [n, channels, h, w] = pixels.dims();
    let error = (decoder.decode(latents) - pixels).powi_scalar(2);
    let weighted = error * weights.clone().expand([n, channels, h, w]);
    weighted.sum().div(weights.sum().mul_scalar(channels as f32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_pixels_outweigh_the_background() {
        // A 4×4 black frame (-1) with one red pixel and one barely lighter pixel.
        let size = 4;
        let mut frame = vec![-1.0; 3 * size * size];
        frame[size + 2] = 0.8; // red channel of (x 2, y 1)
        frame[2 * 16 + 3 * size] = -0.9; // blue channel of (x 0, y 3): 0.05 apart, background
        let weights = object_weights(&frame, 1, size, 9.0);
        let expected: Vec<f32> = (0..16).map(|i| if i == size + 2 { 10.0 } else { 1.0 }).collect();
        assert_eq!(weights, expected);
    }
}

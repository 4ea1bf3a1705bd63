//! Live previews: latents → RGB by a fixed linear map, no VAE. For Stable Diffusion's 4-channel
//! latent space the community-standard factors give a recognisable, blurry image at latent
//! resolution (1/8 of the clip's side); for other latent spaces it is only a rough impression.

/// Frames at latent resolution, RGB bytes `[frames, height, width, 3]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Preview {
    pub frames: usize,
    pub height: usize,
    pub width: usize,
    pub rgb: Vec<u8>,
}

/// Rows: latent channels; columns: R, G, B contribution (SD 1.x VAE, widely used by UIs).
const FACTORS: [[f32; 3]; 4] = [[0.298, 0.207, 0.208], [0.187, 0.286, 0.173], [-0.158, 0.189, 0.264], [-0.184, -0.271, -0.473]];

impl Preview {
    /// From latents `[1, C, F, h, w]` (as the UNet makes them); `None` unless C is 4.
    pub fn from_latents(latents: &[f32], shape: [usize; 5]) -> Option<Self> {
        let [_, channels, frames, height, width] = shape;
        if channels != FACTORS.len() {
            return None;
        }
        let plane = height * width;
        let mut rgb = Vec::with_capacity(frames * plane * 3);
        for f in 0..frames {
            for p in 0..plane {
                for colour in 0..3 {
                    let value: f32 = FACTORS.iter().enumerate().map(|(c, factors)| latents[(c * frames + f) * plane + p] * factors[colour]).sum();
                    rgb.push(crate::image::unit_to_u8((value + 1.0) / 2.0));
                }
            }
        }
        Some(Self { frames, height, width, rgb })
    }
}

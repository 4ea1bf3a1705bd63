//! Images leaving the engine: 8-bit RGB, row-major, what a canvas or a GIF frame wants.

use burn::prelude::*;

use crate::EngineError;

#[derive(Clone, Debug, PartialEq)]
pub struct RgbImage {
    pub width: usize,
    pub height: usize,
    /// `width * height * 3` bytes, row-major, RGB.
    pub rgb: Vec<u8>,
}

impl RgbImage {
    /// Converts a `[3, H, W]` tensor with values in [0, 1] to 8-bit RGB.
    /// Reads back asynchronously: the browser cannot block on a GPU read.
    pub async fn from_chw(tensor: Tensor<3>, name: &'static str) -> Result<Self, EngineError> {
        let [channels, height, width] = tensor.dims();
        if channels != 3 {
            return Err(EngineError::BadTensor {
                tensor: name,
                problem: format!("expected 3 colour channels, got {channels}"),
            });
        }
        let hwc = tensor.permute([1, 2, 0]);
        let data = hwc.into_data_async().await.map_err(|e| EngineError::Readback {
            tensor: name,
            reason: format!("{e:?}"),
        })?;
        let values = data.try_to_vec::<f32>().map_err(|e| EngineError::BadTensor {
            tensor: name,
            problem: format!("{e:?}"),
        })?;
        Ok(Self { width, height, rgb: values.iter().map(|&v| unit_to_u8(v)).collect() })
    }

    /// RGBA bytes with opaque alpha, the layout of a canvas `ImageData`.
    pub fn to_rgba(&self) -> Vec<u8> {
        self.rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect()
    }
}

/// Maps [0, 1] to 0..=255 with rounding, clamping out-of-range values.
pub fn unit_to_u8(value: f32) -> u8 {
    (value.clamp(0.0, 1.0) * 255.0).round() as u8
}

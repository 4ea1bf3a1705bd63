//! Pixels leaving the engine: 8-bit values for canvases and GIF frames.

/// Maps [0, 1] to 0..=255 with rounding, clamping out-of-range values.
pub fn unit_to_u8(value: f32) -> u8 {
    (value.clamp(0.0, 1.0) * 255.0).round() as u8
}

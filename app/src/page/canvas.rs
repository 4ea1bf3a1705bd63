//! Painting frames into a canvas.

use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

/// Sizes the canvas to the frame and paints its RGBA pixels as they are (CSS scales it up).
pub fn paint_rgba(canvas: &HtmlCanvasElement, rgba: &[u8], width: usize, height: usize) -> Result<(), String> {
    if canvas.width() != width as u32 || canvas.height() != height as u32 {
        canvas.set_width(width as u32);
        canvas.set_height(height as u32);
    }
    let context = canvas
        .get_context("2d")
        .map_err(|e| format!("no 2D context: {e:?}"))?
        .ok_or("the canvas has no 2D context")?
        .dyn_into::<CanvasRenderingContext2d>()
        .map_err(|_| "unexpected canvas context type")?;
    let data =
        ImageData::new_with_u8_clamped_array_and_sh(Clamped(rgba), width as u32, height as u32).map_err(|e| format!("could not build image data: {e:?}"))?;
    context.put_image_data(&data, 0.0, 0.0).map_err(|e| format!("could not paint: {e:?}"))
}

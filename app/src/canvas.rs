//! Painting engine images into a canvas.

use engine::RgbImage;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ImageData};

/// Sizes the canvas to the image and paints it pixel for pixel (CSS scales it up).
pub fn paint(canvas: &HtmlCanvasElement, image: &RgbImage) -> Result<(), String> {
    canvas.set_width(image.width as u32);
    canvas.set_height(image.height as u32);
    let context = canvas
        .get_context("2d")
        .map_err(|e| format!("no 2D context: {e:?}"))?
        .ok_or("the canvas has no 2D context")?
        .dyn_into::<CanvasRenderingContext2d>()
        .map_err(|_| "unexpected canvas context type")?;
    let rgba = image.to_rgba();
    let data = ImageData::new_with_u8_clamped_array_and_sh(
        Clamped(&rgba),
        image.width as u32,
        image.height as u32,
    )
    .map_err(|e| format!("could not build image data: {e:?}"))?;
    context.put_image_data(&data, 0.0, 0.0).map_err(|e| format!("could not paint: {e:?}"))
}

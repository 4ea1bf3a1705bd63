//! Rasterising shapes: 2×2 supersampled coverage, so edges are smooth and motion is sub-pixel.

use crate::vocab::{Background, Shape};

/// Where one object is in one frame.
#[derive(Clone, Copy, Debug)]
pub struct Pose {
    pub x: f32,
    pub y: f32,
    pub radius: f32,
    /// Radians, clockwise on screen.
    pub angle: f32,
}

/// Fills `rgb` (`[3, size, size]`, values 0..1) with the background.
pub fn fill_background(rgb: &mut [f32], size: usize, background: Background) {
    for y in 0..size {
        let colour = match background {
            Background::Plain { rgb, .. } => rgb.map(|c| c as f32),
            Background::Gradient { top, bottom, .. } => {
                let t = y as f32 / (size - 1) as f32;
                std::array::from_fn(|c| top[c] as f32 * (1.0 - t) + bottom[c] as f32 * t)
            }
        };
        for x in 0..size {
            for c in 0..3 {
                rgb[(c * size + y) * size + x] = colour[c] / 255.0;
            }
        }
    }
}

/// Paints a shape over `rgb` (`[3, size, size]`) at `opacity` (1 for the object, less for the
/// ghosts of its trail).
pub fn draw(rgb: &mut [f32], size: usize, shape: Shape, pose: Pose, colour: [u8; 3], opacity: f32) {
    let polygon = outline(shape, pose);
    let reach = pose.radius.ceil() as i32 + 1;
    let (cx, cy) = (pose.x.round() as i32, pose.y.round() as i32);
    for py in (cy - reach).max(0)..(cy + reach + 1).min(size as i32) {
        for px in (cx - reach).max(0)..(cx + reach + 1).min(size as i32) {
            let mut covered = 0;
            for (sx, sy) in [(0.25, 0.25), (0.75, 0.25), (0.25, 0.75), (0.75, 0.75)] {
                let (x, y) = (px as f32 + sx, py as f32 + sy);
                let inside = match &polygon {
                    None => (x - pose.x).powi(2) + (y - pose.y).powi(2) <= pose.radius * pose.radius,
                    Some(points) => inside_polygon(points, x, y),
                };
                covered += inside as u32;
            }
            if covered == 0 {
                continue;
            }
            let alpha = opacity * covered as f32 / 4.0;
            for (c, &value) in colour.iter().enumerate() {
                let i = (c * size + py as usize) * size + px as usize;
                rgb[i] = rgb[i] * (1.0 - alpha) + value as f32 / 255.0 * alpha;
            }
        }
    }
}

/// The shape's corners in pixel coordinates; `None` for a circle.
fn outline(shape: Shape, pose: Pose) -> Option<Vec<(f32, f32)>> {
    let corners: Vec<(f32, f32)> = match shape {
        Shape::Circle => return None,
        Shape::Square => (0..4).map(|i| (0.85 * std::f32::consts::SQRT_2, 45.0 + 90.0 * i as f32)).collect(),
        Shape::Triangle => (0..3).map(|i| (1.1, -90.0 + 120.0 * i as f32)).collect(),
        Shape::Star => (0..10).map(|i| (if i % 2 == 0 { 1.15 } else { 0.5 }, -90.0 + 36.0 * i as f32)).collect(),
    };
    Some(
        corners
            .into_iter()
            .map(|(scale, degrees)| {
                let a = degrees.to_radians() + pose.angle;
                (pose.x + scale * pose.radius * a.cos(), pose.y + scale * pose.radius * a.sin())
            })
            .collect(),
    )
}

/// Even-odd crossing test.
fn inside_polygon(points: &[(f32, f32)], x: f32, y: f32) -> bool {
    let mut inside = false;
    let mut j = points.len() - 1;
    for i in 0..points.len() {
        let ((xi, yi), (xj, yj)) = (points[i], points[j]);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

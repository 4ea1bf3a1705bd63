//! Reads a generated clip of the demo model's world: the moving object's dominant colour and its
//! centroid trajectory. Deterministic, model-agnostic image statistics, used by the semantic
//! checks (and usable on any clip of shapes on plain or vertical-gradient backgrounds).
//!
//! The background is estimated per row as the median colour of that row over all frames and
//! columns (an object mostly covers a minority of any row, and a vertical gradient is constant
//! along a row). A row whose median lies far from the straight line through the rows' medians
//! (fitted robustly, so up to half the rows may be off it) takes the line's colour instead: a
//! long comet lapping a torus along its own row covers most of that row in every frame, and
//! the row's median is then the object's colour. Pixels far from their row's background are
//! the object.
//!
//! Positions are read on a torus: an object's centroid is the circular mean of its pixels'
//! columns and rows, and each frame's centroid is taken a whole frame width or height away when
//! that puts it nearer the previous one. So a mover that leaves one edge and comes back at the
//! other (the data set's [`crate::dataset::Placement::Torus`]) keeps travelling the same way,
//! and an object split across two edges is read where it is; for an object inside the frame
//! the circular mean is its centroid.

use crate::vocab::{Direction, COLOURS};

/// Unit-RGB distance from the row background above which a pixel belongs to the object.
const FOREGROUND: f32 = 0.25;
/// Fewer object pixels than this and the object counts as absent from the frame.
const MIN_PIXELS: usize = 10;
/// Slower than this (pixels per frame) and the object counts as not travelling.
const MIN_SPEED: f32 = 0.3;

#[derive(Clone, Debug, PartialEq)]
pub struct Analysis {
    /// Index into [`COLOURS`] of the named colour nearest the object's median colour.
    pub colour: Option<usize>,
    /// Object centroid per frame (x, y in pixels, unwrapped across the frame's edges, so a
    /// wrapping mover's track continues past them), `None` where it is absent.
    pub centroids: Vec<Option<[f32; 2]>>,
}

/// `frames`: `[count][height·width·3]` RGB bytes, row-major.
pub fn analyse(frames: &[Vec<u8>], width: usize, height: usize) -> Analysis {
    let background = row_backgrounds(frames, width, height);
    let mut object_pixels: [Vec<u8>; 3] = Default::default();
    let mut previous: Option<[f32; 2]> = None;
    let centroids = frames
        .iter()
        .map(|frame| {
            let (mut columns, mut rows, mut n) = (Circular::default(), Circular::default(), 0usize);
            for (y, &row_background) in background.iter().enumerate().take(height) {
                for x in 0..width {
                    let i = (y * width + x) * 3;
                    let pixel = [frame[i], frame[i + 1], frame[i + 2]];
                    if distance(pixel, row_background) > FOREGROUND {
                        columns.add(x as f32 + 0.5, width);
                        rows.add(y as f32 + 0.5, height);
                        n += 1;
                        for c in 0..3 {
                            object_pixels[c].push(pixel[c]);
                        }
                    }
                }
            }
            let centroid = (n >= MIN_PIXELS).then(|| {
                let (x, y) = (columns.mean(width), rows.mean(height));
                previous.map_or([x, y], |[px, py]| [nearest_turn(x, px, width), nearest_turn(y, py, height)])
            });
            previous = centroid.or(previous);
            centroid
        })
        .collect();
    let colour = (!object_pixels[0].is_empty()).then(|| {
        let median = object_pixels.map(|mut v| median(&mut v, u8::cmp));
        (0..COLOURS.len()).min_by(|&a, &b| distance(median, COLOURS[a].rgb).total_cmp(&distance(median, COLOURS[b].rgb))).expect("colours")
    });
    Analysis { colour, centroids }
}

impl Analysis {
    /// Share of frames in which the object is found.
    pub fn visible(&self) -> f32 {
        self.centroids.iter().filter(|c| c.is_some()).count() as f32 / self.centroids.len().max(1) as f32
    }

    /// Least-squares velocity (pixels per frame) over `frames`, from the frames where the
    /// object is visible; `None` with fewer than three such frames.
    pub fn velocity(&self, frames: std::ops::Range<usize>) -> Option<[f32; 2]> {
        let points: Vec<(f32, [f32; 2])> = frames.filter_map(|f| self.centroids.get(f).copied().flatten().map(|c| (f as f32, c))).collect();
        if points.len() < 3 {
            return None;
        }
        let n = points.len() as f32;
        let mean_t = points.iter().map(|p| p.0).sum::<f32>() / n;
        let var_t: f32 = points.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
        let slope = |axis: usize| {
            let mean = points.iter().map(|p| p.1[axis]).sum::<f32>() / n;
            points.iter().map(|p| (p.0 - mean_t) * (p.1[axis] - mean)).sum::<f32>() / var_t
        };
        Some([slope(0), slope(1)])
    }

    /// The direction of travel over `frames` (nearest of eight), `None` if the object is
    /// (nearly) still or not seen.
    pub fn direction(&self, frames: std::ops::Range<usize>) -> Option<Direction> {
        let [vx, vy] = self.velocity(frames)?;
        (vx.hypot(vy) >= MIN_SPEED).then(|| Direction::nearest(vx, vy))
    }

    /// Share of frame-to-frame steps (between visible frames) that go the way of the overall
    /// velocity: 1 for steady travel, about ½ for jitter, low when the object turns back.
    pub fn consistency(&self) -> f32 {
        let Some([vx, vy]) = self.velocity(0..self.centroids.len()) else { return 0.0 };
        let steps: Vec<f32> = self
            .centroids
            .windows(2)
            .filter_map(|w| match (w[0], w[1]) {
                (Some(a), Some(b)) => Some((b[0] - a[0]) * vx + (b[1] - a[1]) * vy),
                _ => None,
            })
            .collect();
        steps.iter().filter(|&&d| d > 0.0).count() as f32 / steps.len().max(1) as f32
    }
}

/// Sums of the unit vectors of positions on a circle of `period` pixels.
#[derive(Default)]
struct Circular {
    cos: f64,
    sin: f64,
}

impl Circular {
    fn add(&mut self, position: f32, period: usize) {
        let angle = std::f64::consts::TAU * position as f64 / period as f64;
        self.cos += angle.cos();
        self.sin += angle.sin();
    }

    /// The circular mean, in `0..period`.
    fn mean(&self, period: usize) -> f32 {
        (self.sin.atan2(self.cos) / std::f64::consts::TAU * period as f64).rem_euclid(period as f64) as f32
    }
}

/// `position` moved by whole `period`s to lie within half a period of `previous`.
fn nearest_turn(position: f32, previous: f32, period: usize) -> f32 {
    let period = period as f32;
    position + period * ((previous - position) / period).round()
}

fn row_backgrounds(frames: &[Vec<u8>], width: usize, height: usize) -> Vec<[u8; 3]> {
    let medians = row_medians(frames, width, height);
    let lines: [(f32, f32); 3] = std::array::from_fn(|c| repeated_median_line(&medians.iter().map(|m| m[c] as f32).collect::<Vec<_>>()));
    medians
        .iter()
        .enumerate()
        .map(|(y, &m)| {
            let fit = lines.map(|(at_zero, slope)| (at_zero + slope * y as f32).round().clamp(0.0, 255.0) as u8);
            if distance(m, fit) > FOREGROUND {
                fit
            } else {
                m
            }
        })
        .collect()
}

/// Siegel's repeated-median line through `values[i]` at `i`, as (value at 0, slope): every
/// median it takes ignores up to half of the points, so a band of rows an object covered
/// cannot tilt it. A plain background is the line of slope 0, a vertical gradient a sloping one.
fn repeated_median_line(values: &[f32]) -> (f32, f32) {
    let n = values.len();
    if n < 2 {
        return (values.first().copied().unwrap_or(0.0), 0.0);
    }
    let mut slopes: Vec<f32> = (0..n)
        .map(|i| {
            let mut through_i: Vec<f32> = (0..n).filter(|&j| j != i).map(|j| (values[j] - values[i]) / (j as f32 - i as f32)).collect();
            median(&mut through_i, f32::total_cmp)
        })
        .collect();
    let slope = median(&mut slopes, f32::total_cmp);
    let mut at_zero: Vec<f32> = values.iter().enumerate().map(|(i, v)| v - slope * i as f32).collect();
    (median(&mut at_zero, f32::total_cmp), slope)
}

fn row_medians(frames: &[Vec<u8>], width: usize, height: usize) -> Vec<[u8; 3]> {
    (0..height)
        .map(|y| {
            let mut channels: [Vec<u8>; 3] = Default::default();
            for frame in frames {
                for x in 0..width {
                    let i = (y * width + x) * 3;
                    for c in 0..3 {
                        channels[c].push(frame[i + c]);
                    }
                }
            }
            channels.map(|mut v| median(&mut v, u8::cmp))
        })
        .collect()
}

/// The upper median of `values` under `order` (bytes and slopes alike).
fn median<T: Copy>(values: &mut [T], order: impl FnMut(&T, &T) -> std::cmp::Ordering) -> T {
    values.sort_unstable_by(order);
    values[values.len() / 2]
}

fn distance(a: [u8; 3], b: [u8; 3]) -> f32 {
    (0..3).map(|c| ((a[c] as f32 - b[c] as f32) / 255.0).powi(2)).sum::<f32>().sqrt()
}

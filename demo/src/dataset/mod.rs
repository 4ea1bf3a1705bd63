//! The demo model's synthetic captioned-motion data set: seeded, procedural, no downloads.
//!
//! Each clip shows one or two shapes of named colours moving over a plain or gradient
//! background, with an English caption ("a red circle moving left on a black background").
//! Colour × shape × motion combinations for which [`vocab::held_out`] is true never appear in
//! the training split; the evaluation prompts are drawn from them.
//!
//! Moving objects leave a trail (ghosts of where they were), so a single frame shows which way
//! an object goes. Why: without it the direction of motion is only in the order of the frames,
//! and the demo UNet (convolutions with no absolute positions, temporal attention at one place
//! at a time) learnt colour, shape and smooth motion but ignored the caption's direction. A
//! trail turns the word into a local pattern beside the object, learnt like a colour. The first
//! trail ([`TrailStyle::Fading`]) hid mostly behind its object and was not learnt; the current
//! one ([`TRAIL`], a [`TrailStyle::Comet`]) reaches twice the object's radius behind it in the
//! object's own colour.
//!
//! Straight-line movers lap a torus ([`PLACEMENT`], a [`Placement::TwoPhaseTorus`], recipe v10):
//! the frame wraps around, and the object is back where it started every 8 frames. Why:
//! FreeNoise's windows agree only on a clip that looks the same 4 frames later (see the
//! placement's own docs); on paths inside the frame long clips reversed or left the frame.
//!
//! Recipe v8 had them cross the frame's centre ([`Placement::Centred`]), and the torus keeps
//! its lines within [`CENTRED_ACROSS`] of the centre for the same reason.
//! Why: with zero terminal SNR the first sampling step is the UNet's estimate of the clip from
//! the caption alone, the caption's mean clip, and the path the sampler follows starts there.
//! With paths spread over the frame ([`Placement::Spread`], recipes before v8) that mean is a
//! wide band in which the direction explains little of a mover's pixels
//! (`demo/probes/placement_worth.py`), and the direction word was not learnt; on centred
//! paths it was. The measurements behind each choice are in `docs/demo-model-history.md`.

mod render;

use crate::vocab::{drawable, held_out, Direction, Motion, BACKGROUNDS, COLOURS, MOTIONS, SHAPES};
pub use render::Pose;
use render::{draw, fill_background};

use serde::{Deserialize, Serialize};

use engine::rng::SplitMix64;

pub use crate::settings::{FRAMES, SIZE};
/// The current data set's trail: three comet ghosts.
pub const TRAIL: Trail = Trail { ghosts: 3, style: TrailStyle::Comet };

/// Where straight-line movers go: the current data set's choice.
pub const PLACEMENT: Placement = Placement::TwoPhaseTorus;
/// The current data set's look.
pub const STYLE: Style = Style { trail: TRAIL, placement: PLACEMENT };

/// How a data set's clips are drawn: the movers' trail and where their paths lie (a recipe
/// records both, so an older run's clips can be drawn again).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Style {
    pub trail: Trail,
    pub placement: Placement,
}

/// How a straight-line mover's path is placed in the frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// Recipes before v8: anywhere its whole path stays in the frame.
    #[default]
    Spread,
    /// Recipe v8: the path's midpoint within [`CENTRED_ACROSS`] px of the frame's centre across
    /// the motion and [`CENTRED_ALONG`] px along it, so a direction word means one path.
    Centred,
    /// Recipe v9: the frame is a torus (an object leaving one edge comes back at the other), a
    /// mover goes one lap of [`SIZE`] px per [`FRAMES`] frames along each axis it moves on, its
    /// line within [`CENTRED_ACROSS`] px of the centre and its place along the line anywhere.
    /// Why: FreeNoise fuses 16-frame windows 4 frames apart and repeats the first window's
    /// noise every 16 frames; windows agree only when a caption's mean clip is the same at
    /// every frame, so the noise, not the caption, must say where the object is, and a clip
    /// that repeats every 16 frames matches the repeated noise (`demo/probes/torus_worth.py`).
    Torus,
    /// Recipe v10: the torus at twice the speed, one lap per 8 frames (8 px a frame), starting
    /// at the centre of its line or half a lap from it, nothing in between.
    /// Why: FreeNoise's windows are 4 frames apart and count their frames from 0, so they agree
    /// only when a caption's mean clip looks the same 4 frames later. With one lap per 16 frames
    /// that forces a random phase, whose mean clip is a band the same for both signs of a
    /// direction, and the UNet has to learn the sign as a product of caption and motion
    /// features, which the runs on it did not learn. Here 4 frames are half a lap, which the two
    /// phases swap, so the windows still agree while the mean clip is two blobs travelling the
    /// caption's way: the word writes the sign as a sum again, as on centred paths
    /// (`demo/probes/torus_worth.py` measures both; figures in `docs/demo-model-history.md`).
    TwoPhaseTorus,
}

impl Placement {
    /// Frames per lap on a torus placement; `None` where the frame does not wrap.
    pub fn lap_frames(self) -> Option<usize> {
        match self {
            Placement::Spread | Placement::Centred => None,
            Placement::Torus => Some(FRAMES),
            Placement::TwoPhaseTorus => Some(FRAMES / 2),
        }
    }

    /// A torus mover's speed along each axis it moves on, pixels per frame.
    pub fn lap_speed(self) -> Option<f32> {
        self.lap_frames().map(|frames| SIZE as f32 / frames as f32)
    }

    /// How many evenly spaced phases a torus mover may start at: `None` for anywhere on its line.
    fn phases(self) -> Option<usize> {
        match self {
            Placement::TwoPhaseTorus => Some(2),
            _ => None,
        }
    }
}

/// Largest offset of a centred path from the centre, across its motion.
pub const CENTRED_ACROSS: f32 = 6.0;
/// Largest offset of a centred path's midpoint from the centre, along its motion.
pub const CENTRED_ALONG: f32 = 2.0;
/// Speeds of movers inside the frame, pixels per frame.
const SPEEDS: (f32, f32) = (1.5, 2.1);
/// On a torus ghosts follow closer in time, by the mean in-frame speed over the lap speed, so
/// a trail is as long in pixels as on a path inside the frame. Why: at the lap speed a trail
/// 2.5 frames per ghost long covered over half of its row in every frame, and the analyser
/// then took it for background. A longer torus comet is a recipe's ghost count (`demo-run15`:
/// six, ~35 px with its object), which the analyser reads since it mends such rows
/// (`crate::analysis`).
fn torus_trail_time(lap_speed: f32) -> f32 {
    (SPEEDS.0 + SPEEDS.1) / 2.0 / lap_speed
}

/// How many ghosts a moving object leaves behind, and how they look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trail {
    pub ghosts: usize,
    pub style: TrailStyle,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrailStyle {
    /// Recipes v4–v5: whole-size ghosts 1.5 frames apart at opacity 0.3, 0.2, 0.1 (for three);
    /// at 1.5–2.1 pixels a frame most of each ghost lies under its object.
    #[default]
    Fading,
    /// Recipe v6: solid ghosts in the object's colour, 2.5 frames apart, shrinking (0.8, 0.6,
    /// 0.4 of the radius, for three): a tail that the analyser reads as the object's own colour.
    Comet,
}

impl Trail {
    /// Ghost `k` (1 = nearest): how many frames back, its opacity and its radius scale.
    fn ghost(self, k: usize) -> (f32, f32, f32) {
        let fade = (self.ghosts + 1 - k) as f32 / self.ghosts as f32;
        match self.style {
            TrailStyle::Fading => (1.5 * k as f32, 0.3 * fade, 1.0),
            TrailStyle::Comet => (2.5 * k as f32, 1.0, 1.0 - 0.6 * k as f32 / self.ghosts as f32),
        }
    }
}

/// One object: indices into the vocabulary tables, and where it starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Object {
    pub colour: usize,
    pub shape: usize,
    pub motion: usize,
    pub start: [f32; 2],
    pub radius: f32,
    /// Pixels per frame (travel, bounce height scale).
    pub speed: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ClipSpec {
    pub objects: Vec<Object>,
    pub background: usize,
    /// How it is drawn: [`STYLE`], or an older run's (no trail before recipe v4).
    pub style: Style,
}

/// Which combinations a draw may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Split {
    Train,
    HeldOut,
}

impl Object {
    pub fn motion(&self) -> Motion {
        MOTIONS[self.motion]
    }

    pub fn phrase(&self) -> String {
        format!("a {} {} {}", COLOURS[self.colour].name, SHAPES[self.shape].name(), self.motion().words())
    }

    /// Where the object is at `frame` (of [`FRAMES`]).
    pub fn pose(&self, frame: usize) -> Pose {
        self.pose_at(frame as f32)
    }

    /// Where the object is at time `t` in frames (before 0 for the first frames' trails).
    fn pose_at(&self, t: f32) -> Pose {
        let [x, y] = self.start;
        let last = (FRAMES - 1) as f32;
        let still = Pose { x, y, radius: self.radius, angle: 0.0 };
        match self.motion() {
            Motion::Direction(d) => {
                let [dx, dy] = d.vector();
                Pose { x: x + dx * self.speed * t, y: y + dy * self.speed * t, ..still }
            }
            // Hops on a floor at the start height: |sin| arcs, two hops per clip.
            Motion::Bouncing => Pose { y: y - self.speed * 7.0 * (std::f32::consts::PI * t / 8.0).sin().abs(), ..still },
            Motion::Growing => Pose { radius: self.radius * (0.55 + 0.9 * t / last), ..still },
            Motion::Shrinking => Pose { radius: self.radius * (1.45 - 0.9 * t / last), ..still },
            Motion::Spinning => Pose { angle: t * 0.22, ..still },
        }
    }

    /// Draws a placement for an object of this kind whose whole path stays in the frame (on a
    /// torus, a mover's path laps it). Every placement makes the same number of draws, so the
    /// streams after them line up.
    fn place(colour: usize, shape: usize, motion: usize, placement: Placement, rng: &mut SplitMix64) -> Self {
        let radius = rng.uniform(6.5, 10.0);
        let speed = rng.uniform(SPEEDS.0, SPEEDS.1);
        let margin = radius * 1.5 + 1.0; // room for growth and for star points
        let low = margin;
        let high = SIZE as f32 - margin;
        let travel = speed * (FRAMES - 1) as f32;
        let range = |delta: f32, rng: &mut SplitMix64| {
            // start such that start and start + delta both lie in [low, high]
            let (a, b) = if delta >= 0.0 { (low, high - delta) } else { (low - delta, high) };
            rng.uniform(a, b.max(a))
        };
        let centre = SIZE as f32 / 2.0;
        let start = match (MOTIONS[motion], placement) {
            (Motion::Direction(d), Placement::Spread) => {
                let [dx, dy] = d.vector();
                [range(dx * travel, rng), range(dy * travel, rng)]
            }
            (Motion::Direction(d), Placement::Centred) => {
                let [dx, dy] = d.vector();
                let across = rng.uniform(-CENTRED_ACROSS, CENTRED_ACROSS);
                let along = rng.uniform(-CENTRED_ALONG, CENTRED_ALONG) - travel / 2.0;
                // (-dy, dx) is the unit vector across the motion.
                [centre + dx * along - dy * across, centre + dy * along + dx * across]
            }
            (Motion::Direction(d), Placement::Torus | Placement::TwoPhaseTorus) => {
                let [dx, dy] = d.vector();
                let across = rng.uniform(-CENTRED_ACROSS, CENTRED_ACROSS);
                // The phase: on a torus, moving the start a whole lap along the line changes nothing.
                let draw = rng.uniform(0.0, 1.0);
                let phase = placement.phases().map_or(draw, |n| (draw * n as f32).floor() / n as f32);
                let laps = phase * SIZE as f32;
                let [sx, sy] = d.signs();
                let start = [centre + sx * laps - dy * across, centre + sy * laps + dx * across];
                // A diagonal laps along both axes at once, √2 times faster along its own line.
                let lap = placement.lap_speed().expect("a torus laps") / dx.abs().max(dy.abs());
                return Self { colour, shape, motion, start: start.map(|v| v.rem_euclid(SIZE as f32)), radius, speed: lap };
            }
            (Motion::Bouncing, _) => [rng.uniform(low, high), rng.uniform(low + speed * 7.0, high)],
            _ => [rng.uniform(low, high), rng.uniform(low, high)],
        };
        Self { colour, shape, motion, start, radius, speed }
    }
}

impl ClipSpec {
    /// A random clip of `split`: one object, or (one time in five, training only) two of
    /// different colours; with `motions`, only those [`MOTIONS`] (indices) are drawn. The
    /// random stream without a filter and with [`Placement::Spread`] is the one every run
    /// before recipe v8 drew its clip pool from (the trail does not touch it).
    pub fn sample(rng: &mut SplitMix64, split: Split, motions: Option<&[usize]>, style: Style) -> Self {
        let count = if split == Split::Train && rng.next_f64() < 0.2 { 2 } else { 1 };
        let mut objects: Vec<Object> = Vec::new();
        while objects.len() < count {
            let (c, s, m) = (pick(rng, COLOURS.len()), pick(rng, SHAPES.len()), pick(rng, MOTIONS.len()));
            let wanted = match split {
                Split::Train => !held_out(c, s, m),
                Split::HeldOut => held_out(c, s, m),
            };
            let allowed = motions.is_none_or(|list| list.contains(&m));
            if wanted && allowed && drawable(SHAPES[s], MOTIONS[m]) && objects.iter().all(|o| o.colour != c) {
                objects.push(Object::place(c, s, m, style.placement, rng));
            }
        }
        Self { objects, background: pick(rng, BACKGROUNDS.len()), style }
    }

    /// A single object of the current data set (for evaluation prompts and analyser tests).
    pub fn single(colour: usize, shape: usize, motion: usize, background: usize, rng: &mut SplitMix64) -> Self {
        Self::single_in(colour, shape, motion, background, STYLE, rng)
    }

    /// A single object drawn in `style`.
    pub fn single_in(colour: usize, shape: usize, motion: usize, background: usize, style: Style, rng: &mut SplitMix64) -> Self {
        Self { objects: vec![Object::place(colour, shape, motion, style.placement, rng)], background, style }
    }

    pub fn caption(&self) -> String {
        let phrases: Vec<String> = self.objects.iter().map(Object::phrase).collect();
        format!("{} on a {} background", phrases.join(" and "), BACKGROUNDS[self.background].name())
    }

    /// The clip as `[FRAMES, 3, SIZE, SIZE]` values in 0..1.
    pub fn render(&self) -> Vec<f32> {
        (0..FRAMES).flat_map(|f| self.render_frame(f)).collect()
    }

    /// Frame `f` as `[3, SIZE, SIZE]` values in 0..1.
    pub fn render_frame(&self, f: usize) -> Vec<f32> {
        let mut frame = vec![0.0; 3 * SIZE * SIZE];
        fill_background(&mut frame, SIZE, BACKGROUNDS[self.background]);
        for o in &self.objects {
            // Oldest ghost first, so nearer ones and the object itself paint over it.
            let trail = self.style.trail;
            for k in (1..=trail.ghosts).rev() {
                let (back, opacity, scale) = trail.ghost(k);
                let back = self.style.placement.lap_speed().map_or(back, |speed| back * torus_trail_time(speed));
                let pose = o.pose_at(f as f32 - back);
                self.paint(&mut frame, o, Pose { radius: pose.radius * scale, ..pose }, opacity);
            }
            self.paint(&mut frame, o, o.pose(f), 1.0);
        }
        frame
    }

    fn wraps(&self) -> bool {
        self.style.placement.lap_frames().is_some()
    }

    /// Draws `o` at `pose`; on a torus also its copies a frame away, so the part that leaves
    /// one edge shows at the other (`draw` skips what falls outside the frame).
    fn paint(&self, frame: &mut [f32], o: &Object, pose: Pose, opacity: f32) {
        let (shape, rgb) = (SHAPES[o.shape], COLOURS[o.colour].rgb);
        if !self.wraps() {
            return draw(frame, SIZE, shape, pose, rgb, opacity);
        }
        let size = SIZE as f32;
        let (x, y) = (pose.x.rem_euclid(size), pose.y.rem_euclid(size));
        for oy in [-size, 0.0, size] {
            for ox in [-size, 0.0, size] {
                draw(frame, SIZE, shape, Pose { x: x + ox, y: y + oy, ..pose }, rgb, opacity);
            }
        }
    }
}

fn pick(rng: &mut SplitMix64, n: usize) -> usize {
    (rng.next_u64() % n as u64) as usize
}

/// The held-out evaluation prompts: every held-out combination whose motion is a straight-line
/// direction, each on two backgrounds — `(colour, shape, motion, background, caption)`.
pub fn held_out_prompts() -> Vec<EvalPrompt> {
    let mut out = Vec::new();
    for c in 0..COLOURS.len() {
        for s in 0..SHAPES.len() {
            for (m, motion) in MOTIONS.iter().enumerate() {
                if let (true, Motion::Direction(direction)) = (held_out(c, s, m), *motion) {
                    for shift in [0, 2] {
                        let background = (out.len() / 2 + shift) % BACKGROUNDS.len();
                        out.push(EvalPrompt { colour: c, shape: s, motion: m, direction, background });
                    }
                }
            }
        }
    }
    out
}

/// One evaluation prompt: a single object moving in a straight line.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EvalPrompt {
    pub colour: usize,
    pub shape: usize,
    pub motion: usize,
    pub direction: Direction,
    pub background: usize,
}

impl EvalPrompt {
    pub fn caption(&self) -> String {
        format!(
            "a {} {} {} on a {} background",
            COLOURS[self.colour].name,
            SHAPES[self.shape].name(),
            MOTIONS[self.motion].words(),
            BACKGROUNDS[self.background].name()
        )
    }
}

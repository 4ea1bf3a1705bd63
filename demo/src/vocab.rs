//! The words the demo model knows: colours, shapes, motions and backgrounds, and which
//! colour × shape × motion combinations are held out of training.

/// A named object colour (none of them is a background colour, so the analyser can tell them apart).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Colour {
    pub name: &'static str,
    pub rgb: [u8; 3],
}

pub const COLOURS: [Colour; 7] = [
    Colour { name: "red", rgb: [220, 40, 40] },
    Colour { name: "orange", rgb: [245, 140, 20] },
    Colour { name: "yellow", rgb: [240, 220, 40] },
    Colour { name: "green", rgb: [40, 180, 60] },
    Colour { name: "blue", rgb: [40, 90, 230] },
    Colour { name: "purple", rgb: [140, 60, 200] },
    Colour { name: "pink", rgb: [250, 130, 190] },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Circle,
    Square,
    Triangle,
    Star,
}

pub const SHAPES: [Shape; 4] = [Shape::Circle, Shape::Square, Shape::Triangle, Shape::Star];

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Circle => "circle",
            Shape::Square => "square",
            Shape::Triangle => "triangle",
            Shape::Star => "star",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Motion {
    /// Straight-line travel; the unit vector in image coordinates (x right, y down).
    Direction(Direction),
    Bouncing,
    Growing,
    Shrinking,
    Spinning,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Left,
    Right,
    Up,
    Down,
    UpLeft,
    UpRight,
    DownLeft,
    DownRight,
}

pub const DIRECTIONS: [Direction; 8] =
    [Direction::Left, Direction::Right, Direction::Up, Direction::Down, Direction::UpLeft, Direction::UpRight, Direction::DownLeft, Direction::DownRight];

pub const MOTIONS: [Motion; 12] = [
    Motion::Direction(Direction::Left),
    Motion::Direction(Direction::Right),
    Motion::Direction(Direction::Up),
    Motion::Direction(Direction::Down),
    Motion::Direction(Direction::UpLeft),
    Motion::Direction(Direction::UpRight),
    Motion::Direction(Direction::DownLeft),
    Motion::Direction(Direction::DownRight),
    Motion::Bouncing,
    Motion::Growing,
    Motion::Shrinking,
    Motion::Spinning,
];

impl Direction {
    /// The sign of its step along each axis: -1, 0 or 1 (image coordinates).
    pub fn signs(self) -> [f32; 2] {
        self.vector().map(|v| if v.abs() > 0.1 { v.signum() } else { 0.0 })
    }

    /// Unit step in image coordinates (y grows downwards).
    pub fn vector(self) -> [f32; 2] {
        let d = std::f32::consts::FRAC_1_SQRT_2;
        match self {
            Direction::Left => [-1.0, 0.0],
            Direction::Right => [1.0, 0.0],
            Direction::Up => [0.0, -1.0],
            Direction::Down => [0.0, 1.0],
            Direction::UpLeft => [-d, -d],
            Direction::UpRight => [d, -d],
            Direction::DownLeft => [-d, d],
            Direction::DownRight => [d, d],
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Direction::Left => "left",
            Direction::Right => "right",
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::UpLeft => "up and left",
            Direction::UpRight => "up and right",
            Direction::DownLeft => "down and left",
            Direction::DownRight => "down and right",
        }
    }

    /// The direction nearest to a displacement (8 sectors of 45°).
    pub fn nearest(dx: f32, dy: f32) -> Direction {
        *DIRECTIONS
            .iter()
            .max_by(|a, b| {
                let dot = |d: &Direction| d.vector()[0] * dx + d.vector()[1] * dy;
                dot(a).total_cmp(&dot(b))
            })
            .expect("eight directions")
    }
}

impl Motion {
    pub fn words(self) -> String {
        match self {
            Motion::Direction(d) => format!("moving {}", d.words()),
            Motion::Bouncing => "bouncing".into(),
            Motion::Growing => "growing".into(),
            Motion::Shrinking => "shrinking".into(),
            Motion::Spinning => "spinning".into(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Background {
    Plain {
        name: &'static str,
        rgb: [u8; 3],
    },
    /// Top-to-bottom blend.
    Gradient {
        name: &'static str,
        top: [u8; 3],
        bottom: [u8; 3],
    },
}

pub const BACKGROUNDS: [Background; 4] = [
    Background::Plain { name: "black", rgb: [12, 12, 16] },
    Background::Plain { name: "white", rgb: [240, 240, 236] },
    Background::Plain { name: "gray", rgb: [120, 120, 124] },
    Background::Gradient { name: "gradient", top: [20, 30, 60], bottom: [90, 110, 130] },
];

impl Background {
    pub fn name(self) -> &'static str {
        match self {
            Background::Plain { name, .. } | Background::Gradient { name, .. } => name,
        }
    }
}

/// Whether a colour × shape × motion combination is held out of training (about one in eight,
/// spread so that every colour, shape and motion still appears in training on its own).
pub fn held_out(colour: usize, shape: usize, motion: usize) -> bool {
    (colour * 3 + shape * 5 + motion * 7).is_multiple_of(8)
}

/// A circle looks the same at every angle, so "spinning circle" is never drawn or asked for.
pub fn drawable(shape: Shape, motion: Motion) -> bool {
    !(shape == Shape::Circle && motion == Motion::Spinning)
}

/// Every word list of the vocabulary in one sentence (the page's prompt help, the model card).
pub fn vocabulary_sentence() -> String {
    let words = |items: Vec<String>| items.join(", ");
    format!(
        "colours ({}), shapes ({}), motions ({}) and backgrounds ({})",
        words(COLOURS.iter().map(|c| c.name.to_string()).collect()),
        words(SHAPES.iter().map(|s| s.name().to_string()).collect()),
        words(MOTIONS.iter().map(|m| m.words()).collect()),
        words(BACKGROUNDS.iter().map(|b| b.name().to_string()).collect()),
    )
}

//! The clip analyser against ground truth: clips rendered by the data set generator, whose
//! colours and motions are known.

use demo::analysis::analyse;
use demo::dataset::{held_out_prompts, ClipSpec, FRAMES, SIZE};
use demo::vocab::{Motion, MOTIONS};
use engine::image::unit_to_u8;
use engine::rng::SplitMix64;

/// `[F, 3, H, W]` floats → per-frame interleaved RGB bytes.
fn rgb8(clip: &[f32]) -> Vec<Vec<u8>> {
    let plane = SIZE * SIZE;
    clip.chunks(3 * plane).map(|f| (0..plane).flat_map(|p| (0..3).map(move |c| unit_to_u8(f[c * plane + p]))).collect()).collect()
}

#[test]
fn reads_colour_and_direction_of_every_held_out_prompt() {
    let prompts = held_out_prompts();
    assert!(prompts.len() >= 50, "{} held-out prompts", prompts.len());
    let mut rng = SplitMix64::new(7);
    for p in &prompts {
        let spec = ClipSpec::single(p.colour, p.shape, p.motion, p.background, &mut rng);
        let a = analyse(&rgb8(&spec.render()), SIZE, SIZE);
        assert_eq!(a.colour, Some(p.colour), "colour of {}", p.caption());
        assert_eq!(a.direction(0..FRAMES), Some(p.direction), "direction of {}", p.caption());
        assert_eq!(a.visible(), 1.0, "{}", p.caption());
        assert!(a.consistency() > 0.99, "{}: consistency {}", p.caption(), a.consistency());
    }
}

#[test]
fn still_and_reversing_objects_are_told_apart() {
    let mut rng = SplitMix64::new(8);
    let growing = MOTIONS.iter().position(|m| *m == Motion::Growing).unwrap();
    let spec = ClipSpec::single(0, 1, growing, 0, &mut rng);
    let a = analyse(&rgb8(&spec.render()), SIZE, SIZE);
    assert_eq!(a.direction(0..FRAMES), None, "a growing square does not travel");

    // A clip that plays forwards then backwards turns back half-way.
    let right = MOTIONS.iter().position(|m| matches!(m, Motion::Direction(d) if d.words() == "right")).unwrap();
    let frames = rgb8(&ClipSpec::single(2, 0, right, 1, &mut rng).render());
    let there_and_back: Vec<Vec<u8>> = frames.iter().chain(frames.iter().rev()).cloned().collect();
    let a = analyse(&there_and_back, SIZE, SIZE);
    assert!(a.consistency() < 0.7, "consistency {}", a.consistency());
}

#[test]
fn training_split_never_shows_a_held_out_combination() {
    let mut rng = SplitMix64::new(9);
    for _ in 0..2000 {
        let spec = ClipSpec::sample(&mut rng, demo::dataset::Split::Train, None, demo::dataset::STYLE);
        for o in &spec.objects {
            assert!(!demo::vocab::held_out(o.colour, o.shape, o.motion), "{}", spec.caption());
        }
    }
}

#[test]
fn a_motion_filter_draws_only_the_listed_motions() {
    let mut rng = SplitMix64::new(5);
    let listed = [0, 3];
    let mut seen = [false; 2];
    for _ in 0..500 {
        let spec = ClipSpec::sample(&mut rng, demo::dataset::Split::Train, Some(&listed), demo::dataset::STYLE);
        for o in &spec.objects {
            let at = listed.iter().position(|&m| m == o.motion);
            assert!(at.is_some(), "{} has motion {}", spec.caption(), o.motion);
            seen[at.unwrap()] = true;
        }
    }
    assert_eq!(seen, [true, true], "both listed motions are drawn");
}

#[test]
fn centred_movers_cross_the_middle_and_the_draws_match_the_spread_stream() {
    use demo::dataset::{Placement, Split, Style, CENTRED_ACROSS, CENTRED_ALONG, FRAMES, STYLE};
    let spread_style = Style { placement: Placement::Spread, ..STYLE };
    let centred_style = Style { placement: Placement::Centred, ..STYLE };
    let (mut movers, mut spread_off_centre) = (0, 0);
    for seed in 0..400 {
        let centred = ClipSpec::sample(&mut SplitMix64::new(seed), Split::Train, None, centred_style);
        let spread = ClipSpec::sample(&mut SplitMix64::new(seed), Split::Train, None, spread_style);
        // Every placement makes the same draws: an older run's pool keeps its clips.
        assert_eq!(centred.caption(), spread.caption());
        let torus = ClipSpec::sample(&mut SplitMix64::new(seed), Split::Train, None, Style { placement: Placement::Torus, ..STYLE });
        assert_eq!(torus.caption(), spread.caption());
        let two_phase = ClipSpec::sample(&mut SplitMix64::new(seed), Split::Train, None, Style { placement: Placement::TwoPhaseTorus, ..STYLE });
        assert_eq!(two_phase.caption(), spread.caption());
        for (c, s) in centred.objects.iter().zip(&spread.objects) {
            if !matches!(c.motion(), Motion::Direction(_)) {
                assert_eq!(c, s, "only straight-line movers are placed differently");
                continue;
            }
            movers += 1;
            let middle = |o: &demo::dataset::Object| {
                let (a, b) = (o.pose(0), o.pose(FRAMES - 1));
                ((a.x + b.x) / 2.0 - SIZE as f32 / 2.0, (a.y + b.y) / 2.0 - SIZE as f32 / 2.0)
            };
            let (dx, dy) = middle(c);
            assert!(dx.hypot(dy) <= CENTRED_ACROSS.hypot(CENTRED_ALONG) + 1e-3, "{} has its midpoint {dx}, {dy} from the centre", centred.caption());
            for f in [0, FRAMES - 1] {
                let p = c.pose(f);
                assert!(
                    p.x - p.radius >= 0.0 && p.x + p.radius <= SIZE as f32 && p.y - p.radius >= 0.0 && p.y + p.radius <= SIZE as f32,
                    "{} leaves the frame",
                    centred.caption()
                );
            }
            let (sx, sy) = middle(s);
            spread_off_centre += usize::from(sx.hypot(sy) > 10.0);
        }
    }
    assert!(movers > 150, "{movers} movers drawn");
    assert!(spread_off_centre > movers / 4, "spread paths lie all over the frame ({spread_off_centre} of {movers} off centre)");
}

#[test]
fn torus_movers_lap_the_frame_and_read_right_across_the_edges() {
    use demo::dataset::{Placement, Style, STYLE};
    for placement in [Placement::Torus, Placement::TwoPhaseTorus] {
        let (lap, speed) = (placement.lap_frames().unwrap(), placement.lap_speed().unwrap());
        // FRAMES frames are whole laps, as FreeNoise's rescheduled noise repeats every FRAMES frames.
        assert_eq!(FRAMES % lap, 0, "{placement:?}");
        let style = Style { placement, ..STYLE };
        let mut rng = SplitMix64::new(11);
        for p in held_out_prompts() {
            let spec = ClipSpec::single_in(p.colour, p.shape, p.motion, p.background, style, &mut rng);
            let o = spec.objects[0];
            let [ux, uy] = p.direction.signs();
            let (a, b) = (o.pose(0), o.pose(lap));
            for (moved, unit) in [(b.x - a.x, ux), (b.y - a.y, uy)] {
                assert!((moved - unit * SIZE as f32).abs() < 1e-3, "{placement:?}, {}: moved {moved} px in a lap", p.caption());
            }
            // The clip repeats every lap.
            assert_eq!(spec.render_frame(0), spec.render_frame(lap), "{placement:?}, {}", p.caption());
            let a = analyse(&rgb8(&spec.render()), SIZE, SIZE);
            assert_eq!(a.colour, Some(p.colour), "{placement:?}: colour of {}", p.caption());
            assert_eq!(a.direction(0..FRAMES), Some(p.direction), "{placement:?}: direction of {}", p.caption());
            assert_eq!(a.visible(), 1.0, "{placement:?}, {}", p.caption());
            assert!(a.consistency() > 0.99, "{placement:?}, {}: consistency {}", p.caption(), a.consistency());
            let [vx, vy] = a.velocity(0..FRAMES).unwrap();
            assert!((vx - ux * speed).abs() < 0.5 && (vy - uy * speed).abs() < 0.5, "{placement:?}, {}: read {vx}, {vy} px a frame", p.caption());
        }
    }
}

#[test]
fn two_phase_torus_movers_start_at_the_centre_or_half_a_lap_from_it() {
    use demo::dataset::{Placement, Split, Style, CENTRED_ACROSS, STYLE};
    let style = Style { placement: Placement::TwoPhaseTorus, ..STYLE };
    let half = SIZE as f32 / 2.0;
    let mut seen = [0; 2];
    for seed in 0..300 {
        let spec = ClipSpec::sample(&mut SplitMix64::new(seed), Split::Train, None, style);
        for o in &spec.objects {
            let Motion::Direction(d) = o.motion() else { continue };
            let ([dx, dy], [sx, sy]) = (d.vector(), d.signs());
            let p = o.pose(0);
            // Its start less the phase's place along the line must lie across the line through
            // the centre (on the torus), within CENTRED_ACROSS of it.
            let wrap = |v: f32| (v + half).rem_euclid(SIZE as f32) - half;
            let fits = |laps: f32| {
                let (rx, ry) = (wrap(p.x - half - sx * laps), wrap(p.y - half - sy * laps));
                (rx * dx + ry * dy).abs() < 1e-3 && (-dy * rx + dx * ry).abs() <= CENTRED_ACROSS + 1e-3
            };
            let phase = match (fits(0.0), fits(half)) {
                (true, false) => 0,
                (false, true) => 1,
                _ => panic!("{}: starts at {}, {}, at neither phase", spec.caption(), p.x, p.y),
            };
            seen[phase] += 1;
        }
    }
    assert!(seen.iter().all(|&n| n > 40), "both phases are drawn: {seen:?}");
}

#[test]
fn a_long_torus_comet_that_covers_most_of_its_row_is_still_read() {
    use demo::dataset::{Placement, Style, Trail, TrailStyle};
    // Six comet ghosts (`demo-run15`'s data): an object and its tail reach ~35 px along the
    // row it laps, more than half of every frame's row, so those rows' medians are its colour.
    let long = Style { trail: Trail { ghosts: 6, style: TrailStyle::Comet }, placement: Placement::Torus };
    let mut rng = SplitMix64::new(12);
    let mut over_half = 0;
    for p in held_out_prompts() {
        let spec = ClipSpec::single_in(p.colour, p.shape, p.motion, p.background, long, &mut rng);
        let frames = rgb8(&spec.render());
        let o = spec.objects[0];
        let row = o.pose(0).y.rem_euclid(SIZE as f32) as usize;
        let rgb = demo::vocab::COLOURS[p.colour].rgb;
        let covered =
            frames.iter().flat_map(|f| f[row * SIZE * 3..][..SIZE * 3].chunks(3)).filter(|px| px.iter().zip(rgb).all(|(&a, b)| a.abs_diff(b) <= 2)).count();
        over_half += usize::from(2 * covered > SIZE * FRAMES);
        let a = analyse(&frames, SIZE, SIZE);
        assert_eq!(a.colour, Some(p.colour), "colour of {}", p.caption());
        assert_eq!(a.direction(0..FRAMES), Some(p.direction), "direction of {}", p.caption());
        assert_eq!(a.visible(), 1.0, "{}", p.caption());
        assert!(a.consistency() > 0.99, "{}: consistency {}", p.caption(), a.consistency());
    }
    assert!(over_half > 0, "no comet covered most of its row: the case this test is for");
}

#[test]
fn an_object_split_across_an_edge_is_read_at_the_edge() {
    // A red disc centred on the left edge: half of it shows at each side of the frame.
    let mut frame = vec![0u8; SIZE * SIZE * 3];
    for y in 0..SIZE {
        for x in 0..SIZE {
            let dx = (x as f32 + 0.5).min(SIZE as f32 - x as f32 - 0.5);
            if dx.hypot(y as f32 + 0.5 - 40.0) < 8.0 {
                frame[(y * SIZE + x) * 3] = 220;
            }
        }
    }
    let a = analyse(&vec![frame; 3], SIZE, SIZE);
    let [x, y] = a.centroids[0].unwrap();
    assert!(x.min(SIZE as f32 - x) < 0.5 && (y - 40.0).abs() < 0.5, "read at {x}, {y}");
}

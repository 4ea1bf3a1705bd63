//! The clip analyser against ground truth: clips rendered by the data set generator, whose
//! colours and motions are known.

use engine::analysis::analyse;
use engine::dataset::vocab::{Motion, MOTIONS};
use engine::dataset::{held_out_prompts, ClipSpec, FRAMES, SIZE};
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
        let spec = ClipSpec::sample(&mut rng, engine::dataset::Split::Train, None);
        for o in &spec.objects {
            assert!(!engine::dataset::vocab::held_out(o.colour, o.shape, o.motion), "{}", spec.caption());
        }
    }
}

#[test]
fn a_motion_filter_draws_only_the_listed_motions() {
    let mut rng = SplitMix64::new(5);
    let listed = [0, 3];
    let mut seen = [false; 2];
    for _ in 0..500 {
        let spec = ClipSpec::sample(&mut rng, engine::dataset::Split::Train, Some(&listed));
        for o in &spec.objects {
            let at = listed.iter().position(|&m| m == o.motion);
            assert!(at.is_some(), "{} has motion {}", spec.caption(), o.motion);
            seen[at.unwrap()] = true;
        }
    }
    assert_eq!(seen, [true, true], "both listed motions are drawn");
}

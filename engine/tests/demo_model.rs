//! The shipped demo model (`public/models/demo`, the page's default) on the 16-frame
//! semantic check: every held-out prompt (colour × shape × motion combinations training never
//! showed) is generated with the page's settings and read by the clip analyser.

use std::path::PathBuf;

use engine::dataset::held_out_prompts;
use engine::pipeline::Pipeline;
use engine::semantics;
use engine::store::DirStore;
use engine::Backend;

/// A model that ignores the direction word reads as one of 8 directions by chance: 7 of 56 on
/// average, and 20 or more with probability below 1e-5 (binomial tail at p = 1/8).
const DIRECTION_FLOOR: usize = 20;

#[test]
fn held_out_prompts_keep_their_colour_and_follow_the_direction_word() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../public/models/demo");
    let pipeline = Pipeline::load(&DirStore::new(&folder).unwrap(), None, &Backend::cpu_device()).unwrap();
    let prompts = held_out_prompts();
    let (colour, direction) = semantics::held_out(&pipeline, &prompts, &mut |line| println!("{line}")).unwrap();
    println!("colour {colour}, direction {direction}");
    assert!(colour.fraction() >= 0.9, "colour right in {colour} of the held-out prompts; the bar is 90%");
    // The direction bar is 90%, which the shipped model does not reach yet (train/README
    // Status gives its figure). Until it does, this holds what it has against regressions: the
    // word must steer the motion far beyond what chance gives.
    assert!(direction.hits >= DIRECTION_FLOOR, "direction right in {direction}; chance gives ~7 of 56, the floor is {DIRECTION_FLOOR}");
}

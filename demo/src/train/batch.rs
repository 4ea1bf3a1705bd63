//! Training batches from the procedural data set, as host arrays.

use crate::dataset::{ClipSpec, Split, Style, FRAMES};
use engine::rng::SplitMix64;

/// `[count, 3, SIZE, SIZE]` in [-1, 1]: single frames of fresh training clips drawn in `style`.
pub fn frames(rng: &mut SplitMix64, count: usize, style: Style) -> Vec<f32> {
    let seeds: Vec<u64> = (0..count).map(|_| rng.next_u64()).collect();
    parallel(&seeds, |seed| {
        let mut rng = SplitMix64::new(seed);
        let spec = ClipSpec::sample(&mut rng, Split::Train, None, style);
        let f = (rng.next_u64() % FRAMES as u64) as usize;
        spec.render_frame(f).into_iter().map(|v| v * 2.0 - 1.0).collect::<Vec<f32>>()
    })
    .concat()
}

/// `work` on every seed, spread over the machine's cores, results in seed order.
pub fn parallel<T: Send>(seeds: &[u64], work: impl Fn(u64) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(seeds.len().max(1));
    let per = seeds.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = seeds.chunks(per.max(1)).map(|chunk| scope.spawn(|| chunk.iter().map(|&s| work(s)).collect::<Vec<T>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("batch worker panicked")).collect()
    })
}

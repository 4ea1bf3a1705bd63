//! Motion injection's schedule: in the early and late denoising steps the down and mid blocks'
//! cross-attention reads the target prompt; in the middle steps every layer reads the travelling
//! prompt. The official code uses step index < 5 or > 15 of 50; as fractions of the step count
//! that is `i < steps/10` or `i > 3·steps/10`.

/// Whether step `index` (0 = noisiest) of `steps` injects the target prompt.
pub fn injects(index: usize, steps: usize) -> bool {
    index * 10 < steps || index * 10 > 3 * steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_official_schedule_at_50_steps_and_scales() {
        let at_50: Vec<usize> = (0..50).filter(|&i| !injects(i, 50)).collect();
        assert_eq!(at_50, (5..=15).collect::<Vec<_>>());
        let at_25: Vec<usize> = (0..25).filter(|&i| !injects(i, 25)).collect();
        assert_eq!(at_25, (3..=7).collect::<Vec<_>>());
    }
}

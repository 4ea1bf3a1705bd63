//! Allocator settings for the native programs (the CLI and the trainer).
//!
//! Burn's CPU backend allocates a fresh output buffer for nearly every tensor op and frees its
//! inputs. glibc serves a buffer above its mmap threshold (128 KiB at first, raised as freed
//! blocks show up, to 32 MiB at most) with its own `mmap` and unmaps it on free, and trims the
//! heap top as it shrinks, so each op faults its output's pages in again, zeroed by the kernel.
//! With the threshold fixed at its maximum and the heap never trimmed, that kernel time goes
//! away (measured on demo-model training steps, with identical losses: `docs/benchmarks.md`,
//! Allocator). The cost is memory the process keeps after a peak, which a training run or a
//! generation reuses at its next step anyway.

/// Sets glibc's mmap threshold to its maximum and stops heap trimming; true when glibc took
/// every setting. Call before the program allocates much (its threads have not started).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
pub fn keep_freed_memory() -> bool {
    const SETTINGS: [(libc::c_int, libc::c_int); 3] = [
        (libc::M_MMAP_THRESHOLD, 32 << 20),
        (libc::M_TRIM_THRESHOLD, libc::c_int::MAX),
        // Grow the heap in large steps, so a growing step does not call `brk` per buffer.
        (libc::M_TOP_PAD, 256 << 20),
    ];
    // SAFETY: `mallopt` only changes allocator parameters, under glibc's own lock.
    SETTINGS.iter().all(|&(option, value)| unsafe { libc::mallopt(option, value) } == 1)
}

/// Other platforms' allocators are left as they are.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn keep_freed_memory() -> bool {
    true
}

#[cfg(test)]
mod tests {
    #[test]
    fn glibc_takes_the_settings() {
        assert!(super::keep_freed_memory(), "mallopt refused a setting");
    }
}

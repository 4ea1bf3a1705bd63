//! One user of browser storage at a time inside the worker. A sync access handle locks its file
//! for the whole origin, so a storage report, a memory estimate or a delete that opens a file
//! while a download writes it would fail; each such task holds this lock instead of racing.

use std::cell::Cell;

thread_local! {
    static HELD: Cell<bool> = const { Cell::new(false) };
}

/// Held until dropped.
pub struct StorageLock(());

impl StorageLock {
    /// Waits until no other task holds the lock. The worker is single-threaded, so checking and
    /// taking it with no await between is atomic.
    pub async fn acquire() -> Self {
        while HELD.with(Cell::get) {
            super::sleep_ms(20).await;
        }
        HELD.with(|h| h.set(true));
        Self(())
    }
}

impl Drop for StorageLock {
    fn drop(&mut self) {
        HELD.with(|h| h.set(false));
    }
}

//! Thread idents (Python's `get_ident()`): unique, never 0, never reused,
//! handed out in blocks per OS thread; and the counter behind automatic
//! names.

use std::sync::atomic::{AtomicU64, Ordering};

/// The process-wide counter behind `Thread-N` and `Dummy-N` names (Python's
/// `_counter`), shared with `Timer`; explicitly named threads don't use it.
pub(crate) static NAME_COUNTER: AtomicU64 = AtomicU64::new(1);

/// The process-wide ident counter (never 0; never reused).
static IDENT_COUNTER: AtomicU64 = AtomicU64::new(1);

/// Idents an OS thread takes from `IDENT_COUNTER` at a time, so starting
/// threads on several workers does not bounce one cache line between them.
/// Idents stay unique and increase in start order within each OS thread.
const IDENT_BLOCK: u64 = 256;

pub(crate) fn next_ident() -> u64 {
    thread_local! {
        /// The next ident of this OS thread's block, and the block's end.
        static BLOCK: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
    }
    BLOCK
        .try_with(|b| {
            let (mut next, mut end) = b.get();
            if next == end {
                next = IDENT_COUNTER.fetch_add(IDENT_BLOCK, Ordering::Relaxed);
                end = next + IDENT_BLOCK;
            }
            b.set((next + 1, end));
            next
        })
        .unwrap_or_else(|_| IDENT_COUNTER.fetch_add(1, Ordering::Relaxed))
}

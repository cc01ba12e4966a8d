//! User code dropped where its panic must not unwind into the runtime.

use std::panic::{catch_unwind, AssertUnwindSafe};

/// Drops `value` — user code: a target, a panic payload, `Local` values —
/// catching a panic of its destructor (Python prints and ignores an
/// exception in `__del__`; the panic hook has printed this one). If the
/// caught panic's own payload panics when dropped too, that payload is
/// leaked: the last resort, as nothing could catch a third panic.
pub(crate) fn drop_caught<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            std::mem::forget(again);
        }
    }
}

//! A source's registration with the driver: its token in the driver's slab
//! of [`ScheduledIo`]s and its place in the `mio` registry.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::driver;
use super::io::ScheduledIo;

/// A source registered with the driver; frees its token on drop.
///
/// Closing the descriptor removes it from the epoll set, so the owner drops
/// the source *before* its `Registration` (no explicit `deregister` syscall).
/// A late event for a freed token that was reused is a spurious readiness of
/// the new source, which costs one `WouldBlock`.
#[derive(Debug)]
pub(crate) struct Registration {
    /// Its readiness.
    pub(crate) io: Arc<ScheduledIo>,
    /// Its token.
    token: mio::Token,
}

impl Registration {
    /// Registers `source` for reading and writing.
    pub(crate) fn new(source: &mut impl mio::event::Source) -> std::io::Result<Registration> {
        let d = driver();
        // Counted before it can be ready (`Driver::sources`).
        d.sources.fetch_add(1, Ordering::SeqCst);
        let io = Arc::new(ScheduledIo::default());
        let token =
            d.io.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(io.clone());
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        if let Err(e) = d.registry.register(source, token, interest) {
            d.io.lock().unwrap_or_else(|e| e.into_inner()).remove(token);
            d.sources.fetch_sub(1, Ordering::SeqCst);
            return Err(e);
        }
        Ok(Registration { io, token })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        let d = driver();
        d.io.lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(self.token);
        d.sources.fetch_sub(1, Ordering::SeqCst);
    }
}

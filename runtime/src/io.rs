//! Readiness of one registered I/O source, shared between the driver thread
//! (which sets it) and the threads waiting to read or write.
//!
//! mio is edge-triggered: an event arrives once per change. The bits set here
//! therefore stay set until a waiter observes `WouldBlock` and clears them
//! ([`ScheduledIo::clear`]); a waiter registers its waker *before* checking the
//! bits again, so an event between the check and the registration is never
//! lost.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use crate::time::driver::driver;

/// Readiness bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Readiness(u8);

impl Readiness {
    /// Readable (or read-closed, or error).
    pub(crate) const READABLE: Readiness = Readiness(0b01);
    /// Writable (or write-closed, or error).
    pub(crate) const WRITABLE: Readiness = Readiness(0b10);

    pub(crate) fn from_event(event: &mio::event::Event) -> Readiness {
        let mut bits = 0;
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            bits |= Self::READABLE.0;
        }
        if event.is_writable() || event.is_write_closed() || event.is_error() {
            bits |= Self::WRITABLE.0;
        }
        Readiness(bits)
    }
}

/// The waiters of one direction.
#[derive(Default)]
struct Waiters {
    readers: Vec<Waker>,
    writers: Vec<Waker>,
}

/// One registered source's readiness and waiters.
#[derive(Default)]
pub(crate) struct ScheduledIo {
    /// Readiness bits not yet consumed.
    readiness: AtomicU8,
    /// Wakers of the threads waiting for each direction.
    waiters: Mutex<Waiters>,
}

impl std::fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduledIo")
            .field("readiness", &self.readiness.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ScheduledIo {
    /// Called by the driver: records readiness and wakes the waiters of the
    /// directions that became ready.
    pub(crate) fn set_ready(&self, r: Readiness) {
        self.readiness.fetch_or(r.0, Ordering::AcqRel);
        let mut woken = Vec::new();
        {
            let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            if r.0 & Readiness::READABLE.0 != 0 {
                woken.append(&mut w.readers);
            }
            if r.0 & Readiness::WRITABLE.0 != 0 {
                woken.append(&mut w.writers);
            }
        }
        for waker in woken {
            waker.wake();
        }
    }

    /// Ready when `dir` is set; otherwise registers `cx`'s waker.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Readiness) -> Poll<()> {
        if self.readiness.load(Ordering::Acquire) & dir.0 != 0 {
            return Poll::Ready(());
        }
        {
            let mut w = self.waiters.lock().unwrap_or_else(|e| e.into_inner());
            let list = if dir == Readiness::READABLE {
                &mut w.readers
            } else {
                &mut w.writers
            };
            if !list.iter().any(|x| x.will_wake(cx.waker())) {
                list.push(cx.waker().clone());
            }
        }
        // Re-check: an event may have arrived before the waker was stored.
        if self.readiness.load(Ordering::Acquire) & dir.0 != 0 {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Clears `dir` after the OS said `WouldBlock`.
    pub(crate) fn clear(&self, dir: Readiness) {
        self.readiness.fetch_and(!dir.0, Ordering::AcqRel);
    }
}

/// A source registered with the driver; deregisters on drop.
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
        let io = Arc::new(ScheduledIo::default());
        let token =
            d.io.lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(io.clone());
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        if let Err(e) = d.registry.register(source, token, interest) {
            d.io.lock().unwrap_or_else(|e| e.into_inner()).remove(token);
            return Err(e);
        }
        Ok(Registration { io, token })
    }

    /// Deregisters `source` from the poll (closing its descriptor does the
    /// same implicitly).
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) {
        let _ = driver().registry.deregister(source);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        driver()
            .io
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(self.token);
    }
}

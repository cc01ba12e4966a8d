//! Loom models of the queues' waiting protocol: the queue's mutex, its
//! waiter lists and the wakers together (a lost wakeup leaves a model
//! thread parked for ever, which loom reports as a deadlock).

use std::future::Future;
use std::task::{Context, Poll, Wake, Waker};

use loom::sync::{Arc, Notify};
use loom::thread;

use super::core::Core;
use super::fifo::FifoStore;
use crate::rt::Deadline;

/// Wakes a model thread parked in [`block_on`].
struct Unpark(Notify);

impl Wake for Unpark {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.notify();
    }
}

/// Drives `f` on the model thread, parking it while `f` is pending
/// (loom's own `block_on` needs its `futures` feature).
fn block_on<F: Future>(f: F) -> F::Output {
    let unpark = std::sync::Arc::new(Unpark(Notify::new()));
    let waker = Waker::from(unpark.clone());
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        unpark.0.wait();
    }
}

type Fifo = Core<u32, FifoStore<u32>>;

fn getter(q: &Arc<Fifo>) -> thread::JoinHandle<u32> {
    let q = q.clone();
    thread::spawn(move || block_on(q.get(Deadline::never())).unwrap())
}

fn putter(q: &Arc<Fifo>, v: u32) -> thread::JoinHandle<()> {
    let q = q.clone();
    thread::spawn(move || block_on(q.put(v, Deadline::never())).unwrap())
}

/// Two puts in a row meet two blocked getters: both are woken (a
/// notified getter that has not run yet absorbs nothing).
#[test]
fn loom_queue_put_burst_wakes_every_getter() {
    loom::model(|| {
        let q = Arc::new(Fifo::new(0));
        let (a, b) = (getter(&q), getter(&q));
        q.try_put(1).unwrap();
        q.try_put(2).unwrap();
        let mut got = [a.join().unwrap(), b.join().unwrap()];
        got.sort();
        assert_eq!(got, [1, 2]);
    });
}

/// Two gets in a row (no wait between) meet two putters blocked on a
/// full queue: both puts complete.
#[test]
fn loom_queue_get_burst_wakes_every_putter() {
    loom::model(|| {
        let q = Arc::new(Fifo::new(2));
        q.try_put(0).unwrap();
        q.try_put(1).unwrap();
        let (a, b) = (putter(&q, 2), putter(&q, 3));
        assert_eq!(q.try_get(), Ok(0));
        assert_eq!(q.try_get(), Ok(1));
        a.join().unwrap();
        b.join().unwrap();
        let mut rest = [q.try_get().unwrap(), q.try_get().unwrap()];
        rest.sort();
        assert_eq!(rest, [2, 3]);
    });
}

/// A getter polled once and then dropped (cancelled) — notified or not
/// by then, depending on the schedule — beside a blocked getter: the
/// item goes to one of them, never to nobody.
#[test]
fn loom_queue_cancelled_notified_getter_passes_on() {
    loom::model(|| {
        let q = Arc::new(Fifo::new(0));
        let cancelled = {
            let q = q.clone();
            thread::spawn(move || {
                let mut f = std::pin::pin!(q.get(Deadline::never()));
                let mut cx = Context::from_waker(Waker::noop());
                match f.as_mut().poll(&mut cx) {
                    Poll::Ready(r) => Some(r.unwrap()),
                    Poll::Pending => None, // dropped here
                }
            })
        };
        let waiting = getter(&q);
        q.try_put(1).unwrap();
        let took = cancelled.join().unwrap();
        if took.is_some() {
            q.try_put(2).unwrap();
        }
        let got = waiting.join().unwrap();
        assert!(matches!((took, got), (None, 1) | (Some(1), 2)));
        assert_eq!(q.qsize(), 0);
    });
}

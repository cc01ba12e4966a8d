//! The `tracing` feature's contract with tokio-console's console-subscriber
//! (SPEC §12), checked with a small recording `Layer` in every mode: one
//! span named `runtime.spawn` per thread with the fields console-subscriber
//! reads (`kind`, `task.name` = the thread's name, `task.id` = its ident as
//! a `u64`, `loc.file`/`loc.line`/`loc.col` = where `start()` or `spawn`
//! was called), entered once per poll and always left again, closed when
//! the thread's task is gone; waker events (target `runtime::waker`, `op`
//! and `task.id` = the span's id) whose clones are all dropped or consumed
//! once the thread is gone; the excepthook's report and deadlock reports
//! as `ERROR` events, stall warnings as `WARN` events, with target
//! `greenthread`; and a subscriber that panics (creating, entering,
//! leaving or closing a thread's span, at waker events) costs no thread,
//! worker or lock.
//!
//! The recorder is the process-wide default subscriber (workers and OS
//! threads emit from their own threads); the tests of this file run in
//! parallel, so each looks only at the threads it named itself.

mod support;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use greenthread::{sleep, Lock, Thread};
use support::wait_until;
use tracing::field::{Field, Visit};
use tracing::span;
use tracing::{Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// A field value as recorded.
#[derive(Debug, Clone, PartialEq)]
enum Value {
    U64(u64),
    Str(String),
    /// Recorded through `Debug` (`%` fields: `kind`, `task.name`).
    Debug(String),
}

impl Value {
    fn text(&self) -> &str {
        match self {
            Value::Str(s) | Value::Debug(s) => s,
            Value::U64(_) => "",
        }
    }
}

#[derive(Default)]
struct Fields(HashMap<String, Value>);

impl Visit for Fields {
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::U64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0
            .insert(field.name().into(), Value::Debug(value.to_string()));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::Str(value.into()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), Value::Debug(format!("{value:?}")));
    }
}

/// One `runtime.spawn` span.
#[derive(Debug, Default, Clone)]
struct SpanRec {
    target: String,
    fields: HashMap<String, Value>,
    enters: usize,
    exits: usize,
    /// Entered now (more than 1: entered twice at once, a bug).
    inside: isize,
    max_inside: isize,
    closed: bool,
    /// Waker events by `op`.
    wakers: HashMap<String, usize>,
}

/// One event with target `greenthread`.
#[derive(Debug, Clone)]
struct Report {
    level: Level,
    fields: HashMap<String, Value>,
}

#[derive(Default)]
struct Records {
    spans: HashMap<u64, SpanRec>,
    reports: Vec<Report>,
    /// Waker events for ids that are no recorded span (must stay empty).
    stray_wakers: usize,
}

struct Recorder(Arc<Mutex<Records>>);

/// The records, locked (a panic of the recorder on purpose never holds
/// the lock, but a failed assertion might).
fn locked(m: &Mutex<Records>) -> std::sync::MutexGuard<'_, Records> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Threads named `panicky-new-N` make the recorder panic when their span is
/// created; threads named `panicky-N` when it is entered, left or closed
/// and at each waker event: a subscriber is user code.
fn panics_for(name: Option<&Value>, at_creation: bool) -> bool {
    let name = name.map(Value::text).unwrap_or("");
    name.starts_with("panicky-new") == at_creation && name.starts_with("panicky-")
}

impl Recorder {
    /// Whether the span `id` belongs to a `panicky-N` thread.
    fn panicky(&self, id: u64) -> bool {
        let records = locked(&self.0);
        records
            .spans
            .get(&id)
            .is_some_and(|s| panics_for(s.fields.get("task.name"), false))
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, _: Context<'_, S>) {
        let meta = attrs.metadata();
        if meta.name() != "runtime.spawn" {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let panic = panics_for(fields.0.get("task.name"), true);
        let rec = SpanRec {
            target: meta.target().into(),
            fields: fields.0,
            ..SpanRec::default()
        };
        locked(&self.0).spans.insert(id.into_u64(), rec);
        assert!(!panic, "the recorder panics on purpose (new span)");
    }

    fn on_enter(&self, id: &span::Id, _: Context<'_, S>) {
        let mut enters = 0;
        if let Some(s) = locked(&self.0).spans.get_mut(&id.into_u64()) {
            s.enters += 1;
            s.inside += 1;
            s.max_inside = s.max_inside.max(s.inside);
            enters = s.enters;
        }
        // Every other entry, so that the others are left (and panic then).
        assert!(
            enters % 2 == 0 || !self.panicky(id.into_u64()),
            "the recorder panics on purpose (enter)"
        );
    }

    fn on_exit(&self, id: &span::Id, _: Context<'_, S>) {
        if let Some(s) = locked(&self.0).spans.get_mut(&id.into_u64()) {
            s.exits += 1;
            s.inside -= 1;
        }
        assert!(
            !self.panicky(id.into_u64()),
            "the recorder panics on purpose (exit)"
        );
    }

    fn on_close(&self, id: span::Id, _: Context<'_, S>) {
        if let Some(s) = locked(&self.0).spans.get_mut(&id.into_u64()) {
            s.closed = true;
        }
        assert!(
            !self.panicky(id.into_u64()),
            "the recorder panics on purpose (close)"
        );
    }

    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);
        let mut records = locked(&self.0);
        match meta.target() {
            "runtime::waker" => {
                let (Some(Value::U64(id)), Some(op)) =
                    (fields.0.get("task.id"), fields.0.get("op"))
                else {
                    records.stray_wakers += 1;
                    return;
                };
                let op = op.text().to_string();
                let id = *id;
                match records.spans.get_mut(&id) {
                    Some(s) => *s.wakers.entry(op).or_default() += 1,
                    None => records.stray_wakers += 1,
                }
                drop(records);
                assert!(!self.panicky(id), "the recorder panics on purpose (waker)");
            }
            "greenthread" => records.reports.push(Report {
                level: *meta.level(),
                fields: fields.0,
            }),
            _ => {}
        }
    }
}

/// The records, the recorder installed (once) as the global default.
fn records() -> &'static Arc<Mutex<Records>> {
    static RECORDS: OnceLock<Arc<Mutex<Records>>> = OnceLock::new();
    RECORDS.get_or_init(|| {
        let records = Arc::new(Mutex::new(Records::default()));
        tracing_subscriber::registry()
            .with(Recorder(records.clone()))
            .try_init()
            .expect("the recorder is the first global subscriber");
        records
    })
}

/// A name no other test of this file uses.
fn unique(what: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    format!("{what}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// The span recorded for the thread named `name` (exactly one).
fn span_of(name: &str) -> (u64, SpanRec) {
    let records = locked(records());
    let found: Vec<_> = records
        .spans
        .iter()
        .filter(|(_, s)| s.fields.get("task.name").map(Value::text) == Some(name))
        .map(|(id, s)| (*id, s.clone()))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one runtime.spawn span for {name}: {found:?}"
    );
    found.into_iter().next().unwrap()
}

/// Waits (bounded) until the span of `name` is closed: the thread's task
/// drops its future just after waking the joiners.
async fn closed(name: &str) -> SpanRec {
    let ok = wait_until(Duration::from_secs(30), || span_of(name).1.closed).await;
    assert!(ok, "the span of {name} was never closed");
    span_of(name).1
}

/// The checks every thread's span passes once closed.
fn check_span(s: &SpanRec, thread: &Thread, kind: &str, line: u32) {
    let name = thread.name();
    assert_eq!(s.target, "greenthread::thread", "{name}");
    assert_eq!(s.fields.get("kind").map(Value::text), Some(kind), "{name}");
    assert_eq!(
        s.fields.get("task.id"),
        Some(&Value::U64(thread.ident().expect("started"))),
        "{name}: task.id is the ident, a u64"
    );
    let file = s.fields.get("loc.file").map(Value::text).unwrap_or("");
    assert!(
        file.ends_with("tracing_layer.rs"),
        "{name}: loc.file {file}"
    );
    assert_eq!(
        s.fields.get("loc.line"),
        Some(&Value::U64(line.into())),
        "{name}"
    );
    assert!(
        matches!(s.fields.get("loc.col"), Some(Value::U64(c)) if *c > 0),
        "{name}: loc.col"
    );
    assert!(s.enters >= 1, "{name}: polled at least once");
    assert_eq!(s.enters, s.exits, "{name}: every enter has its exit");
    assert_eq!(s.max_inside, 1, "{name}: never entered twice at once");
    assert_eq!(s.inside, 0, "{name}");
    let op = |o: &str| s.wakers.get(o).copied().unwrap_or(0);
    assert_eq!(
        op("waker.clone"),
        op("waker.drop") + op("waker.wake"),
        "{name}: every cloned waker dropped or consumed once the thread is gone: {:?}",
        s.wakers
    );
}

rt_test! {
    async fn spans_polls_and_wakers() {
        let records = records();
        let (sleeper_name, holder_name, waiter_name) =
            (unique("sleeper"), unique("holder"), unique("waiter"));
        let lock = Lock::new();
        let sleeper = Thread::builder().name(&sleeper_name).build(|| async {
            for _ in 0..3 {
                sleep(Duration::from_millis(100)).await;
            }
        });
        let held = lock.clone();
        let holder = Thread::builder().name(&holder_name).build(move || async move {
            let _g = held.lock().await;
            sleep(Duration::from_millis(300)).await;
        });
        let wanted = lock.clone();
        let waiter = Thread::builder().name(&waiter_name).build(move || async move {
            sleep(Duration::from_millis(100)).await;
            let _g = wanted.lock().await;
        });
        let (r1, l1) = (sleeper.start(), line!());
        let (r2, l2) = (holder.start(), line!());
        let (r3, l3) = (waiter.start(), line!());
        r1.unwrap();
        r2.unwrap();
        r3.unwrap();
        let spawned_name = unique("spawned");
        let body = async {
            sleep(Duration::from_millis(5)).await;
            7
        };
        let (h, l4) = (Thread::builder().name(&spawned_name).spawn(body), line!());
        let spawned = h.thread().clone();
        for t in [&sleeper, &holder, &waiter] {
            t.join_timeout(Duration::from_secs(30)).await.unwrap();
            assert!(!t.is_alive(), "{t} ended");
        }
        assert_eq!(
            greenthread::timeout(Duration::from_secs(30), h).await.expect("ends").unwrap(),
            7
        );

        let s = closed(&sleeper_name).await;
        check_span(&s, &sleeper, "thread", l1);
        // A sleep that had elapsed by its first poll (a thread preempted
        // for 100 ms) needs no wake: at least one of the three waits.
        assert!(s.enters >= 2, "{sleeper_name}: polled again after a sleep: {s:?}");
        let wakes = s.wakers.get("waker.wake").copied().unwrap_or(0)
            + s.wakers.get("waker.wake_by_ref").copied().unwrap_or(0);
        assert!(wakes >= 1, "{sleeper_name}: woken by a sleep: {:?}", s.wakers);
        check_span(&closed(&holder_name).await, &holder, "thread", l2);
        let w = closed(&waiter_name).await;
        check_span(&w, &waiter, "thread", l3);
        assert!(w.wakers.get("waker.clone").copied().unwrap_or(0) >= 1, "{:?}", w.wakers);
        check_span(&closed(&spawned_name).await, &spawned, "spawn", l4);

        // The main thread is a `block_on` task, started in support/mod.rs.
        let main = greenthread::main_thread();
        let ident = Value::U64(main.ident().unwrap());
        let recs = locked(records);
        let mains: Vec<_> = recs
            .spans
            .values()
            .filter(|s| s.fields.get("task.id") == Some(&ident)
                && s.fields.get("kind").map(Value::text) == Some("block_on"))
            .collect();
        assert_eq!(mains.len(), 1, "one span for the main thread");
        assert_eq!(mains[0].fields.get("task.name").map(Value::text), Some("MainThread"));
        assert!(mains[0].fields.get("loc.file").map(Value::text).unwrap_or("").ends_with("mod.rs"));
        assert_eq!(mains[0].inside, 1, "the main thread's span is entered while it runs");
        assert_eq!(recs.stray_wakers, 0, "every waker event names a thread's span");
    }
}

rt_test! {
    async fn excepthook_report_is_an_error_event() {
        let records = records();
        greenthread::set_excepthook(Arc::new(|_| {}));
        let name = unique("panicker");
        let t = Thread::builder().name(&name).build(|| async {
            panic!("boom in a traced thread");
        });
        t.start().unwrap();
        t.join_timeout(Duration::from_secs(30)).await.unwrap();
        assert!(!t.is_alive());
        let recs = locked(records);
        let mine: Vec<_> = recs
            .reports
            .iter()
            .filter(|r| r.fields.get("thread.name").map(Value::text) == Some(name.as_str()))
            .collect();
        assert_eq!(mine.len(), 1, "one report for {name}: {:?}", recs.reports);
        let r = mine[0];
        assert_eq!(r.level, Level::ERROR);
        assert_eq!(r.fields.get("kind").map(Value::text), Some("excepthook"));
        assert_eq!(r.fields.get("thread.ident"), Some(&Value::U64(t.ident().unwrap())));
        let message = r.fields.get("message").map(|v| format!("{v:?}")).unwrap_or_default();
        assert!(message.contains(&format!("Exception in thread {name}:")), "{message}");
        assert!(message.contains("boom in a traced thread"), "{message}");
    }
}

rt_test! {
    async fn a_panicking_subscriber_is_contained() {
        records();
        let lock = Lock::new();
        let mut threads = Vec::new();
        for name in [unique("panicky-new"), unique("panicky")] {
            let held = lock.clone();
            let t = Thread::builder().name(name).build(move || async move {
                for _ in 0..3 {
                    sleep(Duration::from_millis(5)).await;
                    let _g = held.lock().await;
                }
            });
            t.start().unwrap();
            threads.push(t);
        }
        for t in &threads {
            t.join_timeout(Duration::from_secs(30)).await.unwrap();
            assert!(!t.is_alive(), "{t} ended despite its subscriber's panics");
        }
        // The workers are all alive: a fresh thread still runs, and the
        // lock is free.
        let after = Thread::new(|| async { sleep(Duration::from_millis(5)).await });
        after.start().unwrap();
        after.join_timeout(Duration::from_secs(30)).await.unwrap();
        assert!(!after.is_alive(), "a thread started afterwards runs");
        assert!(lock.try_acquire(), "the lock was released");
    }
}

/// The `greenthread` events whose message mentions `needle`.
fn reports_naming(needle: &str) -> Vec<Report> {
    locked(records())
        .reports
        .iter()
        .filter(|r| {
            r.fields
                .get("message")
                .is_some_and(|v| format!("{v:?}").contains(needle))
        })
        .cloned()
        .collect()
}

rt_test! {
    /// A deadlock report is also an `ERROR` event, kind `deadlock`, that
    /// names the threads of the cycle.
    async fn deadlock_report_is_an_error_event() {
        records();
        greenthread::debug::set_deadlock_hook(Arc::new(|_| {}));
        let (a, b) = (Lock::new(), Lock::new());
        let first = unique("cycle-first");
        let second = unique("cycle-second");
        for (name, mine, other) in [(&first, &a, &b), (&second, &b, &a)] {
            let (mine, other) = (mine.clone(), other.clone());
            Thread::builder()
                .name(name.as_str())
                .daemon(true)
                .build(move || async move {
                    let _g = mine.lock().await;
                    sleep(Duration::from_millis(200)).await;
                    let _h = other.lock().await;
                })
                .start()
                .unwrap();
        }
        assert!(
            wait_until(Duration::from_secs(20), || !reports_naming(&first).is_empty()).await,
            "no deadlock event names {first}"
        );
        let r = reports_naming(&first).remove(0);
        assert_eq!(r.level, Level::ERROR);
        assert_eq!(r.fields.get("kind").map(Value::text), Some("deadlock"));
        let message = format!("{:?}", r.fields.get("message").unwrap());
        assert!(message.contains(&second), "{message}");
    }
}

rt_test! {
    /// A stall warning is also a `WARN` event, kind `stall`, naming the
    /// thread.
    fn stall_warning_is_a_warn_event(kind) {
        records();
        greenthread::debug::set_stall_hook(Arc::new(|_| {}));
        let name = unique("staller");
        let rt = support::builder_for(kind)
            .stall_warning(Some(Duration::from_millis(100)))
            .build()
            .unwrap();
        let n = name.clone();
        rt.block_on(async move {
            let t = Thread::builder().name(n.as_str()).build(|| async {
                // One poll that never awaits, for well over the threshold.
                std::thread::sleep(Duration::from_millis(1500));
            });
            t.start().unwrap();
            t.join_timeout(Duration::from_secs(30)).await.unwrap();
        });
        // Reported while the poll ran (within 100 ms + 100 ms of 1.5 s).
        let recs = locked(records());
        let r = recs
            .reports
            .iter()
            .find(|r| {
                r.fields.get("kind").map(Value::text) == Some("stall")
                    && r.fields.get("thread.name").map(Value::text) == Some(name.as_str())
            })
            .unwrap_or_else(|| panic!("no stall event for {name}: {:?}", recs.reports));
        assert_eq!(r.level, Level::WARN);
    }
}

//! `dump()` with no runtime at all (SPEC §11, meaning 1): it lists the
//! dummy threads only. Its own process: no other test's runtime lives here.

use std::time::Duration;

use greenthread::debug::{self, ThreadState};

#[test]
fn dump_without_any_runtime_lists_dummy_threads_only() {
    // Nothing at all yet: an empty dump, which still renders.
    let d = debug::dump();
    assert!(d.threads().iter().all(|t| t.class == "_DummyThread"), "{d}");
    assert!(d.to_json().starts_with("{\"runtimes\":["));
    // A plain OS thread that greenthread has seen is a dummy thread.
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (seen_tx, seen_rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        let me = greenthread::current_thread();
        seen_tx.send(me.ident().unwrap()).unwrap();
        rx.recv().unwrap();
    });
    let ident = seen_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    // From yet another plain thread, with no runtime anywhere.
    let d = std::thread::spawn(debug::dump).join().unwrap();
    assert!(!d.threads().is_empty());
    assert!(d.threads().iter().all(|t| t.class == "_DummyThread"), "{d}");
    let me = d
        .threads()
        .iter()
        .find(|t| t.ident == Some(ident))
        .expect("listed");
    assert!(me.daemon);
    assert_eq!(
        me.state,
        ThreadState::Running,
        "a foreign thread runs its own code"
    );
    assert!(d.to_string().contains("Dummy-"), "{d}");
    tx.send(()).unwrap();
    t.join().unwrap();
}

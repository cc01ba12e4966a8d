//! `GREENTHREAD_*` environment overrides (SPEC §2, §10.9): valid values
//! apply, invalid ones are an `io::Error` naming the variable (and a panic
//! naming it from `run`), explicit builder calls win.
//!
//! The environment is process-global, so everything is in ONE test
//! function (this file is its own process).

use std::io;
use std::time::Duration;

use greenthread::{Mode, Runtime};

const VARS: [&str; 8] = [
    "GREENTHREAD_MODE",
    "GREENTHREAD_WORKERS",
    "GREENTHREAD_GIL",
    "GREENTHREAD_SWITCH_INTERVAL_MS",
    "GREENTHREAD_OS_THREADS_MAX",
    "GREENTHREAD_DEADLOCK",
    "GREENTHREAD_STALL_MS",
    "GREENTHREAD_DUMP_ON_SIGQUIT",
];

fn clear() {
    for v in VARS {
        std::env::remove_var(v);
    }
}

fn expect_invalid(var: &str, value: &str) {
    clear();
    std::env::set_var(var, value);
    let start = std::time::Instant::now();
    let err = Runtime::new().expect_err(&format!("{var}={value:?} must be rejected"));
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{var}={value:?} rejected only after {:?}",
        start.elapsed()
    );
    assert_eq!(
        err.kind(),
        io::ErrorKind::InvalidInput,
        "{var}={value:?}: {err}"
    );
    assert!(
        err.to_string().contains(var),
        "{var}={value:?}: message {err:?} does not name it"
    );
    let err = Runtime::builder()
        .build()
        .expect_err("the builder reads the environment too");
    assert!(err.to_string().contains(var));
    // run() panics with a message naming the variable.
    let payload = std::panic::catch_unwind(|| greenthread::run(async {}))
        .expect_err(&format!("run() with {var}={value:?} must panic"));
    let msg = payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(
        msg.contains(var),
        "run()'s panic {msg:?} does not name {var}"
    );
}

#[test]
fn environment_overrides() {
    // Invalid values.
    for (var, value) in [
        ("GREENTHREAD_MODE", "bogus"),
        ("GREENTHREAD_MODE", ""),
        ("GREENTHREAD_MODE", "Green "),
        ("GREENTHREAD_WORKERS", "0"),
        ("GREENTHREAD_WORKERS", "-1"),
        ("GREENTHREAD_WORKERS", "two"),
        ("GREENTHREAD_WORKERS", "99999999999999999999999"),
        ("GREENTHREAD_WORKERS", "99999999"),
        ("GREENTHREAD_OS_THREADS_MAX", "0"),
        ("GREENTHREAD_OS_THREADS_MAX", "many"),
        ("GREENTHREAD_GIL", "2"),
        ("GREENTHREAD_GIL", "yes"),
        ("GREENTHREAD_GIL", ""),
        ("GREENTHREAD_SWITCH_INTERVAL_MS", "0"),
        ("GREENTHREAD_SWITCH_INTERVAL_MS", "-5"),
        ("GREENTHREAD_SWITCH_INTERVAL_MS", "1.5"),
        ("GREENTHREAD_DEADLOCK", "2"),
        ("GREENTHREAD_DEADLOCK", "off"),
        ("GREENTHREAD_STALL_MS", "-1"),
        ("GREENTHREAD_STALL_MS", "fast"),
        ("GREENTHREAD_DUMP_ON_SIGQUIT", "yes"),
    ] {
        expect_invalid(var, value);
    }

    // The debug settings' valid values (SPEC §11): 0 and 1, N ms (0: off).
    for (var, value) in [
        ("GREENTHREAD_DEADLOCK", "0"),
        ("GREENTHREAD_DEADLOCK", "1"),
        ("GREENTHREAD_STALL_MS", "0"),
        ("GREENTHREAD_STALL_MS", "250"),
        ("GREENTHREAD_DUMP_ON_SIGQUIT", "0"),
    ] {
        clear();
        std::env::set_var(var, value);
        Runtime::new().unwrap_or_else(|e| panic!("{var}={value}: {e}"));
    }
    // Explicit calls win over invalid values.
    clear();
    std::env::set_var("GREENTHREAD_DEADLOCK", "maybe");
    std::env::set_var("GREENTHREAD_STALL_MS", "soon");
    std::env::set_var("GREENTHREAD_DUMP_ON_SIGQUIT", "perhaps");
    Runtime::builder()
        .deadlock_detection(false)
        .stall_warning(None)
        .dump_on_sigquit(false)
        .build()
        .unwrap();

    // Valid values apply.
    clear();
    std::env::set_var("GREENTHREAD_OS_THREADS_MAX", "10000");
    drop(Runtime::new().unwrap());
    clear();
    std::env::set_var("GREENTHREAD_MODE", "os");
    let rt = Runtime::new().unwrap();
    assert_eq!(rt.mode(), Mode::OsThreads);
    let native = rt.block_on(async {
        let h = greenthread::spawn(async { std::thread::current().name().map(String::from) });
        h.await.unwrap()
    });
    assert!(
        native.unwrap().starts_with("Thread-"),
        "a Thread on its own named OS thread"
    );
    drop(rt);

    clear();
    std::env::set_var("GREENTHREAD_MODE", "green");
    std::env::set_var("GREENTHREAD_WORKERS", "3");
    let rt = Runtime::new().unwrap();
    assert_eq!(
        (rt.mode(), rt.workers(), rt.gil_enabled()),
        (Mode::Green, 3, false)
    );
    drop(rt);

    clear();
    std::env::set_var("GREENTHREAD_GIL", "1");
    std::env::set_var("GREENTHREAD_SWITCH_INTERVAL_MS", "7");
    let rt = Runtime::new().unwrap();
    assert!(rt.gil_enabled());
    let (enabled, interval) = rt.block_on(async {
        (
            greenthread::gil::enabled(),
            greenthread::gil::switch_interval(),
        )
    });
    assert!(enabled);
    assert_eq!(interval, Duration::from_millis(7));
    drop(rt);
    std::env::set_var("GREENTHREAD_GIL", "0");
    assert!(!Runtime::new().unwrap().gil_enabled());

    // run() uses the environment.
    clear();
    std::env::set_var("GREENTHREAD_MODE", "os");
    let name = greenthread::run(async {
        greenthread::spawn(async { std::thread::current().name().map(String::from) })
            .await
            .unwrap()
    });
    assert!(name.unwrap().starts_with("Thread-"));

    // Explicit builder calls win over the environment — even over invalid
    // values of the same setting.
    clear();
    std::env::set_var("GREENTHREAD_MODE", "bogus");
    std::env::set_var("GREENTHREAD_WORKERS", "zero");
    std::env::set_var("GREENTHREAD_GIL", "maybe");
    std::env::set_var("GREENTHREAD_SWITCH_INTERVAL_MS", "never");
    let rt = Runtime::builder()
        .mode(Mode::Green)
        .workers(2)
        .gil(true)
        .switch_interval(Duration::from_millis(9))
        .build()
        .unwrap();
    assert_eq!(
        (rt.mode(), rt.workers(), rt.gil_enabled()),
        (Mode::Green, 2, true)
    );
    assert_eq!(
        rt.block_on(async { greenthread::gil::switch_interval() }),
        Duration::from_millis(9)
    );
    drop(rt);
    clear();
    std::env::set_var("GREENTHREAD_MODE", "green");
    let rt = Runtime::builder().mode(Mode::OsThreads).build().unwrap();
    assert_eq!(rt.mode(), Mode::OsThreads);
    drop(rt);

    // Invalid builder values are errors too, never panics.
    clear();
    assert_eq!(
        Runtime::builder().workers(0).build().unwrap_err().kind(),
        io::ErrorKind::InvalidInput
    );
    assert_eq!(
        Runtime::builder()
            .switch_interval(Duration::ZERO)
            .build()
            .unwrap_err()
            .kind(),
        io::ErrorKind::InvalidInput
    );
}

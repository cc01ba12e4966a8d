//! `GREENTHREAD_DUMP_ON_SIGQUIT=1` / `Builder::dump_on_sigquit(true)`: a
//! SIGQUIT prints the thread dump to stderr and the program goes on. The
//! test runs itself as a child process (the signal and stderr are the
//! child's).

#![cfg(unix)]

use std::process::Command;
use std::time::Duration;

/// The child: a runtime with dumps on SIGQUIT, a named thread waiting,
/// then SIGQUIT sent to itself, twice; it must survive both.
#[test]
fn child_sigquit() {
    if std::env::var_os("GT_SIGQUIT_CHILD").is_none() {
        return; // only as the child of `sigquit_prints_the_dump_and_goes_on`
    }
    let via_env = std::env::var_os("GREENTHREAD_DUMP_ON_SIGQUIT").is_some();
    let builder = greenthread::Runtime::builder();
    let builder = if via_env {
        builder
    } else {
        builder.dump_on_sigquit(true)
    };
    let rt = builder.build().unwrap();
    rt.block_on(async {
        let ev = greenthread::Event::new();
        let e = ev.clone();
        let mut f = Some(async move {
            e.wait().await;
        });
        let t = greenthread::Thread::builder()
            .name("sigquit-waiter")
            .build(move || f.take().unwrap());
        t.start().unwrap();
        // A second apart, so the dump thread has printed the first before
        // the second comes (two pending signals would be one).
        for _ in 0..2 {
            greenthread::sleep(Duration::from_secs(1)).await;
            // SAFETY: kill(getpid(), SIGQUIT) only sends a signal; the
            // handler installed by greenthread just wakes its thread.
            unsafe { libc::kill(libc::getpid(), libc::SIGQUIT) };
        }
        greenthread::sleep(Duration::from_secs(2)).await;
        ev.set();
        t.join().await.unwrap();
    });
    println!("CHILD SURVIVED");
}

#[test]
fn sigquit_prints_the_dump_and_goes_on() {
    for via_env in [false, true] {
        let exe = std::env::current_exe().unwrap();
        let mut cmd = Command::new(exe);
        cmd.args([
            "--exact",
            "child_sigquit",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("GT_SIGQUIT_CHILD", "1");
        if via_env {
            cmd.env("GREENTHREAD_DUMP_ON_SIGQUIT", "1");
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "child failed: {stdout}\n{stderr}");
        assert!(stdout.contains("CHILD SURVIVED"), "{stdout}\n{stderr}");
        assert_eq!(
            stderr.matches("greenthread thread dump").count(),
            2,
            "one dump per SIGQUIT: {stderr}"
        );
        assert!(stderr.contains("\"sigquit-waiter\""), "{stderr}");
    }
}

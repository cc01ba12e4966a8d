//! Runs every example in `examples/` and checks its key lines, so none of
//! them can rot.
//!
//! The examples are built once with `cargo build --examples` (the same
//! profile and target directory as this test, so after `cargo test` it is a
//! no-op), then all sixteen run at once as child processes: most of them
//! spend their time in the tutorial's sleeps (up to 12 s for
//! `start_new_thread`), so running them side by side keeps the whole test
//! near the longest one. The checks only rely on orderings that the
//! examples' sleeps separate by a second or more, never on timings.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Every example, in the order.
const EXAMPLES: [&str; 16] = [
    "start_new_thread",
    "thread_target",
    "thread_subclass",
    "is_alive",
    "get_name",
    "set_name",
    "active_count",
    "current_thread",
    "enumerate",
    "lock",
    "priority_queue",
    "all_functions",
    "green_vs_os",
    "gil",
    "deadlock",
    "dump",
];

/// How long one example may run before the test gives up on it.
const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(120);

/// The target directory and profile this test binary was built in:
/// `<target>/<profile>/deps/examples-HASH`.
fn target_and_profile() -> (PathBuf, String) {
    let exe = std::env::current_exe().expect("current_exe");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("test binary lives in <target>/<profile>/deps");
    let profile = profile_dir
        .file_name()
        .and_then(|s| s.to_str())
        .expect("profile directory name")
        .to_string();
    let target = profile_dir
        .parent()
        .expect("target directory")
        .to_path_buf();
    (target, profile)
}

/// Builds the examples (a no-op when `cargo test` already built them) and
/// returns the directory holding them.
fn build_examples() -> PathBuf {
    let (target, profile) = target_and_profile();
    let mut cmd = Command::new(env!("CARGO"));
    cmd.args(["build", "--quiet", "--examples", "--target-dir"])
        .arg(&target)
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    match profile.as_str() {
        "debug" => {}
        "release" => {
            cmd.arg("--release");
        }
        other => {
            cmd.args(["--profile", other]);
        }
    }
    let status = cmd.status().expect("run cargo build --examples");
    assert!(status.success(), "cargo build --examples failed: {status}");
    target.join(profile).join("examples")
}

/// One example's output.
struct Output {
    name: &'static str,
    stdout: String,
    lines: Vec<String>,
}

impl Output {
    fn has(&self, line: &str) {
        assert!(
            self.lines.iter().any(|l| l == line),
            "{}: no line {line:?} in:\n{}",
            self.name,
            self.stdout
        );
    }

    fn has_prefix(&self, prefix: &str) {
        assert!(
            self.lines.iter().any(|l| l.starts_with(prefix)),
            "{}: no line starting {prefix:?} in:\n{}",
            self.name,
            self.stdout
        );
    }

    fn count(&self, line: &str) -> usize {
        self.lines.iter().filter(|l| *l == line).count()
    }

    /// Index of the only line equal to `line`.
    fn pos(&self, line: &str) -> usize {
        let at: Vec<usize> = (0..self.lines.len())
            .filter(|&i| self.lines[i] == line)
            .collect();
        assert_eq!(
            at.len(),
            1,
            "{}: line {line:?} should appear once in:\n{}",
            self.name,
            self.stdout
        );
        at[0]
    }

    /// `lines` appear in this order.
    fn in_order(&self, lines: &[&str]) {
        let at: Vec<usize> = lines.iter().map(|l| self.pos(l)).collect();
        assert!(
            at.windows(2).all(|w| w[0] < w[1]),
            "{}: expected {lines:?} in this order in:\n{}",
            self.name,
            self.stdout
        );
    }

    /// The output is exactly `lines`.
    fn exactly(&self, lines: &[&str]) {
        assert_eq!(self.lines, lines, "{}: unexpected output", self.name);
    }

    /// The block of non-empty lines after the line `header`.
    fn block_after(&self, header: &str) -> Vec<String> {
        let start = self.pos(header) + 1;
        self.lines[start..]
            .iter()
            .take_while(|l| !l.is_empty())
            .cloned()
            .collect()
    }
}

/// Whether `s` is a thread's repr `<Class(name, STATE N)>`.
fn is_repr(s: &str, class: &str, name: &str, state: &str) -> bool {
    let Some(rest) = s.strip_prefix(&format!("<{class}({name}, {state} ")) else {
        return false;
    };
    let Some(id) = rest.strip_suffix(")>") else {
        return false;
    };
    !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s` is a thread's repr `<Class(name, started N)>`.
fn is_started_repr(s: &str, class: &str, name: &str) -> bool {
    is_repr(s, class, name, "started")
}

/// The main thread's repr while its code runs.
fn is_main_repr(s: &str) -> bool {
    is_started_repr(s, "_MainThread", "MainThread")
}

/// The main thread's repr as seen by other threads, which may run after the
/// main code has ended: as in a Python script, main is then `stopped` but
/// still listed until the interpreter exits.
fn is_main_repr_late(s: &str) -> bool {
    is_main_repr(s) || is_repr(s, "_MainThread", "MainThread", "stopped")
}

/// Python's `str([main_thread])`.
fn is_main_only_list(s: &str) -> bool {
    s.strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .is_some_and(is_main_repr)
}

fn wait_with_timeout(name: &str, mut child: Child) -> std::process::Output {
    let start = Instant::now();
    loop {
        match child.try_wait().expect("wait for an example") {
            Some(_) => return child.wait_with_output().expect("collect output"),
            None if start.elapsed() > EXAMPLE_TIMEOUT => {
                let _ = child.kill();
                let out = child.wait_with_output().expect("collect output");
                panic!(
                    "{name}: still running after {EXAMPLE_TIMEOUT:?}; stdout so far:\n{}",
                    String::from_utf8_lossy(&out.stdout)
                );
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}

fn check(out: &Output) {
    match out.name {
        "start_new_thread" => {
            for name in ["First Thread", "Second Thread", "Third Thread"] {
                assert_eq!(out.count(&format!("Running {name}")), 4, "{}", out.stdout);
            }
            // Python's "Running %s\n": a blank line after each.
            assert_eq!(out.count(""), 12, "{}", out.stdout);
            out.in_order(&[
                "First Thread has finished execution",
                "Second Thread has finished execution",
                "Third Thread has finished execution",
            ]);
        }
        "thread_target" => {
            out.exactly(&["No. printed by Thread 2: 12", "No. printed by Thread 1: 10"])
        }
        "thread_subclass" => {
            let (v1, v2) = (
                out.pos("Value stored is:  1"),
                out.pos("Value stored is:  2"),
            );
            let e1 = out.pos("Exiting thread with value:  1");
            let e2 = out.pos("Exiting thread with value:  2");
            assert!(v1.max(v2) < e1.min(e2), "{}", out.stdout);
            assert_eq!(out.lines.len(), 4, "{}", out.stdout);
        }
        "is_alive" => out.exactly(&[
            "Is thread1 alive: False",
            "Is thread2 alive: False",
            "",
            "Value by Thread 2: 2",
            "Is thread1 alive: True",
            "Is thread2 alive: False",
            "Value by Thread 1: 1",
        ]),
        "get_name" | "set_name" => {
            let n = if out.name == "get_name" {
                "Thread-"
            } else {
                "Thread_number_"
            };
            let mut first_two = out.lines[..2].to_vec();
            first_two.sort();
            assert_eq!(
                first_two,
                [
                    format!("Value by {n}2 is:  20"),
                    format!("Value by {n}3 is:  30")
                ],
                "{}: {}",
                out.name,
                out.stdout
            );
            assert_eq!(out.lines[2..], [format!("Value by {n}1 is:  10")]);
        }
        "active_count" => out.exactly(&[
            "Number of active threads in the starting: 1",
            "The active threads in the starting is 1 which is the main thread that executes \
             till the program runs",
            "Number of active threads: 4",
            "Value by Thread 3: 3",
            "Number of active threads: 3",
            "Value by Thread 1: 1",
            "Number of active threads: 2",
            "Value by Thread 2: 2",
        ]),
        "current_thread" => {
            const P: &str = "Active current thread right now: ";
            let reprs: Vec<&str> = out.lines.iter().filter_map(|l| l.strip_prefix(P)).collect();
            assert_eq!(reprs.len(), 4, "{}", out.stdout);
            assert!(is_main_repr(reprs[0]), "{}", out.stdout);
            for (repr, name) in reprs[1..].iter().zip(["Thread-3", "Thread-1", "Thread-2"]) {
                assert!(is_started_repr(repr, "Thread", name), "{}", out.stdout);
            }
            out.in_order(&[
                "Value by Thread 3: 3",
                "Value by Thread 1: 1",
                "Value by Thread 2: 2",
            ]);
        }
        "enumerate" => {
            let start = out.lines[0]
                .strip_prefix("Threads alive in the starting: ")
                .expect("first line");
            assert!(is_main_only_list(start), "{}", out.stdout);
            let t2 = out.block_after("Threads alive when thread_2 executes");
            assert!(is_main_repr_late(&t2[0]), "{}", out.stdout);
            assert!(t2.iter().any(|t| is_started_repr(t, "Thread", "Thread-2")));
            let t4 = out.block_after("Threads alive when thread_4 executes");
            assert_eq!(
                t4.len(),
                4,
                "main, Thread-1, Thread-3, Thread-4: {}",
                out.stdout
            );
            assert!(is_main_repr_late(&t4[0]), "{}", out.stdout);
            for (t, name) in t4[1..].iter().zip(["Thread-1", "Thread-3", "Thread-4"]) {
                assert!(is_started_repr(t, "Thread", name), "{}", out.stdout);
            }
            let t1 = out.block_after("Threads alive when thread_1 executes:");
            assert_eq!(t1.len(), 2, "main and Thread-1: {}", out.stdout);
            assert!(is_main_repr_late(&t1[0]), "{}", out.stdout);
            assert!(
                is_started_repr(&t1[1], "Thread", "Thread-1"),
                "{}",
                out.stdout
            );
        }
        "deadlock" => {
            out.has("greenthread: deadlock: 2 threads wait on each other in a cycle:");
            assert_eq!(out.count("first_function: got both (never printed)"), 0);
            let waits = out
                .lines
                .iter()
                .filter(|l| l.contains("waiting on Lock #") && l.contains("held by thread"));
            assert_eq!(waits.count(), 2, "{}", out.stdout);
            for name in ["first_function", "second_function"] {
                assert!(
                    out.stdout.contains(&format!("\"{name}\" Thread")),
                    "{}",
                    out.stdout
                );
            }
        }
        "dump" => {
            out.has_prefix("greenthread thread dump: 302 threads");
            out.has("summary of 302 threads:");
            for line in ["waiting on a Lock", "waiting on Sleep"] {
                assert!(
                    out.lines.iter().any(|l| l.ends_with(line)),
                    "{}",
                    out.stdout
                );
            }
            assert!(out.stdout.contains("held by thread"), "{}", out.stdout);
            out.has("all threads finished");
        }
        "lock" => {
            assert_eq!(out.lines.len(), 20, "{}", out.stdout);
            for pair in out.lines.chunks(2) {
                assert_eq!(pair[0], "lock acquired", "{}", out.stdout);
                assert!(pair[1].starts_with("Executing the "), "{}", out.stdout);
            }
            assert_eq!(out.count("Executing the first funcion"), 5);
            assert_eq!(out.count("Executing the second funcion"), 5);
        }
        "priority_queue" => {
            let end1 = out
                .lines
                .iter()
                .position(|l| l == "Exit Main Thread")
                .unwrap();
            let part1 = &out.lines[..end1];
            for t in ["Thread-1", "Thread-2", "Thread-3"] {
                let init = part1.iter().position(|l| *l == format!("initializing {t}"));
                let exit = part1.iter().position(|l| *l == format!("Exiting {t}"));
                assert!(init.is_some() && init < exit, "{t}: {}", out.stdout);
            }
            for item in ["A", "B", "C", "D", "E"] {
                let suffix = format!(" processing {item}");
                let n = part1.iter().filter(|l| l.ends_with(&suffix)).count();
                assert_eq!(n, 1, "item {item} processed once: {}", out.stdout);
            }
            let served: Vec<&str> = out.lines[end1..]
                .iter()
                .filter_map(|l| l.split_once(" processing priority ").map(|(_, rest)| rest))
                .collect();
            assert_eq!(
                served,
                [
                    "1: fix the outage",
                    "1: page the on-call",
                    "2: answer the customer",
                    "3: write the report",
                    "4: tidy the desk",
                    "5: plan the party",
                ],
                "{}",
                out.stdout
            );
            assert_eq!(
                out.lines.last().map(String::as_str),
                Some("Exit Main Thread")
            );
        }
        "all_functions" => {
            let start = out.lines[0]
                .strip_prefix("Threads alive in the starting: ")
                .expect("first line");
            assert!(is_main_only_list(start), "{}", out.stdout);
            out.in_order(&[
                "Number of active threads in the starting: 1",
                "Is thread1 alive: False",
                "Is thread2 alive: False",
                "Is First thread alive: True",
                "Value by First Thread is:  1",
                "Number of active threads including first thread: 2",
                "Number of active threads after join ending: 1",
            ]);
            out.has("Value by Second Thread is:  2");
            out.has_prefix("Threads alive in second: [<_MainThread(MainThread, started ");
            out.has_prefix("Active current thread right now: <Thread(Second Thread, started ");
            out.has_prefix("Active current thread right now: <Thread(First Thread, started ");
            let end = out
                .lines
                .iter()
                .find_map(|l| l.strip_prefix("Threads alive in the ending: "))
                .expect("ending line");
            assert!(is_main_only_list(end), "{}", out.stdout);
        }
        "green_vs_os" => {
            out.has_prefix("Green (");
            out.has_prefix("OsThreads ");
            let counted = out
                .lines
                .iter()
                .filter(|l| l.contains("counter = 10000;"))
                .count();
            assert_eq!(counted, 2, "{}", out.stdout);
            out.has_prefix("Green vs OsThreads: ");
        }
        "gil" => {
            for mode in ["Green ", "Green + GIL ", "OsThreads ", "OsThreads + GIL "] {
                for work in ["CPU-bound", "sleep-bound"] {
                    let found = out.lines.iter().any(|l| {
                        l.strip_prefix(mode)
                            .is_some_and(|rest| rest.trim_start().starts_with(work))
                    });
                    assert!(found, "no {mode}{work} row in:\n{}", out.stdout);
                }
            }
            out.has_prefix("CPU-bound: with the GIL the 4 countdowns took ");
            out.has_prefix("Sleep-bound: ");
        }
        other => panic!("no checks for example {other}"),
    }
}

#[test]
fn every_example_runs_and_prints_its_key_lines() {
    let dir = build_examples();
    let children: Vec<(&'static str, Child)> = EXAMPLES
        .iter()
        .map(|&name| {
            let child = Command::new(dir.join(name))
                .env_remove("GREENTHREAD_MODE")
                .env_remove("GREENTHREAD_GIL")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap_or_else(|e| panic!("start example {name}: {e}"));
            (name, child)
        })
        .collect();
    // Collect every output first, so one failing example does not leave
    // the others running.
    let outputs: Vec<(&'static str, std::process::Output)> = children
        .into_iter()
        .map(|(name, child)| (name, wait_with_timeout(name, child)))
        .collect();
    for (name, raw) in outputs {
        let stdout = String::from_utf8_lossy(&raw.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&raw.stderr);
        assert!(
            raw.status.success(),
            "{name} failed ({}):\n{stdout}\n{stderr}",
            raw.status
        );
        assert!(
            !stderr.contains("Exception in thread") && !stderr.contains("panicked"),
            "{name} reported an error:\n{stderr}"
        );
        let lines = stdout.lines().map(str::to_string).collect();
        check(&Output {
            name,
            stdout,
            lines,
        });
    }
}

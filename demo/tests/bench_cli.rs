//! `greenthread bench`: the smoke-sized run (`--smoke`, hidden: tiny sizes,
//! one run each) with `--json` measures every workload on every back-end
//! that applies to it, and says so in its JSON.

use std::process::Command;

/// Every row `bench` prints: (id, workload, the back-ends it runs on).
const ROWS: &[(&str, &str, &[&str])] = &[
    ("W1", "skynet", &["green", "green+gil", "tokio", "smol"]),
    ("W2", "spawn-many", ALL),
    ("W4", "yield-many", &["green", "green+gil", "tokio", "smol"]),
    ("W5", "ping-pong", ALL),
    ("W6", "contended Lock", ALL),
    ("W7", "queue throughput", ALL),
    ("W8", "timer arm+cancel", &["green", "tokio", "smol"]),
    (
        "W8",
        "sleep lateness p99",
        &["green", "green+gil", "tokio", "smol"],
    ),
    ("W9", "idle memory", &["green", "tokio", "smol"]),
];

const ALL: &[&str] = &["green", "green+gil", "os", "tokio", "smol", "std"];

/// The number after `"key":` in `json`, if it is one (not `null`).
fn number(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}', ']']).unwrap_or(rest.len());
    rest[..end].parse().ok()
}

/// The object after `"key":{` in `json`, up to its closing brace (flat).
fn object<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let at = json.find(&format!("\"{key}\":{{"))? + key.len() + 4;
    let rest = &json[at..];
    Some(&rest[..rest.find('}')?])
}

#[test]
fn smoke_json_has_every_workload_and_back_end() {
    let out = Command::new(env!("CARGO_BIN_EXE_greenthread"))
        .args(["bench", "--smoke", "--json"])
        .output()
        .expect("run greenthread bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "bench failed: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let json = stdout.trim();
    assert!(json.starts_with("{\"bench\":\"smoke\""), "{json}");
    assert!(number(json, "cores").is_some_and(|c| c >= 1.0), "{json}");
    assert!(json.contains("\"date\":\""), "{json}");
    assert!(json.contains("\"commit\":"), "{json}");

    // One object per row, in order.
    let rows: Vec<&str> = json.split("{\"id\":").skip(1).collect();
    assert_eq!(rows.len(), ROWS.len(), "{json}");
    for (row, (id, name, backends)) in rows.iter().zip(ROWS) {
        assert!(
            row.starts_with(&format!("\"{id}\",\"workload\":\"{name}\"")),
            "expected {id} {name}, got {row}"
        );
        let medians = object(row, "median").expect("medians");
        for b in *backends {
            let v = number(medians, b);
            assert!(
                v.is_some_and(|v| v.is_finite() && v > 0.0),
                "{id} {name} on {b}: {v:?} in {medians}"
            );
        }
        assert_eq!(
            medians.matches(':').count(),
            backends.len(),
            "{id} {name}: only {backends:?} in {medians}"
        );
        let vs_tokio = number(row, "green_vs_tokio");
        assert!(vs_tokio.is_some_and(|r| r > 0.0), "{id} {name}: {row}");
    }
}

//! The demo's output: one table for people, or JSON for programs.

use std::fmt::Write as _;

use super::phase::PhaseResult;
use super::{ModeSpec, Workload};

/// One measured (or failed) configuration.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) mode: ModeSpec,
    /// Threads actually run.
    pub(crate) threads: usize,
    /// Threads asked for, if more than were run (OS mode's limit).
    pub(crate) asked: Option<usize>,
    pub(crate) result: Result<PhaseResult, String>,
}

/// What the whole run was.
#[derive(Debug, Clone)]
pub(crate) struct Summary {
    pub(crate) workload: Workload,
    pub(crate) workers: usize,
    pub(crate) cores: usize,
    pub(crate) rows: Vec<Row>,
}

impl Summary {
    /// The total time of `mode`'s row with `threads` threads, if it ran.
    fn total_of(&self, mode: ModeSpec, threads: usize) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.mode == mode && r.threads == threads && r.asked.is_none())
            .and_then(|r| r.result.as_ref().ok())
            .map(|p| p.total.as_secs_f64())
    }

    /// How many times faster the green row is than the same program in OS
    /// mode (with the same GIL setting and thread count), for green rows.
    pub(crate) fn speedup(&self, row: &Row) -> Option<f64> {
        if row.mode.os || row.asked.is_some() {
            return None;
        }
        let green = row.result.as_ref().ok()?.total.as_secs_f64();
        let os = self.total_of(row.mode.counterpart(), row.threads)?;
        Some(os / green)
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn millis(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1e3;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 10_000.0 {
        format!("{ms:.1} ms")
    } else {
        format!("{:.2} s", ms / 1e3)
    }
}

fn bytes(b: f64) -> String {
    if b < 1024.0 {
        format!("{b:.0} B")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.1} KiB", b / 1024.0)
    } else {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    }
}

/// The table, with a header line and notes.
pub(crate) fn table(s: &Summary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "workload: {} ({}); {} worker(s) in green mode, {} core(s)",
        s.workload,
        s.workload.describe(),
        s.workers,
        s.cores
    );
    let _ = writeln!(out);
    let header = [
        "mode",
        "threads",
        "spawn",
        "total",
        "heap/thread",
        "RSS/thread",
        "peak RSS",
        "switches",
        "GIL hand-offs",
        "green speed-up",
    ];
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| h.to_string()).collect()];
    let mut notes = Vec::new();
    let mut last_threads = None;
    for row in &s.rows {
        let group = row.asked.unwrap_or(row.threads);
        if last_threads.is_some_and(|g| g != group) {
            cells.push(Vec::new());
        }
        last_threads = Some(group);
        let mut threads = thousands(row.threads as u64);
        if let Some(asked) = row.asked {
            threads.push('*');
            notes.push(format!(
                "* {}: {} threads asked, clamped to {}: one OS thread each costs a stack and \
                 memory mappings, and more would exhaust the machine (green mode takes up to \
                 1,000,000)",
                row.mode.label(),
                thousands(asked as u64),
                thousands(row.threads as u64)
            ));
        }
        match &row.result {
            Ok(p) => cells.push(vec![
                row.mode.label().to_string(),
                threads,
                millis(p.spawn),
                millis(p.total),
                bytes(p.heap_per_thread(row.threads)),
                p.rss_per_thread(row.threads)
                    .map_or_else(|| "n/a".into(), bytes),
                p.rss_peak.map_or_else(|| "n/a".into(), |b| bytes(b as f64)),
                thousands(p.switches),
                if row.mode.gil {
                    thousands(p.gil_switches)
                } else {
                    "-".into()
                },
                s.speedup(row)
                    .map_or_else(|| "-".into(), |x| format!("{x:.1}x")),
            ]),
            Err(e) => {
                cells.push(vec![row.mode.label().to_string(), threads, "failed".into()]);
                notes.push(format!(
                    "{} with {} threads failed: {e}",
                    row.mode.label(),
                    row.threads
                ));
            }
        }
    }
    columns(&mut out, &cells, 1);
    let _ = writeln!(out);
    for note in [
        "spawn: creating and starting every thread; total: from the first start to the last join.",
        "heap/thread: peak live heap added, per thread (a counting allocator);",
        "RSS/thread: peak resident memory added, per thread (includes OS thread stacks).",
        "switches: times a thread suspended at a switch point (counted by a trace hook).",
        "green speed-up: OS-mode total / green total, same GIL setting and thread count.",
    ] {
        let _ = writeln!(out, "{note}");
    }
    for n in notes {
        let _ = writeln!(out, "{n}");
    }
    out
}

/// Writes `cells` as aligned columns, two spaces apart: the first `left`
/// columns flush left, the rest flush right (numbers). A row may be shorter
/// than the others (an empty one is a blank line).
pub(crate) fn columns(out: &mut String, cells: &[Vec<String>], left: usize) {
    let cols = cells.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            cells
                .iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for row in cells {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            let sep = if c == 0 { "" } else { "  " };
            if c < left {
                let _ = write!(line, "{sep}{cell:<w$}", w = widths[c]);
            } else {
                let _ = write!(line, "{sep}{cell:>w$}", w = widths[c]);
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
}

/// `s` as a JSON string literal.
pub(crate) fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `v` as a JSON number, or `null` (also for NaN and infinities).
pub(crate) fn json_opt(v: Option<f64>) -> String {
    v.filter(|v| v.is_finite())
        .map_or_else(|| "null".into(), |v| format!("{v}"))
}

/// The whole run as one JSON object.
pub(crate) fn json(s: &Summary) -> String {
    let mut rows = Vec::new();
    for row in &s.rows {
        let mut o = format!(
            "{{\"mode\":{},\"threads\":{},\"threads_asked\":{}",
            json_str(row.mode.label()),
            row.threads,
            row.asked.unwrap_or(row.threads)
        );
        match &row.result {
            Ok(p) => {
                let _ = write!(
                    o,
                    ",\"ok\":true,\"spawn_s\":{},\"total_s\":{},\"heap_per_thread_bytes\":{},\
                     \"rss_per_thread_bytes\":{},\"peak_rss_bytes\":{},\"switches\":{},\
                     \"gil_switches\":{},\"green_speedup\":{}}}",
                    p.spawn.as_secs_f64(),
                    p.total.as_secs_f64(),
                    p.heap_per_thread(row.threads),
                    json_opt(p.rss_per_thread(row.threads)),
                    json_opt(p.rss_peak.map(|b| b as f64)),
                    p.switches,
                    p.gil_switches,
                    json_opt(s.speedup(row)),
                );
            }
            Err(e) => {
                let _ = write!(o, ",\"ok\":false,\"error\":{}}}", json_str(e));
            }
        }
        rows.push(o);
    }
    format!(
        "{{\"workload\":{},\"workers\":{},\"cores\":{},\"rows\":[{}]}}",
        json_str(&s.workload.to_string()),
        s.workers,
        s.cores,
        rows.join(",")
    )
}

//! `bench`'s output: one table for people, or JSON for programs; and the
//! run's circumstances (date, commit).

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::{Backend, Report, Row};
use crate::demo::report::{columns, json_opt, json_str};

/// A count, short: `1M`, `100k`, `200`.
pub(crate) fn count(n: usize) -> String {
    const MILLION: usize = 1_000_000;
    const THOUSAND: usize = 1_000;
    if n >= MILLION && n % MILLION == 0 {
        format!("{}M", n / MILLION)
    } else if n >= THOUSAND && n % THOUSAND == 0 {
        format!("{}k", n / THOUSAND)
    } else {
        n.to_string()
    }
}

/// Now, in UTC, as `YYYY-MM-DD HH:MM UTC` (no time-zone database needed).
pub(crate) fn utc_now() -> String {
    const DAY: u64 = 86_400;
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / DAY) as i64);
    let (hh, mm) = (secs % DAY / 3_600, secs % 3_600 / 60);
    format!("{y:04}-{m:02}-{d:02} {hh:02}:{mm:02} UTC")
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The commit this binary was built from: `git rev-parse --short HEAD` in
/// the source tree at build time (`build.rs`), if git and a checkout were
/// there; not the directory the user runs it from.
pub(crate) const BUILT_FROM: Option<&str> = option_env!("GREENTHREAD_BUILT_FROM");

/// A figure with three or so significant digits.
fn figure(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn ratio(r: Option<f64>) -> String {
    r.filter(|r| r.is_finite())
        .map_or_else(|| "-".into(), |r| format!("{r:.2}x"))
}

/// The table, with a header line and notes.
pub(crate) fn table(r: &Report) -> String {
    let mut out = String::new();
    let reps = r.size.reps();
    let _ = writeln!(
        out,
        "greenthread bench ({}): {} core(s), {}, commit {}",
        r.size.label(),
        r.cores,
        r.date,
        r.commit.unwrap_or("unknown")
    );
    let _ = writeln!(
        out,
        "median of {} run(s) after {} warm-up(s) (fewer where they would take over {} s \
         in all); every pool has {} worker(s)",
        reps.timed,
        reps.warmup,
        super::CELL_BUDGET.as_secs(),
        r.cores
    );
    let _ = writeln!(out);
    let mut header: Vec<String> = ["workload", "size", "metric"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    header.extend(Backend::ALL.iter().map(|b| b.label().to_string()));
    header.extend(["green/tokio", "green/best", "best"].map(String::from));
    let mut cells = vec![header];
    for row in &r.rows {
        let mut line = vec![
            format!("{} {}", row.id, row.name),
            row.size.clone(),
            row.metric.to_string(),
        ];
        line.extend(
            Backend::ALL
                .iter()
                .map(|&b| row.median(b).map_or_else(|| "-".into(), figure)),
        );
        line.push(ratio(row.ratio(Backend::Tokio)));
        let best = row.best_peer();
        line.push(ratio(best.and_then(|b| row.ratio(b))));
        line.push(best.map_or_else(|| "-".into(), |b| b.label().into()));
        cells.push(line);
    }
    columns(&mut out, &cells, 3);
    let _ = writeln!(out);
    for note in [
        "green/tokio, green/best: green's median / the peer's median (best: the faster of tokio \
         and smol on that row). Below 1.00x green is faster, or for B/thread smaller.",
        "os, std: one OS thread per thread, run at the smaller size in parentheses; per-op \
         figures still compare. '-': the workload does not apply there.",
    ] {
        let _ = writeln!(out, "{note}");
    }
    out
}

/// One row as a JSON object.
fn json_row(row: &Row) -> String {
    let medians: Vec<String> = row
        .samples
        .iter()
        .map(|(b, _)| format!("{}:{}", json_str(b.label()), json_opt(row.median(*b))))
        .collect();
    let samples: Vec<String> = row
        .samples
        .iter()
        .map(|(b, s)| {
            let runs: Vec<String> = s.iter().map(|v| json_opt(Some(*v))).collect();
            format!("{}:[{}]", json_str(b.label()), runs.join(","))
        })
        .collect();
    let best = row.best_peer();
    format!(
        "{{\"id\":{},\"workload\":{},\"size\":{},\"metric\":{},\"median\":{{{}}},\
         \"samples\":{{{}}},\"green_vs_tokio\":{},\"best_peer\":{},\"green_vs_best\":{}}}",
        json_str(row.id),
        json_str(row.name),
        json_str(&row.size),
        json_str(row.metric),
        medians.join(","),
        samples.join(","),
        json_opt(row.ratio(Backend::Tokio)),
        best.map_or_else(|| "null".into(), |b| json_str(b.label())),
        json_opt(best.and_then(|b| row.ratio(b))),
    )
}

/// The whole run as one JSON object.
pub(crate) fn json(r: &Report) -> String {
    let reps = r.size.reps();
    let rows: Vec<String> = r.rows.iter().map(json_row).collect();
    format!(
        "{{\"bench\":{},\"cores\":{},\"date\":{},\"commit\":{},\"warmups\":{},\"runs\":{},\
         \"rows\":[{}]}}",
        json_str(r.size.label()),
        r.cores,
        json_str(&r.date),
        r.commit.map_or_else(|| "null".into(), json_str),
        reps.warmup,
        reps.timed,
        rows.join(",")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(19_723), (2024, 1, 1));
    }

    #[test]
    fn counts() {
        assert_eq!(count(1_000_000), "1M");
        assert_eq!(count(100_000), "100k");
        assert_eq!(count(200), "200");
        assert_eq!(count(1_500), "1500");
    }
}

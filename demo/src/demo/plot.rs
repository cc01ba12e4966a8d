//! `--plot FILE.svg`: wall time per thread and memory per thread against
//! the thread count, one line per mode, drawn with `plotters`' SVG backend.

use std::path::Path;

use plotters::prelude::*;

use super::report::{Row, Summary};
use super::ModeSpec;

/// One colour per mode, in `ModeSpec::ALL` order.
const COLOURS: [RGBColor; 4] = [
    RGBColor(0x1b, 0x9e, 0x77),
    RGBColor(0xd9, 0x5f, 0x02),
    RGBColor(0x75, 0x70, 0xb3),
    RGBColor(0xe7, 0x29, 0x8a),
];

type Points = Vec<(f64, f64)>;

/// (mode, points) for each mode with at least one point.
fn series(s: &Summary, y: impl Fn(&Row) -> Option<f64>) -> Vec<(ModeSpec, Points)> {
    ModeSpec::ALL
        .iter()
        .map(|&m| {
            let pts: Points = s
                .rows
                .iter()
                .filter(|r| r.mode == m && r.asked.is_none())
                .filter_map(|r| Some((r.threads as f64, y(r)?)))
                .filter(|&(_, v)| v > 0.0 && v.is_finite())
                .collect();
            (m, pts)
        })
        .filter(|(_, pts)| !pts.is_empty())
        .collect()
}

fn bounds(all: &[(ModeSpec, Points)], f: impl Fn(&(f64, f64)) -> f64) -> (f64, f64) {
    let vals = all.iter().flat_map(|(_, p)| p.iter().map(&f));
    let (lo, hi) = vals.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        (1.0, 10.0)
    } else {
        (lo / 1.5, hi * 1.5)
    }
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    y_desc: &str,
    data: &[(ModeSpec, Points)],
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let (x0, x1) = bounds(data, |p| p.0);
    let (y0, y1) = bounds(data, |p| p.1);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
        .map_err(err)?;
    chart
        .configure_mesh()
        .x_desc("threads")
        .y_desc(y_desc)
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| {
            if *y >= 10.0 {
                format!("{y:.0}")
            } else {
                format!("{y:.2}")
            }
        })
        .draw()
        .map_err(err)?;
    for (mode, pts) in data {
        let i = ModeSpec::ALL.iter().position(|m| m == mode).unwrap_or(0);
        let colour = COLOURS[i];
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), colour.stroke_width(2)))
            .map_err(err)?
            .label(mode.label())
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], colour.stroke_width(2))
            });
        chart
            .draw_series(pts.iter().map(|&p| Circle::new(p, 3, colour.filled())))
            .map_err(err)?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Writes the picture to `path`.
///
/// # Errors
///
/// A message if the file cannot be written or drawn.
pub(crate) fn write(path: &Path, s: &Summary, subtitle: &str) -> Result<(), String> {
    let root = SVGBackend::new(path, (1200, 520)).into_drawing_area();
    let err = |e: DrawingAreaErrorKind<std::io::Error>| e.to_string();
    root.fill(&WHITE).map_err(err)?;
    let root = root.titled(subtitle, ("sans-serif", 16)).map_err(err)?;
    let (left, right) = root.split_horizontally(600);
    let time = series(s, |r| {
        let p = r.result.as_ref().ok()?;
        Some(p.total.as_secs_f64() * 1e6 / r.threads as f64)
    });
    let mem = series(s, |r| {
        let p = r.result.as_ref().ok()?;
        p.rss_per_thread(r.threads)
            .map(|b| b / 1024.0)
            .or(Some(p.heap_per_thread(r.threads) / 1024.0))
    });
    panel(
        &left,
        "wall time per thread",
        "µs per thread (total / threads)",
        &time,
    )?;
    panel(
        &right,
        "memory per thread",
        "KiB per thread (peak RSS added / threads)",
        &mem,
    )?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

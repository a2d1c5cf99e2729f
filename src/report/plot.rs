//! PNG plots where the notebooks plot: bar charts (interactions per day) and line charts (loss
//! or RMSE per epoch). Text uses the DejaVu Sans font shipped in `assets/fonts`, so no system
//! font library is needed.

use std::path::Path;
use std::sync::Once;

use anyhow::{anyhow, Result};
use plotters::prelude::*;
use plotters::style::{register_font, FontStyle};

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
const SIZE: (u32, u32) = (900, 560);
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

fn ensure_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if register_font("sans-serif", FontStyle::Normal, FONT).is_err() {
            eprintln!("warning: could not load the plot font; plots will have no text");
        }
    });
}

fn plot_err<E: std::fmt::Debug>(path: &Path) -> impl FnOnce(E) -> anyhow::Error + '_ {
    move |e| anyhow!("drawing {}: {e:?}", path.display())
}

/// A bar chart with one bar per label, as PNG at `path`.
pub fn bar_chart(
    path: &Path,
    title: &str,
    labels: &[String],
    values: &[f64],
    y_label: &str,
) -> Result<()> {
    bars(path, title, labels, values, None, y_label)
}

/// A bar chart with an error bar (± `errors[i]`, e.g. one standard deviation) on each bar.
pub fn bar_chart_with_errors(
    path: &Path,
    title: &str,
    labels: &[String],
    values: &[f64],
    errors: &[f64],
    y_label: &str,
) -> Result<()> {
    bars(path, title, labels, values, Some(errors), y_label)
}

fn bars(
    path: &Path,
    title: &str,
    labels: &[String],
    values: &[f64],
    errors: Option<&[f64]>,
    y_label: &str,
) -> Result<()> {
    ensure_font();
    let err = || plot_err(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err())?;
    let top = |i: usize| values[i] + errors.map_or(0.0, |e| e.get(i).copied().unwrap_or(0.0));
    let y_max = (0..values.len()).map(top).fold(0.0, f64::max) * 1.08 + 1e-9;
    let n = labels.len().max(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(70)
        .y_label_area_size(70)
        .build_cartesian_2d((0..n).into_segmented(), 0.0..y_max)
        .map_err(err())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .y_desc(y_label)
        .x_labels(n.min(20))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .x_label_style(("sans-serif", 13))
        .y_label_formatter(&|v| {
            if y_max < 10.0 {
                format!("{v:.2}")
            } else {
                format!("{v:.0}")
            }
        })
        .draw()
        .map_err(err())?;
    chart
        .draw_series(
            Histogram::vertical(&chart)
                .style(PALETTE[0].filled())
                .margin(2)
                .data(values.iter().enumerate().map(|(i, v)| (i, *v))),
        )
        .map_err(err())?;
    if let Some(errors) = errors {
        let whiskers = values.iter().zip(errors).enumerate().map(|(i, (v, e))| {
            ErrorBar::new_vertical(
                SegmentValue::CenterOf(i),
                (v - e).max(0.0),
                *v,
                v + e,
                BLACK.stroke_width(2),
                12,
            )
        });
        chart.draw_series(whiskers).map_err(err())?;
    }
    root.present().map_err(err())?;
    Ok(())
}

/// One line per named series over epochs 1..=n, as PNG at `path`.
pub fn line_chart(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(&str, &[f64])],
) -> Result<()> {
    ensure_font();
    let err = || plot_err(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err())?;
    let finite = || {
        series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .filter(|v| v.is_finite())
    };
    let (lo, hi) = finite().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (0.0, 1.0) };
    let pad = ((hi - lo) * 0.08).max(1e-6);
    let n = series
        .iter()
        .map(|(_, v)| v.len())
        .max()
        .unwrap_or(1)
        .max(2);
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(1f64..n as f64, (lo - pad)..(hi + pad))
        .map_err(err())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .draw()
        .map_err(err())?;
    for (i, (name, values)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let points = || values.iter().enumerate().map(|(e, v)| (e as f64 + 1.0, *v));
        // Markers too, so that a one-epoch series still shows.
        chart
            .draw_series(points().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(err())?;
        chart
            .draw_series(LineSeries::new(points(), color.stroke_width(2)))
            .map_err(err())?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err())?;
    root.present().map_err(err())?;
    Ok(())
}

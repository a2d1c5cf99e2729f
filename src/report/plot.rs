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
    line_chart_with_points(path, title, x_label, y_label, series, &[])
}

/// Where the legend goes: the corner of the plot (its outer 40% on both axes) holding the
/// fewest points of the curves, so that it never sits over a curve when a corner is free.
fn legend_corner(points: &[(f64, f64)]) -> SeriesLabelPosition {
    let corners = [
        (SeriesLabelPosition::UpperRight, true, true),
        (SeriesLabelPosition::UpperLeft, false, true),
        (SeriesLabelPosition::LowerRight, true, false),
        (SeriesLabelPosition::LowerLeft, false, false),
    ];
    let count = |right: bool, upper: bool| {
        points
            .iter()
            .filter(|(x, y)| {
                (if right { *x > 0.6 } else { *x < 0.4 })
                    && (if upper { *y > 0.6 } else { *y < 0.4 })
            })
            .count()
    };
    let mut best = 0;
    let mut fewest = usize::MAX;
    for (k, (_, right, upper)) in corners.iter().enumerate() {
        let n = count(*right, *upper);
        if n < fewest {
            fewest = n;
            best = k;
        }
    }
    corners
        .into_iter()
        .nth(best)
        .map_or(SeriesLabelPosition::UpperRight, |c| c.0)
}

/// [`line_chart`] with points drawn over the curves: each named set of `(epoch, value)` pairs
/// (the values a notebook printed, at the epochs it printed them) as black crosses, so they read apart from the curves. Epochs are whole numbers on the x
/// axis; each curve has its markers (a one-epoch series still shows).
pub fn line_chart_with_points(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[(&str, &[f64])],
    points: &[(&str, &[(usize, f64)])],
) -> Result<()> {
    ensure_font();
    let err = || plot_err(path);
    let root = BitMapBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE).map_err(err())?;
    let finite = || {
        series
            .iter()
            .flat_map(|(_, v)| v.iter().copied())
            .chain(points.iter().flat_map(|(_, p)| p.iter().map(|q| q.1)))
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
        .chain(points.iter().flat_map(|(_, p)| p.iter().map(|q| q.0)))
        .max()
        .unwrap_or(1)
        .max(2) as i64;
    let (y0, y1) = (lo - pad, hi + pad);
    let normalised: Vec<(f64, f64)> = series
        .iter()
        .flat_map(|(_, v)| v.iter().enumerate())
        .map(|(e, v)| (e as f64 + 1.0, *v))
        .chain(
            points
                .iter()
                .flat_map(|(_, p)| p.iter().map(|&(e, v)| (e as f64, v))),
        )
        .map(|(x, v)| ((x - 1.0) / (n - 1) as f64, (v - y0) / (y1 - y0)))
        .collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 24))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(70)
        .build_cartesian_2d(1i64..n, y0..y1)
        .map_err(err())?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .x_labels((n as usize).min(12))
        .draw()
        .map_err(err())?;
    for (i, (name, values)) in series.iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let at = || values.iter().enumerate().map(|(e, v)| (e as i64 + 1, *v));
        chart
            .draw_series(at().map(|p| Circle::new(p, 3, color.filled())))
            .map_err(err())?;
        chart
            .draw_series(LineSeries::new(at(), color.stroke_width(2)))
            .map_err(err())?
            .label(*name)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
    }
    for (name, marks) in points {
        chart
            .draw_series(
                marks
                    .iter()
                    .map(|&(e, v)| Cross::new((e as i64, v), 6, BLACK.stroke_width(2))),
            )
            .map_err(err())?
            .label(*name)
            .legend(|(x, y)| Cross::new((x + 9, y), 5, BLACK.stroke_width(2)));
    }
    chart
        .configure_series_labels()
        .position(legend_corner(&normalised))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(err())?;
    root.present().map_err(err())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_legend_goes_where_the_curves_are_not() {
        // a falling loss curve: high on the left, low on the right
        let falling: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64 / 9.0, 1.0 - i as f64 / 9.0))
            .collect();
        assert!(matches!(
            legend_corner(&falling),
            SeriesLabelPosition::UpperRight
        ));
        let rising: Vec<(f64, f64)> = falling.iter().map(|&(x, y)| (x, 1.0 - y)).collect();
        assert!(matches!(
            legend_corner(&rising),
            SeriesLabelPosition::UpperLeft
        ));
    }

    #[test]
    fn a_chart_with_the_notebooks_points_is_drawn() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loss.png");
        line_chart_with_points(
            &path,
            "loss",
            "epoch",
            "loss",
            &[("this run", &[1.0, 0.8, 0.7])],
            &[("notebook (printed)", &[(1, 0.95), (3, 0.72)])],
        )
        .unwrap();
        assert!(std::fs::metadata(&path).unwrap().len() > 1000);
    }
}

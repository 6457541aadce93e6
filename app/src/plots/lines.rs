//! Line charts of AUROCs: one line (with a dot at each point) per method,
//! against a numeric x (Min-K%'s `k`) or against categories (exposure counts),
//! with the chance level 0.5 dashed; and fine-tuning's loss curves, one line
//! per grid point against the optimiser step.

use plotters::prelude::*;

use super::{INK, LegendEntry, Mark, PALETTE, PLOT_HEIGHT, axes, render, style_mesh};

/// One line: its name in the legend and its points; non-finite y values are left out.
pub struct Line {
    pub name: String,
    pub points: Vec<(f64, f64)>,
}

/// The x axis: numbers from `lo` to `hi`, or named categories at x = 0, 1, …
pub enum XAxis {
    Numbers { lo: f64, hi: f64 },
    Categories(Vec<String>),
}

fn legend(lines: &[Line]) -> Vec<LegendEntry> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| LegendEntry { name: l.name.clone(), mark: Mark::Line { colour: PALETTE[i % PALETTE.len()], dashed: false } })
        .collect()
}

fn finite(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points.iter().copied().filter(|(x, y)| x.is_finite() && y.is_finite()).collect()
}

/// AUROCs (0 to 1) of each line against `x`.
pub fn auroc_chart(title: &str, x_desc: &str, x: &XAxis, lines: &[Line]) -> Result<String, String> {
    let legend = legend(lines);
    render(title, &legend, PLOT_HEIGHT, &[], |area| match x {
        XAxis::Numbers { lo, hi } => {
            let mut chart = axes(area, 56, 72, *lo..*hi, 0f64..1f64)?;
            style_mesh(&mut chart.configure_mesh()).x_desc(x_desc).y_desc("AUROC").draw().map_err(|e| e.to_string())?;
            chart
                .draw_series(DashedLineSeries::new(vec![(*lo, 0.5), (*hi, 0.5)], 6, 4, INK.mix(0.5).into()))
                .map_err(|e| e.to_string())?;
            for (i, line) in lines.iter().enumerate() {
                let colour = PALETTE[i % PALETTE.len()];
                let points = finite(&line.points);
                chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(3))).map_err(|e| e.to_string())?;
                chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, colour.filled()))).map_err(|e| e.to_string())?;
            }
            Ok(())
        }
        XAxis::Categories(names) => {
            let n = names.len().max(1) as i32;
            let at = |x: f64| SegmentValue::CenterOf(x.round() as i32);
            // An i32 range holds both ends: `0..n - 1` is n segments (at least 2, so the range is not empty).
            let mut chart = axes(area, 56, 72, (0..(n - 1).max(1)).into_segmented(), 0f64..1f64)?;
            style_mesh(&mut chart.configure_mesh())
                .disable_x_mesh()
                .x_labels(n as usize)
                .x_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .x_desc(x_desc)
                .y_desc("AUROC")
                .draw()
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(DashedLineSeries::new(vec![(SegmentValue::Exact(0), 0.5), (SegmentValue::Last, 0.5)], 6, 4, INK.mix(0.5).into()))
                .map_err(|e| e.to_string())?;
            for (i, line) in lines.iter().enumerate() {
                let colour = PALETTE[i % PALETTE.len()];
                let points: Vec<_> = finite(&line.points).into_iter().map(|(x, y)| (at(x), y)).collect();
                chart.draw_series(LineSeries::new(points.clone(), colour.stroke_width(3))).map_err(|e| e.to_string())?;
                chart.draw_series(points.into_iter().map(|p| Circle::new(p, 4, colour.filled()))).map_err(|e| e.to_string())?;
            }
            Ok(())
        }
    })
}

/// Training loss against the optimiser step, one line per configuration (no dots: hundreds of steps).
pub fn loss_chart(title: &str, lines: &[Line]) -> Result<String, String> {
    let legend = legend(lines);
    let points: Vec<(f64, f64)> = lines.iter().flat_map(|l| finite(&l.points)).collect();
    let x_hi = points.iter().map(|p| p.0).fold(1.0, f64::max);
    let y_hi = points.iter().map(|p| p.1).fold(0.0, f64::max).max(1e-6) * 1.05;
    let y_lo = points.iter().map(|p| p.1).fold(f64::INFINITY, f64::min).min(y_hi).max(0.0) * 0.95;
    render(title, &legend, PLOT_HEIGHT, &[], |area| {
        let mut chart = axes(area, 56, 72, 1f64..x_hi.max(2.0), y_lo..y_hi)?;
        style_mesh(&mut chart.configure_mesh()).x_desc("optimiser step").y_desc("training loss").draw().map_err(|e| e.to_string())?;
        for (i, line) in lines.iter().enumerate() {
            let colour = PALETTE[i % PALETTE.len()];
            chart.draw_series(LineSeries::new(finite(&line.points), colour.stroke_width(2))).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

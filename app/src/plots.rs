//! Charts drawn with plotters into SVG strings, which the page puts into the DOM.
//!
//! Text and axes are drawn in a placeholder colour that becomes `currentColor`,
//! so the charts follow the page's light or dark theme; the SVG has a viewBox
//! and no fixed size, so it scales to the width of a phone.

use plotters::prelude::*;

/// Drawn as `currentColor` (see the module's documentation).
const INK: RGBColor = RGBColor(1, 2, 3);
const INK_HEX: &str = "#010203";

/// Colour-blind-safe series colours (Okabe–Ito).
pub const PALETTE: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(230, 159, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(86, 180, 233),
    RGBColor(213, 94, 0),
    RGBColor(120, 120, 120),
];

const WIDTH: u32 = 720;
const HEIGHT: u32 = 400;

fn finish(svg: String, title: &str) -> String {
    let svg = svg.replace(INK_HEX, "currentColor");
    // Drop the fixed size so CSS sizes it; keep the viewBox; add a title for screen readers.
    let svg = svg.replacen(&format!("width=\"{WIDTH}\" height=\"{HEIGHT}\" "), "", 1);
    match svg.find('>') {
        Some(end) => format!(
            "{} role=\"img\" aria-label=\"{}\"><title>{}</title>{}",
            &svg[..end],
            escape(title),
            escape(title),
            &svg[end + 1..]
        ),
        None => svg,
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn label_font() -> TextStyle<'static> {
    ("sans-serif", 20).into_font().color(&INK)
}

fn caption_font() -> TextStyle<'static> {
    ("sans-serif", 24).into_font().color(&INK)
}

/// One series of a bar chart: a name and, per category, a value and its standard error.
pub struct BarSeries {
    pub name: String,
    pub values: Vec<Option<(f64, Option<f64>)>>,
}

/// Grouped bars (one group per category, one bar per series) with ±1 stderr error bars.
pub fn bar_chart(title: &str, y_label: &str, categories: &[String], series: &[BarSeries]) -> Result<String, String> {
    let mut svg = String::new();
    let n = categories.len().max(1) as i32;
    // Each category takes one slot per series and one empty slot between groups.
    let slots = series.len().max(1) as i32 + 1;
    let top = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .map(|(v, se)| v + se.unwrap_or(0.0))
        .fold(0.0f64, f64::max);
    let y_max = if top <= 1.0 { 1.0 } else { top * 1.1 };
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, caption_font())
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(72)
            .build_cartesian_2d((0..n * slots).into_segmented(), 0f64..y_max)
            .map_err(|e| e.to_string())?;
        // The label sits under the middle bar of its group.
        let label_slot = (slots - 1) / 2;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels((n * slots) as usize)
            .y_desc(y_label)
            .label_style(label_font())
            .axis_desc_style(label_font())
            .axis_style(INK)
            .light_line_style(INK.mix(0.08))
            .bold_line_style(INK.mix(0.15))
            .x_label_formatter(&|x| match x {
                SegmentValue::CenterOf(i) if i % slots == label_slot => {
                    categories.get((i / slots) as usize).cloned().unwrap_or_default()
                }
                _ => String::new(),
            })
            .draw()
            .map_err(|e| e.to_string())?;
        for (s, ser) in series.iter().enumerate() {
            let color = PALETTE[s % PALETTE.len()];
            let slot = move |i: usize| i as i32 * slots + s as i32;
            chart
                .draw_series(ser.values.iter().enumerate().filter_map(|(i, v)| {
                    v.map(|(v, _)| {
                        let mut bar = Rectangle::new([(SegmentValue::Exact(slot(i)), 0.0), (SegmentValue::Exact(slot(i) + 1), v)], color.filled());
                        bar.set_margin(0, 0, 3, 3);
                        bar
                    })
                }))
                .map_err(|e| e.to_string())?
                .label(ser.name.clone())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.filled()));
            chart
                .draw_series(ser.values.iter().enumerate().filter_map(|(i, v)| {
                    let (v, se) = (*v)?;
                    let se = se.filter(|s| s.is_finite())?;
                    Some(ErrorBar::new_vertical(SegmentValue::CenterOf(slot(i)), (v - se).max(0.0), v, v + se, INK.stroke_width(2), 10))
                }))
                .map_err(|e| e.to_string())?;
        }
        if series.len() > 1 {
            chart
                .configure_series_labels()
                .label_font(label_font())
                .border_style(INK.mix(0.3))
                .background_style(WHITE.mix(0.0))
                .position(SeriesLabelPosition::UpperRight)
                .draw()
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(finish(svg, title))
}

/// One ROC curve.
pub struct Curve {
    pub name: String,
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
}

/// Overlaid ROC curves with the chance diagonal.
pub fn roc_chart(title: &str, curves: &[Curve]) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, caption_font())
            .margin(12)
            .x_label_area_size(56)
            .y_label_area_size(72)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("false positive rate")
            .y_desc("true positive rate")
            .label_style(label_font())
            .axis_desc_style(label_font())
            .axis_style(INK)
            .light_line_style(INK.mix(0.08))
            .bold_line_style(INK.mix(0.15))
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(DashedLineSeries::new(vec![(0.0, 0.0), (1.0, 1.0)], 6, 4, INK.mix(0.5).into()))
            .map_err(|e| e.to_string())?;
        for (i, c) in curves.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            chart
                .draw_series(LineSeries::new(c.fpr.iter().copied().zip(c.tpr.iter().copied()), color.stroke_width(3)))
                .map_err(|e| e.to_string())?
                .label(c.name.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(3)));
        }
        chart
            .configure_series_labels()
            .label_font(label_font())
            .border_style(INK.mix(0.3))
            .background_style(WHITE.mix(0.0))
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(finish(svg, title))
}

/// Bin counts of `values` over `bins` equal bins from `lo` to `hi`.
pub fn bin_counts(values: &[f64], lo: f64, hi: f64, bins: usize) -> Vec<usize> {
    let mut counts = vec![0; bins];
    let width = (hi - lo) / bins as f64;
    for &v in values.iter().filter(|v| v.is_finite()) {
        let i = if width > 0.0 { ((v - lo) / width).floor() as isize } else { 0 };
        counts[i.clamp(0, bins as isize - 1) as usize] += 1;
    }
    counts
}

/// Overlaid histograms of two groups' scores (members and non-members), as fractions of each group.
pub fn histogram_chart(title: &str, x_label: &str, groups: &[(&str, &[f64])], bins: usize) -> Result<String, String> {
    let finite = || groups.iter().flat_map(|(_, v)| v.iter().copied()).filter(|v| v.is_finite());
    let lo = finite().fold(f64::INFINITY, f64::min);
    let hi = finite().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return Err("no finite scores to plot".into());
    }
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, hi + 0.5) };
    let width = (hi - lo) / bins as f64;
    let fractions: Vec<Vec<f64>> = groups
        .iter()
        .map(|(_, v)| {
            let total = v.iter().filter(|x| x.is_finite()).count().max(1) as f64;
            bin_counts(v, lo, hi, bins).into_iter().map(|c| c as f64 / total).collect()
        })
        .collect();
    let y_max = fractions.iter().flatten().copied().fold(0.0, f64::max).max(0.01) * 1.15;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
        let mut chart = ChartBuilder::on(&root)
            .caption(title, caption_font())
            .margin(12)
            .x_label_area_size(56)
            .y_label_area_size(72)
            .build_cartesian_2d(lo..hi, 0f64..y_max)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("fraction of the group")
            .label_style(label_font())
            .axis_desc_style(label_font())
            .axis_style(INK)
            .light_line_style(INK.mix(0.08))
            .bold_line_style(INK.mix(0.15))
            .x_label_formatter(&|x| format!("{x:.3}"))
            .draw()
            .map_err(|e| e.to_string())?;
        for (g, ((name, _), fr)) in groups.iter().zip(&fractions).enumerate() {
            let color = PALETTE[g % PALETTE.len()];
            chart
                .draw_series(fr.iter().enumerate().filter(|(_, f)| **f > 0.0).map(|(i, f)| {
                    let x0 = lo + i as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, *f)], color.mix(0.45).filled())
                }))
                .map_err(|e| e.to_string())?
                .label(name.to_string())
                .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 12, y + 6)], color.mix(0.6).filled()));
        }
        chart
            .configure_series_labels()
            .label_font(label_font())
            .border_style(INK.mix(0.3))
            .background_style(WHITE.mix(0.0))
            .position(SeriesLabelPosition::UpperLeft)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(finish(svg, title))
}

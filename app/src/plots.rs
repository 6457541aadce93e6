//! Charts drawn with plotters into SVG strings, which the page puts into the DOM.
//!
//! Text and axes are drawn in a placeholder colour that becomes `currentColor`,
//! so the charts follow the page's light or dark theme; the SVG has a viewBox
//! and no fixed size, so it scales to the width of a phone. Every chart is a
//! title, a legend strip under it (entries wrap onto more rows rather than
//! cover the plot), and the plot; bar charts lay their bars out horizontally,
//! one row per category, so category names never collide, whatever the width.

pub mod lines;

use plotters::chart::MeshStyle;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

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
/// Height of the plot (axes and their labels) of the ROC chart and the histogram.
const PLOT_HEIGHT: u32 = 400;
const MARGIN: u32 = 12;
const TITLE_HEIGHT: u32 = 40;
const LEGEND_ROW_HEIGHT: u32 = 30;
/// About the width of one character of [`label_font`] (16 px sans-serif in the SVG).
const LABEL_CHAR_PX: f64 = 9.5;
/// Category labels of bar charts are cut to this many characters (the full name is the label's tooltip).
const MAX_LABEL_CHARS: usize = 28;
/// Height of one bar of a bar chart.
const BAR_PX: u32 = 26;

type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

fn label_font() -> TextStyle<'static> {
    ("sans-serif", 20).into_font().color(&INK)
}

fn caption_font() -> TextStyle<'static> {
    ("sans-serif", 24).into_font().color(&INK)
}

/// Escapes text as plotters' SVG backend does (so a label's tooltip finds the label's text).
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

/// The elements and attributes charts are drawn with.
const SVG_ELEMENTS: [&str; 8] = ["svg", "rect", "line", "polyline", "polygon", "circle", "text", "title"];
const SVG_ATTRIBUTES: [&str; 27] = [
    "xmlns", "viewBox", "width", "height", "role", "aria-label", "x", "y", "dy", "x1", "y1", "x2", "y2", "cx", "cy", "r",
    "points", "opacity", "fill", "stroke", "stroke-width", "text-anchor", "font-family", "font-size", "font-weight",
    "font-style", "transform",
];

/// Checks that a chart's SVG holds only the elements and attributes charts are
/// drawn with, before the page puts it into the DOM as markup: plotters
/// escapes every text and attribute value (task, model and metric names come
/// from the user's files), and this refuses the chart should anything ever
/// get in unescaped (a `<script>`, an `onload`, a link).
pub fn check_svg(svg: &str) -> Result<(), String> {
    let mut rest = svg;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let close = rest.find('>').ok_or("a tag is not closed")?;
        let tag = &rest[..close];
        rest = &rest[close + 1..];
        let tag = tag.strip_prefix('/').unwrap_or(tag);
        let tag = tag.strip_suffix('/').unwrap_or(tag);
        let (name, mut attrs) = tag.split_once(char::is_whitespace).unwrap_or((tag, ""));
        if !SVG_ELEMENTS.contains(&name) {
            return Err(format!("it holds an unexpected <{name}> element"));
        }
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                break;
            }
            let (attr, after) = attrs.split_once("=\"").ok_or_else(|| format!("a malformed attribute in <{name}>"))?;
            if !SVG_ATTRIBUTES.contains(&attr) {
                return Err(format!("it holds an unexpected `{attr}` attribute"));
            }
            let (_, after) = after.split_once('"').ok_or_else(|| format!("an unclosed `{attr}` attribute"))?;
            attrs = after;
        }
    }
    Ok(())
}

fn text_px(s: &str) -> u32 {
    (s.chars().count() as f64 * LABEL_CHAR_PX).ceil() as u32
}

/// How a legend entry is marked: a filled box (bars), or a line, dashed or solid (curves).
#[derive(Clone, Copy)]
enum Mark {
    Box(RGBAColor),
    Line { colour: RGBColor, dashed: bool },
}

struct LegendEntry {
    name: String,
    mark: Mark,
}

const LEGEND_MARK_PX: u32 = 28;

/// The legend's entries, row by row, each row as wide as the chart allows.
fn legend_rows(entries: &[LegendEntry]) -> Vec<&[LegendEntry]> {
    let room = WIDTH - 2 * MARGIN;
    let mut rows = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, e) in entries.iter().enumerate() {
        let w = LEGEND_MARK_PX + text_px(&e.name) + 24;
        if i > start && used + w > room {
            rows.push(&entries[start..i]);
            (start, used) = (i, 0);
        }
        used += w;
    }
    if start < entries.len() {
        rows.push(&entries[start..]);
    }
    rows
}

fn legend_height(entries: &[LegendEntry]) -> u32 {
    legend_rows(entries).len() as u32 * LEGEND_ROW_HEIGHT
}

fn draw_legend(area: &Area, entries: &[LegendEntry]) -> Result<(), String> {
    let style = label_font().pos(Pos::new(HPos::Left, VPos::Center));
    for (r, row) in legend_rows(entries).into_iter().enumerate() {
        let y = (r as u32 * LEGEND_ROW_HEIGHT + LEGEND_ROW_HEIGHT / 2) as i32;
        let mut x = MARGIN as i32;
        for e in row {
            match e.mark {
                Mark::Box(colour) => area.draw(&Rectangle::new([(x, y - 7), (x + 14, y + 7)], colour.filled())),
                Mark::Line { colour, dashed: false } => area.draw(&PathElement::new(vec![(x, y), (x + 22, y)], colour.stroke_width(3))),
                Mark::Line { colour, dashed: true } => area
                    .draw(&PathElement::new(vec![(x, y), (x + 8, y)], colour.stroke_width(3)))
                    .and_then(|_| area.draw(&PathElement::new(vec![(x + 14, y), (x + 22, y)], colour.stroke_width(3)))),
            }
            .map_err(|e| e.to_string())?;
            area.draw(&Text::new(e.name.clone(), (x + LEGEND_MARK_PX as i32, y), style.clone())).map_err(|e| e.to_string())?;
            x += (LEGEND_MARK_PX + text_px(&e.name) + 24) as i32;
        }
    }
    Ok(())
}

/// Draws a chart `plot_height` pixels high under its title and legend; `plot`
/// draws the axes and data into the area it gets. `tooltips` are (shown label,
/// full label) pairs: the shown label's text gets the full one as its title.
fn render(
    title: &str,
    legend: &[LegendEntry],
    plot_height: u32,
    tooltips: &[(String, String)],
    plot: impl FnOnce(&Area) -> Result<(), String>,
) -> Result<String, String> {
    let legend_h = legend_height(legend);
    let height = TITLE_HEIGHT + legend_h + plot_height;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        let (top, rest) = root.split_vertically(TITLE_HEIGHT);
        top.draw(&Text::new(title.to_string(), ((WIDTH / 2) as i32, (TITLE_HEIGHT / 2) as i32), caption_font().pos(Pos::new(HPos::Center, VPos::Center))))
            .map_err(|e| e.to_string())?;
        let (legend_area, plot_area) = rest.split_vertically(legend_h);
        draw_legend(&legend_area, legend)?;
        plot(&plot_area)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(finish(svg, title, (WIDTH, height), tooltips))
}

/// Makes the SVG follow the theme and its container (see the module's documentation).
fn finish(svg: String, title: &str, (width, height): (u32, u32), tooltips: &[(String, String)]) -> String {
    let mut svg = svg.replace(INK_HEX, "currentColor");
    for (shown, full) in tooltips {
        // plotters writes each text as `<text …>ESCAPED\n</text>`.
        svg = svg.replace(&format!(">{}\n</text>", escape(shown)), &format!("><title>{}</title>{}\n</text>", escape(full), escape(shown)));
    }
    // Drop the fixed size so CSS sizes it; keep the viewBox; add a title for screen readers.
    let svg = svg.replacen(&format!("width=\"{width}\" height=\"{height}\" "), "", 1);
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

/// Axes on `area` with room for tick labels below (`x_label_area`) and to the left (`y_label_area`).
fn axes<'a, 'b, X: AsRangedCoord, Y: AsRangedCoord>(
    area: &'a Area<'b>,
    x_label_area: u32,
    y_label_area: u32,
    x: X,
    y: Y,
) -> Result<ChartContext<'a, SVGBackend<'b>, Cartesian2d<X::CoordDescType, Y::CoordDescType>>, String> {
    ChartBuilder::on(area)
        .margin(MARGIN)
        .margin_top(4)
        // Room for half of the last x tick label, which is centred on the axis' end.
        .margin_right(3 * MARGIN)
        .x_label_area_size(x_label_area)
        .y_label_area_size(y_label_area)
        .build_cartesian_2d(x, y)
        .map_err(|e| e.to_string())
}

/// The look every chart's mesh shares: label fonts, ink-coloured axes, faint grid lines.
fn style_mesh<'m, 'a, 'b, X: Ranged, Y: Ranged, DB: DrawingBackend>(
    mesh: &'m mut MeshStyle<'a, 'b, X, Y, DB>,
) -> &'m mut MeshStyle<'a, 'b, X, Y, DB> {
    mesh.label_style(label_font())
        .axis_desc_style(label_font())
        .axis_style(INK)
        .light_line_style(INK.mix(0.08))
        .bold_line_style(INK.mix(0.15))
}

/// One series of a bar chart: a name and, per category, a value and its standard error.
pub struct BarSeries {
    pub name: String,
    pub values: Vec<Option<(f64, Option<f64>)>>,
}

/// `label` cut to [`MAX_LABEL_CHARS`] characters, ending in `…` when cut.
fn shorten(label: &str) -> String {
    if label.chars().count() <= MAX_LABEL_CHARS {
        label.to_string()
    } else {
        label.chars().take(MAX_LABEL_CHARS - 1).chain(['…']).collect()
    }
}

/// Grouped horizontal bars (one row of bars per category, one bar per series,
/// the first series on top) with ±1 stderr error bars; long category names are
/// shortened, with the full name as the label's tooltip.
pub fn bar_chart(title: &str, value_label: &str, categories: &[String], series: &[BarSeries]) -> Result<String, String> {
    let n = categories.len().max(1) as i32;
    let bars = series.len().max(1) as i32;
    // Each category takes one slot per series and one empty slot between groups.
    let slots = bars + 1;
    let labels: Vec<String> = categories.iter().map(|c| shorten(c)).collect();
    let tooltips: Vec<(String, String)> = labels.iter().zip(categories).filter(|(s, c)| s != c).map(|(s, c)| (s.clone(), c.clone())).collect();
    let label_area = labels.iter().map(|l| text_px(l)).max().unwrap_or(0).max(60) + 24;
    let top = series
        .iter()
        .flat_map(|s| s.values.iter().flatten())
        .map(|(v, se)| v + se.unwrap_or(0.0))
        .fold(0.0f64, f64::max);
    let x_max = if top <= 1.0 { 1.0 } else { top * 1.1 };
    // Slots count up from the bottom; the first category's group is at the top.
    let group_base = move |category: usize| (n - 1 - category as i32) * slots;
    let bar_slot = move |category: usize, s: usize| group_base(category) + bars - s as i32;
    let label_slot = 1 + (bars - 1) / 2;
    let legend: Vec<LegendEntry> = if series.len() > 1 {
        series.iter().enumerate().map(|(s, ser)| LegendEntry { name: ser.name.clone(), mark: Mark::Box(PALETTE[s % PALETTE.len()].to_rgba()) }).collect()
    } else {
        Vec::new()
    };
    let x_label_area = 60;
    let plot_height = (n * slots) as u32 * BAR_PX + x_label_area + 8;
    render(title, &legend, plot_height, &tooltips, |area| {
        let mut chart = axes(area, x_label_area, label_area, 0f64..x_max, (0..n * slots).into_segmented())?;
        style_mesh(&mut chart.configure_mesh())
            .disable_y_mesh()
            .y_labels((n * slots) as usize)
            .x_desc(value_label)
            .y_label_formatter(&|y| match y {
                SegmentValue::CenterOf(i) if i % slots == label_slot => labels.get((n - 1 - i / slots) as usize).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()
            .map_err(|e| e.to_string())?;
        for (s, ser) in series.iter().enumerate() {
            let colour = PALETTE[s % PALETTE.len()];
            chart
                .draw_series(ser.values.iter().enumerate().filter_map(|(c, v)| {
                    v.map(|(v, _)| {
                        let slot = bar_slot(c, s);
                        let mut bar = Rectangle::new([(0.0, SegmentValue::Exact(slot)), (v, SegmentValue::Exact(slot + 1))], colour.filled());
                        bar.set_margin(3, 3, 0, 0);
                        bar
                    })
                }))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(ser.values.iter().enumerate().filter_map(|(c, v)| {
                    let (v, se) = (*v)?;
                    let se = se.filter(|s| s.is_finite())?;
                    Some(ErrorBar::new_horizontal(SegmentValue::CenterOf(bar_slot(c, s)), (v - se).max(0.0), v, v + se, INK.stroke_width(2), 10))
                }))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

/// One ROC curve.
pub struct Curve {
    pub name: String,
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
}

/// How a curve is drawn: its palette colour (an index into [`PALETTE`]) and whether it is dashed.
#[derive(Clone, Copy)]
pub struct CurveLook {
    pub colour: usize,
    pub dashed: bool,
}

/// Overlaid ROC curves with the chance diagonal, each in the next palette colour.
pub fn roc_chart(title: &str, curves: &[Curve]) -> Result<String, String> {
    let looks: Vec<CurveLook> = (0..curves.len()).map(|i| CurveLook { colour: i, dashed: false }).collect();
    roc_chart_with_looks(title, curves, &looks)
}

/// Overlaid ROC curves with the chance diagonal, drawn as `looks` says (one look per curve).
pub fn roc_chart_with_looks(title: &str, curves: &[Curve], looks: &[CurveLook]) -> Result<String, String> {
    let colour = |look: &CurveLook| PALETTE[look.colour % PALETTE.len()];
    let legend: Vec<LegendEntry> = curves
        .iter()
        .zip(looks)
        .map(|(c, look)| LegendEntry { name: c.name.clone(), mark: Mark::Line { colour: colour(look), dashed: look.dashed } })
        .collect();
    render(title, &legend, PLOT_HEIGHT, &[], |area| {
        let mut chart = axes(area, 56, 72, 0f64..1f64, 0f64..1f64)?;
        style_mesh(&mut chart.configure_mesh())
            .x_desc("false positive rate")
            .y_desc("true positive rate")
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(DashedLineSeries::new(vec![(0.0, 0.0), (1.0, 1.0)], 6, 4, INK.mix(0.5).into()))
            .map_err(|e| e.to_string())?;
        for (c, look) in curves.iter().zip(looks) {
            let points = c.fpr.iter().copied().zip(c.tpr.iter().copied());
            let style = colour(look).stroke_width(3);
            if look.dashed {
                chart.draw_series(DashedLineSeries::new(points, 10, 6, style)).map_err(|e| e.to_string())?;
            } else {
                chart.draw_series(LineSeries::new(points, style)).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    })
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
    let legend: Vec<LegendEntry> = groups
        .iter()
        .enumerate()
        .map(|(g, (name, _))| LegendEntry { name: name.to_string(), mark: Mark::Box(PALETTE[g % PALETTE.len()].mix(0.6)) })
        .collect();
    render(title, &legend, PLOT_HEIGHT, &[], |area| {
        let mut chart = axes(area, 56, 72, lo..hi, 0f64..y_max)?;
        style_mesh(&mut chart.configure_mesh())
            .x_desc(x_label)
            .y_desc("fraction of the group")
            .x_label_formatter(&|x| format!("{x:.3}"))
            .draw()
            .map_err(|e| e.to_string())?;
        for (g, fr) in fractions.iter().enumerate() {
            let colour = PALETTE[g % PALETTE.len()];
            chart
                .draw_series(fr.iter().enumerate().filter(|(_, f)| **f > 0.0).map(|(i, f)| {
                    let x0 = lo + i as f64 * width;
                    Rectangle::new([(x0, 0.0), (x0 + width, *f)], colour.mix(0.45).filled())
                }))
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

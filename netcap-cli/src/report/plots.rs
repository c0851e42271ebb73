//! The HTML report's plots, drawn as SVG with plotters' SVG backend (no fonts needed:
//! text stays `<text>` elements the browser lays out).
//!
//! Every plot is bounded: at most `MAX_PLOT_POINTS` marks per series (evenly thinned,
//! marked events always kept) and `MAX_SERIES` series, so a report on a long capture
//! stays within a few megabytes (2.3 MB for two 256 MiB captures).

use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use netcap_core::decode::tcp_flags;
use netcap_core::tcp::labels::Label;

use super::{DelayPlot, FlowTrace, SynTimeline};

/// Marks per series.
pub const MAX_PLOT_POINTS: usize = 4000;
/// Series per plot.
pub const MAX_SERIES: usize = 6;

const WIDTH: u32 = 960;
const FONT: &str = "sans-serif";
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
];
const LOST: RGBColor = RGBColor(214, 39, 40);
const NOTE: RGBColor = RGBColor(255, 127, 14);

/// A drawn plot and its legend (laid out by the HTML writer, beside the plot rather
/// than over the data).
#[derive(Debug)]
pub struct Figure {
    pub svg: String,
    pub legend: Vec<Key>,
}

/// One legend entry: a CSS colour, the mark's character and what it means.
#[derive(Debug)]
pub struct Key {
    pub color: String,
    pub mark: char,
    pub label: String,
}

fn key(c: RGBColor, mark: char, label: impl Into<String>) -> Key {
    Key { color: format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2), mark, label: label.into() }
}

/// Keeps at most `MAX_PLOT_POINTS` of `v`, evenly spaced, first and last included.
pub fn thin<T: Copy>(v: Vec<T>) -> Vec<T> {
    if v.len() <= MAX_PLOT_POINTS {
        return v;
    }
    let n = v.len();
    (0..MAX_PLOT_POINTS).map(|i| v[i * (n - 1) / (MAX_PLOT_POINTS - 1)]).collect()
}

fn secs(ns: i64) -> f64 {
    ns as f64 / 1e9
}

/// A range that is never empty, with a little room around it.
fn padded(lo: f64, hi: f64) -> std::ops::Range<f64> {
    let span = (hi - lo).abs().max(1e-6);
    (lo - span * 0.03)..(hi + span * 0.05)
}

/// Runs `draw` on an SVG canvas of `height` and returns the SVG text.
fn svg(height: u32, draw: impl FnOnce(&DrawingArea<SVGBackend<'_>, plotters::coord::Shift>) -> Result<(), String>) -> Result<String, String> {
    let mut s = String::new();
    {
        let root = SVGBackend::with_string(&mut s, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(s)
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Each SYN attempt a mark at every point where it was seen (upstream at the top),
/// joined by a line along the path; a red cross at each point of the path it never
/// reached, at the time it was last seen — where it died.
pub fn syn_timeline(t: &SynTimeline) -> Result<Figure, String> {
    let rows = t.points.len();
    let Some(t0) = t.attempts.iter().map(|a| a.first_ts_ns).min() else {
        return Err("no SYN seen".to_string());
    };
    let last = t.attempts.iter().flat_map(|a| a.seen.iter().flatten()).copied().max().unwrap_or(t0);
    let height = 110 + 36 * u32::try_from(rows).unwrap_or(20).min(20);
    // Row r (path order) is drawn at y = rows - 1 - r, so upstream is at the top.
    let y_of = |r: usize| i32::try_from(rows.saturating_sub(1).saturating_sub(r)).unwrap_or(0);
    let names = t.points.clone();
    let mut legend = Vec::new();
    let svg = svg(height, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(150)
            .build_cartesian_2d(padded(0.0, secs(last - t0)), (0..i32::try_from(rows).unwrap_or(1)).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds after the first SYN")
            .y_labels(rows)
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(y) | SegmentValue::Exact(y) => usize::try_from(*y)
                    .ok()
                    .filter(|&y| y < rows)
                    .and_then(|y| names.get(rows - 1 - y).cloned())
                    .unwrap_or_default(),
                SegmentValue::Last => String::new(),
            })
            .x_max_light_lines(2)
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        for (k, a) in t.attempts.iter().enumerate() {
            let color = PALETTE[k % PALETTE.len()];
            let seen: Vec<(f64, SegmentValue<i32>)> = a
                .seen
                .iter()
                .enumerate()
                .filter_map(|(r, ts)| ts.map(|ts| (secs(ts - t0), SegmentValue::CenterOf(y_of(r)))))
                .collect();
            chart.draw_series(LineSeries::new(seen.clone(), color.stroke_width(2))).map_err(err)?;
            chart.draw_series(seen.iter().map(|p| Circle::new(p.clone(), 6, color.filled()))).map_err(err)?;
            if let Some(first) = seen.first() {
                let label = EmptyElement::at(first.clone())
                    + Text::new(format!("#{}", k + 1), (9, -20), (FONT, 15).into_font().color(&color));
                chart.plotting_area().draw(&label).map_err(err)?;
            }
            // Missing from the path: drawn at the last sighting, where the attempt died.
            let died = a.seen.iter().flatten().copied().max().unwrap_or(a.first_ts_ns);
            let missing: Vec<(f64, SegmentValue<i32>)> = a
                .seen
                .iter()
                .enumerate()
                .filter(|(_, ts)| ts.is_none())
                .map(|(r, _)| (secs(died - t0), SegmentValue::CenterOf(y_of(r))))
                .collect();
            chart.draw_series(missing.into_iter().map(|p| Cross::new(p, 7, LOST.stroke_width(3)))).map_err(err)?;
            let lost: Vec<&str> =
                a.seen.iter().zip(&t.points).filter(|(ts, _)| ts.is_none()).map(|(_, p)| p.as_str()).collect();
            let fate = if lost.is_empty() {
                "seen at every point".to_string()
            } else {
                format!("not seen at {}", lost.join(", "))
            };
            legend.push(key(color, '●', format!("attempt {} at +{:.3} s: {fate}", k + 1, secs(a.first_ts_ns - t0))));
        }
        Ok(())
    })?;
    legend.push(key(LOST, '×', "not seen at this point"));
    Ok(Figure { svg, legend })
}

/// Stevens' time-sequence graph of the direction that carried more data: each segment
/// a vertical bar from its first to its last byte (retransmissions red, segments after
/// a gap — `lost_segment` — orange), the other side's cumulative ACK as a green line.
pub fn time_sequence(tr: &FlowTrace) -> Result<Figure, String> {
    let f = &tr.flow;
    let c2s = f.c2s.payload_bytes >= f.s2c.payload_bytes;
    let data: Vec<_> = tr.segments.iter().filter(|s| s.c2s == c2s).collect();
    let Some(isn) = data.first().map(|s| s.seq) else {
        return Err("no segment in the data direction".to_string());
    };
    let t0 = tr.segments.first().map_or(0, |s| s.ts_ns);
    // Relative sequence numbers; anything "before" the first segment's (a wrap back)
    // is left out rather than drawn 4 GB up.
    let rel = |seq: u32| -> Option<f64> {
        let d = seq.wrapping_sub(isn);
        (d < 1 << 31).then_some(f64::from(d))
    };
    let mut normal = Vec::new();
    let mut retrans = Vec::new();
    let mut after_gap = Vec::new();
    for s in &data {
        let Some(lo) = rel(s.seq) else { continue };
        let hi = lo + f64::from(s.len.max(1));
        let x = secs(s.ts_ns - t0);
        if s.labels.is_retransmission() {
            retrans.push((x, lo, hi));
        } else if s.labels.has(Label::LostSegment) {
            after_gap.push((x, lo, hi));
        } else {
            normal.push((x, lo, hi));
        }
    }
    let acks: Vec<(f64, f64)> = tr
        .segments
        .iter()
        .filter(|s| s.c2s != c2s && s.flags & tcp_flags::ACK != 0)
        .filter_map(|s| Some((secs(s.ts_ns - t0), rel(s.ack)?)))
        .collect();
    // Cited by a loss finding: drawn over the bar as a ring (the findings list up to
    // 64 example packets each, so these are examples where the loss was large).
    let lost: Vec<(f64, f64)> =
        data.iter().filter(|s| s.lost).filter_map(|s| Some((secs(s.ts_ns - t0), rel(s.seq)?))).collect();
    let (shown, acks_shown) = (normal.len(), acks.len());
    let (normal, acks) = (thin(normal), thin(acks));
    let all = normal.iter().chain(&retrans).chain(&after_gap);
    let x_max = all.clone().map(|p| p.0).chain(acks.iter().map(|a| a.0)).fold(0.0, f64::max);
    let y_max = all.map(|p| p.2).chain(acks.iter().map(|a| a.1)).fold(1.0, f64::max);
    let direction = if c2s { format!("{} → {}", f.client, f.server) } else { format!("{} → {}", f.server, f.client) };
    let legend = vec![
        key(PALETTE[0], '|', format!("segment ({shown})")),
        key(LOST, '×', format!("retransmission ({})", retrans.len())),
        key(NOTE, '|', format!("after a gap: the previous segment was not captured here ({})", after_gap.len())),
        key(PALETTE[1], '—', format!("cumulative ACK from the other side ({acks_shown})")),
        key(BLACK, '○', format!("lost further along the path, as the findings cite it ({})", lost.len())),
    ];
    let svg = svg(420, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(90)
            .build_cartesian_2d(padded(0.0, x_max), padded(0.0, y_max))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds after the flow's first segment")
            .y_desc(format!("relative sequence number, {direction}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        let bars = |v: Vec<(f64, f64, f64)>, c: RGBColor| {
            v.into_iter().map(move |(x, lo, hi)| PathElement::new(vec![(x, lo), (x, hi)], c.stroke_width(2)))
        };
        chart.draw_series(LineSeries::new(acks, PALETTE[1].stroke_width(1))).map_err(err)?;
        chart.draw_series(bars(normal, PALETTE[0])).map_err(err)?;
        chart.draw_series(bars(after_gap, NOTE)).map_err(err)?;
        let marks: Vec<(f64, f64)> = retrans.iter().map(|p| (p.0, p.1)).collect();
        chart.draw_series(bars(retrans, LOST)).map_err(err)?;
        chart.draw_series(marks.into_iter().map(|p| Cross::new(p, 4, LOST.stroke_width(2)))).map_err(err)?;
        chart.draw_series(lost.into_iter().map(|p| Circle::new(p, 6, BLACK.stroke_width(2)))).map_err(err)?;
        Ok(())
    })?;
    Ok(Figure { svg, legend })
}

/// The flow's `ack_rtt` samples over time: Karn samples filled, the others (the
/// acknowledged range was retransmitted, so the sample is ambiguous) hollow red.
pub fn rtt(tr: &FlowTrace) -> Result<Figure, String> {
    let t0 = tr.segments.first().map_or(0, |s| s.ts_ns);
    let point = |s: &super::Segment| s.ack_rtt_ns.map(|r| (secs(s.ts_ns - t0), r as f64 / 1e6));
    let karn: Vec<(f64, f64)> = tr.segments.iter().filter(|s| s.karn).filter_map(point).collect();
    let other: Vec<(f64, f64)> = tr.segments.iter().filter(|s| !s.karn).filter_map(point).collect();
    if karn.is_empty() && other.is_empty() {
        return Err("the flow has no RTT sample (no segment was acknowledged exactly)".to_string());
    }
    let legend = vec![
        key(PALETTE[0], '●', format!("Karn sample ({})", karn.len())),
        key(LOST, '○', format!("after a retransmission, ambiguous ({})", other.len())),
    ];
    let (karn, other) = (thin(karn), thin(other));
    let all = karn.iter().chain(&other);
    let x_max = all.clone().map(|p| p.0).fold(0.0, f64::max);
    let y_max = all.map(|p| p.1).fold(0.0, f64::max);
    let svg = svg(320, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(padded(0.0, x_max), 0.0..(y_max * 1.1).max(0.001))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds after the flow's first segment")
            .y_desc("RTT (ms)")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        chart.draw_series(karn.iter().map(|p| Circle::new(*p, 3, PALETTE[0].filled()))).map_err(err)?;
        chart.draw_series(other.iter().map(|p| Circle::new(*p, 3, LOST.stroke_width(1)))).map_err(err)?;
        Ok(())
    })?;
    Ok(Figure { svg, legend })
}

/// One-way delay of every matched packet between adjacent points of one direction's
/// path, one colour per hop.
pub fn delays(plot: &DelayPlot, t0: i64) -> Result<Figure, String> {
    let all = plot.hops.iter().flat_map(|s| s.samples.iter());
    let x_max = all.clone().map(|p| secs(p.0 - t0)).fold(0.0, f64::max);
    let y_lo = all.clone().map(|p| p.1 as f64 / 1e6).fold(0.0, f64::min);
    let y_hi = all.map(|p| p.1 as f64 / 1e6).fold(0.0, f64::max);
    let legend = plot
        .hops
        .iter()
        .enumerate()
        .map(|(i, s)| {
            // The plot matches frame to frame; the table also matches a super-frame's
            // segments by their bytes: say so where the two differ.
            let what = if s.matched > s.total {
                format!("{} drawn of {} packets matched; the others were matched by their TCP bytes (TSO/GRO super-frames)", s.total, s.matched)
            } else {
                format!("{} packets", s.total)
            };
            key(PALETTE[i % PALETTE.len()], '●', format!("{} → {} ({what})", s.from, s.to))
        })
        .collect();
    let svg = svg(320, |root| {
        let mut chart = ChartBuilder::on(root)
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(padded(0.0, x_max), padded(y_lo, y_hi))
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds after the start (when the packet left the upstream point)")
            .y_desc("one-way delay (ms)")
            .label_style((FONT, 15))
            .axis_desc_style((FONT, 15))
            .draw()
            .map_err(err)?;
        for (i, s) in plot.hops.iter().enumerate() {
            let color = PALETTE[i % PALETTE.len()];
            let points = s.samples.iter().map(|p| (secs(p.0 - t0), p.1 as f64 / 1e6));
            chart.draw_series(points.map(|p| Circle::new(p, 2, color.filled()))).map_err(err)?;
        }
        Ok(())
    })?;
    Ok(Figure { svg, legend })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_ends_and_bound() {
        let v: Vec<u32> = (0..10_000).collect();
        let t = thin(v);
        assert_eq!(t.len(), MAX_PLOT_POINTS);
        assert_eq!(t.first(), Some(&0));
        assert_eq!(t.last(), Some(&9_999));
        assert_eq!(thin(vec![1, 2, 3]), vec![1, 2, 3]);
    }
}

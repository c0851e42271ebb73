//! `netcap correlate`: every file read at once, frames merged in capture-time order
//! (clock offsets applied), fed to the TCP analysis and the correlator.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, Write};

use netcap_core::capture::{CaptureReader, Frame, LinkType, PointId};
use netcap_core::correlate::{CorrelateOptions, Correlator, Report};
use netcap_core::decode::Packet;
use serde::Serialize;

use crate::{open, text, CorrelateArgs, SummaryFormat};

/// A frame copied out of its reader's buffer.
struct Owned {
    number: u64,
    point: usize,
    link_type: LinkType,
    ts_ns: i64,
    has_timestamp: bool,
    caplen: u32,
    len: u32,
    offset: u64,
    data: Vec<u8>,
}

impl Owned {
    fn frame(&self) -> Frame<'_> {
        Frame {
            number: self.number,
            point: PointId(u32::try_from(self.point).unwrap_or(u32::MAX)),
            link_type: self.link_type,
            ts_ns: self.ts_ns,
            has_timestamp: self.has_timestamp,
            caplen: self.caplen,
            len: self.len,
            offset: self.offset,
            data: &self.data,
        }
    }
}

/// One capture point of the run.
#[derive(Debug, Clone, Serialize)]
pub struct PointRow {
    pub name: String,
    pub file: String,
    pub interface: Option<String>,
    pub link_type: LinkType,
    pub frames: u64,
    pub clock_offset_ns: i64,
}

/// `netcap correlate --format json`.
#[derive(Debug, Serialize)]
pub struct Output {
    pub points: Vec<PointRow>,
    #[serde(flatten)]
    pub report: Report,
}

struct Source {
    reader: CaptureReader,
    /// Reader point id → global point index.
    ids: Vec<usize>,
    done: bool,
}

/// `±1.5s`, `-250ms`, `+40us`, `100ns`, or plain seconds.
fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    let (num, unit) = rest.split_at(rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len()));
    let scale = match unit {
        "" | "s" => 1e9,
        "ms" => 1e6,
        "us" | "µs" => 1e3,
        "ns" => 1.0,
        _ => return None,
    };
    let v: f64 = num.parse().ok()?;
    Some((sign * v * scale).round() as i64)
}

pub fn run(args: &CorrelateArgs, out: &mut impl Write) -> io::Result<bool> {
    let mut offsets_by_name: Vec<(String, i64)> = Vec::new();
    for o in &args.clock_offsets {
        match o.split_once('=').and_then(|(n, d)| Some((n.to_string(), parse_duration(d)?))) {
            Some(x) => offsets_by_name.push(x),
            None => {
                eprintln!("netcap: error: --clock-offset {o}: expected NAME=±DURATION (e.g. node2=-1.5ms)");
                return Ok(true);
            }
        }
    }
    let decoder = args.common.decoder();
    let mut failed = args.common.files.is_empty();
    let mut sources: Vec<Source> = Vec::new();
    for path in &args.common.files {
        match open(path) {
            Ok(reader) => sources.push(Source { reader, ids: Vec::new(), done: false }),
            Err(e) => {
                eprintln!("netcap: error: {e}");
                failed = true;
            }
        }
    }
    let mut points: Vec<PointRow> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    let mut offsets: Vec<i64> = Vec::new();
    // The next frame of each source, ordered by time (after its point's offset).
    let mut heap: BinaryHeap<Reverse<(i64, usize, u64)>> = BinaryHeap::new();
    let mut next: Vec<Option<Owned>> = Vec::new();
    let pull = |i: usize,
                    sources: &mut Vec<Source>,
                    points: &mut Vec<PointRow>,
                    names: &mut Vec<String>,
                    offsets: &mut Vec<i64>,
                    failed: &mut bool|
     -> Option<Owned> {
        let src = sources.get_mut(i)?;
        if src.done {
            return None;
        }
        let frame = match src.reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => {
                src.done = true;
                return None;
            }
            Err(e) => {
                eprintln!("netcap: error: {e}");
                *failed = true;
                src.done = true;
                return None;
            }
        };
        let owned = Owned {
            number: frame.number,
            point: 0,
            link_type: frame.link_type,
            ts_ns: frame.ts_ns,
            has_timestamp: frame.has_timestamp,
            caplen: frame.caplen,
            len: frame.len,
            offset: frame.offset,
            data: frame.data.to_vec(),
        };
        let pid = frame.point.0 as usize;
        while src.ids.len() <= pid {
            let Some(p) = src.reader.points().get(src.ids.len()) else { break };
            let offset = offsets_by_name.iter().find(|(n, _)| *n == p.name).map_or(0, |x| x.1);
            points.push(PointRow {
                name: p.name.clone(),
                file: p.file.clone(),
                interface: p.interface.clone(),
                link_type: p.link_type,
                frames: 0,
                clock_offset_ns: offset,
            });
            names.push(p.name.clone());
            offsets.push(offset);
            src.ids.push(points.len() - 1);
        }
        let point = src.ids.get(pid).copied()?;
        Some(Owned { point, ..owned })
    };
    for i in 0..sources.len() {
        let f = pull(i, &mut sources, &mut points, &mut names, &mut offsets, &mut failed);
        if let Some(f) = &f {
            heap.push(Reverse((f.ts_ns.saturating_add(offsets[f.point]), i, f.number)));
        }
        next.push(f);
    }
    let mut tcp = args.common.analyzer();
    let mut flows = Vec::new();
    // The correlator gets the offsets once every point is known; points appear with
    // their first frame, so offsets are looked up per frame through this vector.
    let mut correlator = Correlator::new(CorrelateOptions::default(), Vec::new());
    let mut packet = Packet::default();
    while let Some(Reverse((_, i, _))) = heap.pop() {
        let Some(f) = next[i].take() else { continue };
        decoder.decode_into(f.link_type, &f.data, &mut packet);
        let mut frame = f.frame();
        let point = u32::try_from(f.point).unwrap_or(u32::MAX);
        points[f.point].frames += 1;
        frame.ts_ns = f.ts_ns.saturating_add(offsets[f.point]);
        tcp.segment(point, &frame, &packet);
        flows.append(&mut tcp.take_finished());
        correlator.add(point, &frame, &packet);
        let g = pull(i, &mut sources, &mut points, &mut names, &mut offsets, &mut failed);
        if let Some(g) = &g {
            heap.push(Reverse((g.ts_ns.saturating_add(offsets[g.point]), i, g.number)));
        }
        next[i] = g;
    }
    for s in &mut sources {
        for w in s.reader.take_warnings() {
            eprintln!("netcap: warning: {w}");
        }
    }
    flows.append(&mut tcp.finish());
    for f in &mut flows {
        f.point = names.get(f.point_index as usize).cloned().unwrap_or_default();
    }
    let report = correlator.finish(&names, &flows);
    let output = Output { points, report };
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &output)?;
            out.write_all(b"\n")?;
        }
        SummaryFormat::Text => text::correlate(out, &output)?,
    }
    Ok(failed)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("+1.234567s"), Some(1_234_567_000));
        assert_eq!(parse_duration("-250ms"), Some(-250_000_000));
        assert_eq!(parse_duration("40us"), Some(40_000));
        assert_eq!(parse_duration("7ns"), Some(7));
        assert_eq!(parse_duration("2"), Some(2_000_000_000));
        assert_eq!(parse_duration("3h"), None);
    }
}

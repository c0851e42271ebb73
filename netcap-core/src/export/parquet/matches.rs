//! The `matches` table: one row per packet and point of its direction's path, whether
//! the point saw it, and the one-way delay from the nearest upstream point that did
//! (`docs/parquet.md`, "matches").

use arrow_array::builder::{BooleanBuilder, Int64Builder, StringBuilder, TimestampNanosecondBuilder, UInt16Builder, UInt64Builder};
use arrow_schema::ArrowError;

use super::{optional, required, Column, Table};
use crate::correlate::PacketPath;

/// Builder of the `matches` table.
#[derive(Debug)]
pub struct Matches {
    rows: usize,
    packet: UInt64Builder,
    flow: StringBuilder,
    hop: UInt16Builder,
    hops: UInt16Builder,
    point: StringBuilder,
    seen: BooleanBuilder,
    frame: UInt64Builder,
    ts: TimestampNanosecondBuilder,
    by: StringBuilder,
    prev_point: StringBuilder,
    delay_ns: Int64Builder,
}

impl Default for Matches {
    fn default() -> Self {
        Matches {
            rows: 0,
            packet: UInt64Builder::new(),
            flow: StringBuilder::new(),
            hop: UInt16Builder::new(),
            hops: UInt16Builder::new(),
            point: StringBuilder::new(),
            seen: BooleanBuilder::new(),
            frame: UInt64Builder::new(),
            ts: TimestampNanosecondBuilder::new().with_timezone("UTC"),
            by: StringBuilder::new(),
            prev_point: StringBuilder::new(),
            delay_ns: Int64Builder::new(),
        }
    }
}

fn u16_of(n: usize) -> u16 {
    u16::try_from(n).unwrap_or(u16::MAX)
}

/// The time that places row `hop` of `path` in an hour partition: the sighting's, or
/// for a point that did not see the packet its first sighting's.
pub fn hop_ts(path: &PacketPath, hop: usize) -> Option<i64> {
    path.hops.get(hop).and_then(|h| h.seen).or_else(|| path.hops.iter().find_map(|h| h.seen)).map(|s| s.ts_ns)
}

impl Matches {
    /// The row of point number `hop` (0 = upstream end) of `path`; `names` are the
    /// points' names by number.
    pub fn append(&mut self, path: &PacketPath, hop: usize, names: &[String]) {
        let Some(h) = path.hops.get(hop) else { return };
        let name = |p: u32| names.get(p as usize).map_or("", String::as_str);
        self.rows += 1;
        self.packet.append_value(path.packet);
        self.flow.append_value(&path.flow);
        self.hop.append_value(u16_of(hop));
        self.hops.append_value(u16_of(path.hops.len()));
        self.point.append_value(name(h.point));
        self.seen.append_value(h.seen.is_some());
        self.frame.append_option(h.seen.map(|s| s.frame));
        self.ts.append_option(h.seen.map(|s| s.ts_ns));
        self.by.append_option(h.seen.map(|s| s.by));
        // The nearest point upstream that saw the packet.
        let prev = path.hops.get(..hop).and_then(|up| up.iter().rev().find_map(|u| Some((u.point, u.seen?))));
        self.prev_point.append_option(prev.map(|(p, _)| name(p)));
        self.delay_ns.append_option(h.seen.zip(prev).map(|(s, (_, u))| s.ts_ns.saturating_sub(u.ts_ns)));
    }
}

impl Table for Matches {
    const NAME: &'static str = "matches";

    fn len(&self) -> usize {
        self.rows
    }

    fn columns(&mut self) -> Result<Vec<Column>, ArrowError> {
        self.rows = 0;
        Ok(vec![
            required("packet", self.packet.finish()),
            required("flow", self.flow.finish()),
            required("hop", self.hop.finish()),
            required("hops", self.hops.finish()),
            required("point", self.point.finish()),
            required("seen", self.seen.finish()),
            optional("frame", self.frame.finish()),
            optional("ts", self.ts.finish()),
            optional("by", self.by.finish()),
            optional("prev_point", self.prev_point.finish()),
            optional("delay_ns", self.delay_ns.finish()),
        ])
    }
}

//! The `findings` table: one row per finding of `netcap correlate`, numbered as it
//! prints them (`docs/parquet.md`, "findings").

use arrow_array::builder::{ListBuilder, StringBuilder, UInt32Builder, UInt64Builder};
use arrow_schema::ArrowError;

use super::{required, Column, Offsets, Table};
use crate::findings::Finding;

/// Builder of the `findings` table.
#[derive(Debug)]
pub struct Findings {
    rows: usize,
    number: UInt32Builder,
    kind: StringBuilder,
    severity: StringBuilder,
    summary: StringBuilder,
    flow: StringBuilder,
    points: ListBuilder<StringBuilder>,
    hint: StringBuilder,
    evidence: StringBuilder,
    related: ListBuilder<UInt32Builder>,
    frames: Offsets,
    fr_packet: UInt32Builder,
    fr_point: StringBuilder,
    fr_frame: UInt64Builder,
    fr_values: usize,
}

impl Default for Findings {
    fn default() -> Self {
        Findings {
            rows: 0,
            number: UInt32Builder::new(),
            kind: StringBuilder::new(),
            severity: StringBuilder::new(),
            summary: StringBuilder::new(),
            flow: StringBuilder::new(),
            points: ListBuilder::new(StringBuilder::new()),
            hint: StringBuilder::new(),
            evidence: StringBuilder::new(),
            related: ListBuilder::new(UInt32Builder::new()),
            frames: Offsets::default(),
            fr_packet: UInt32Builder::new(),
            fr_point: StringBuilder::new(),
            fr_frame: UInt64Builder::new(),
            fr_values: 0,
        }
    }
}

fn u32_of(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Findings {
    /// Finding `number` (1-based, as `netcap correlate` prints it).
    pub fn append(&mut self, number: usize, f: &Finding) {
        self.rows += 1;
        self.number.append_value(u32_of(number));
        self.kind.append_value(f.kind);
        self.severity.append_value(f.severity);
        self.summary.append_value(&f.summary);
        self.flow.append_value(&f.flow);
        for p in &f.points {
            self.points.values().append_value(p);
        }
        self.points.append(true);
        self.hint.append_value(&f.hint);
        self.evidence.append_value(f.evidence.to_string());
        for &r in &f.related {
            self.related.values().append_value(u32_of(r));
        }
        self.related.append(true);
        for (i, seen) in f.frames.iter().enumerate() {
            for r in seen {
                self.fr_packet.append_value(u32_of(i.saturating_add(1)));
                self.fr_point.append_value(&r.point);
                self.fr_frame.append_value(r.frame);
                self.fr_values += 1;
            }
        }
        self.frames.end_row(self.fr_values);
    }
}

impl Table for Findings {
    const NAME: &'static str = "findings";

    fn len(&self) -> usize {
        self.rows
    }

    fn columns(&mut self) -> Result<Vec<Column>, ArrowError> {
        self.rows = 0;
        self.fr_values = 0;
        let frames = self.frames.list_of_struct(vec![
            required("packet", self.fr_packet.finish()),
            required("point", self.fr_point.finish()),
            required("frame", self.fr_frame.finish()),
        ])?;
        Ok(vec![
            required("number", self.number.finish()),
            required("kind", self.kind.finish()),
            required("severity", self.severity.finish()),
            required("summary", self.summary.finish()),
            required("flow", self.flow.finish()),
            required("points", self.points.finish()),
            required("hint", self.hint.finish()),
            required("evidence", self.evidence.finish()),
            required("related", self.related.finish()),
            Column { name: "frames", values: frames, nullable: false },
        ])
    }
}

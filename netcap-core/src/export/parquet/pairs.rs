//! The `pairs` table: one row per pair of adjacent points on the inferred paths, with
//! the counts and one-way delays of `netcap correlate`'s between-points table
//! (`docs/parquet.md`, "pairs").

use arrow_array::builder::{Int64Builder, StringBuilder, UInt64Builder};
use arrow_schema::ArrowError;

use super::{optional, required, Column, Table};
use crate::correlate::PairReport;

/// Builder of the `pairs` table.
#[derive(Debug)]
pub struct Pairs {
    rows: usize,
    from: StringBuilder,
    to: StringBuilder,
    matched: UInt64Builder,
    lost: UInt64Builder,
    appeared: UInt64Builder,
    duplicated: UInt64Builder,
    reordered: UInt64Builder,
    delay_min_ns: Int64Builder,
    delay_p50_ns: Int64Builder,
    delay_p99_ns: Int64Builder,
    delay_max_ns: Int64Builder,
}

impl Default for Pairs {
    fn default() -> Self {
        Pairs {
            rows: 0,
            from: StringBuilder::new(),
            to: StringBuilder::new(),
            matched: UInt64Builder::new(),
            lost: UInt64Builder::new(),
            appeared: UInt64Builder::new(),
            duplicated: UInt64Builder::new(),
            reordered: UInt64Builder::new(),
            delay_min_ns: Int64Builder::new(),
            delay_p50_ns: Int64Builder::new(),
            delay_p99_ns: Int64Builder::new(),
            delay_max_ns: Int64Builder::new(),
        }
    }
}

impl Pairs {
    /// One pair of the report.
    pub fn append(&mut self, p: &PairReport) {
        self.rows += 1;
        self.from.append_value(&p.from);
        self.to.append_value(&p.to);
        self.matched.append_value(p.matched);
        self.lost.append_value(p.lost);
        self.appeared.append_value(p.appeared);
        self.duplicated.append_value(p.duplicated);
        self.reordered.append_value(p.reordered);
        self.delay_min_ns.append_option(p.delay_ns.min);
        self.delay_p50_ns.append_option(p.delay_ns.p50);
        self.delay_p99_ns.append_option(p.delay_ns.p99);
        self.delay_max_ns.append_option(p.delay_ns.max);
    }
}

impl Table for Pairs {
    const NAME: &'static str = "pairs";

    fn len(&self) -> usize {
        self.rows
    }

    fn columns(&mut self) -> Result<Vec<Column>, ArrowError> {
        self.rows = 0;
        Ok(vec![
            required("from", self.from.finish()),
            required("to", self.to.finish()),
            required("matched", self.matched.finish()),
            required("lost", self.lost.finish()),
            required("appeared", self.appeared.finish()),
            required("duplicated", self.duplicated.finish()),
            required("reordered", self.reordered.finish()),
            optional("delay_min_ns", self.delay_min_ns.finish()),
            optional("delay_p50_ns", self.delay_p50_ns.finish()),
            optional("delay_p99_ns", self.delay_p99_ns.finish()),
            optional("delay_max_ns", self.delay_max_ns.finish()),
        ])
    }
}

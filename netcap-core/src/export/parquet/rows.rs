//! The tables of a run: [`Rows`] is the observer that turns what the engine sees into
//! rows, and a [`Sink`] per table says where they go — files ([`Dataset`], `netcap
//! export`) or record batches in memory ([`Batches`], the Python package). Both front
//! ends fill their tables here, so a row is the same whoever asked for it; when each
//! table gets its rows is on [`Rows`].

use std::fmt;

use arrow_array::RecordBatch;

use super::{
    batch, hop_ts, Dataset, ExportError, ExportErrorKind, Findings, Flows, LabelColumns, Matches, PacketRow, Packets, Pairs, Table,
    TcpEvents, Written, BATCH_ROWS,
};
use crate::analysis::{FrameEvent, Observer, Outcome, PointInfo};
use crate::capture::Frame;
use crate::correlate::PacketPath;
use crate::tcp::FlowRecord;

/// Where the rows of table `T` go.
pub trait Sink<T: Table> {
    /// Appends one row, written by `row` into a builder; `point` and `ts_ns` place it
    /// in a partition (a [`Dataset`] split by point or hour).
    ///
    /// # Errors
    /// The sink could not take the row (a file could not be written, the reader of
    /// the batches went away).
    fn append(&mut self, point: &str, ts_ns: Option<i64>, row: &mut dyn FnMut(&mut T)) -> Result<(), ExportError>;

    /// Hands over what is buffered and closes the sink; what it wrote.
    ///
    /// # Errors
    /// As [`Sink::append`].
    fn finish(self: Box<Self>) -> Result<Written, ExportError>;
}

impl<T: Table> Sink<T> for Dataset<T> {
    fn append(&mut self, point: &str, ts_ns: Option<i64>, row: &mut dyn FnMut(&mut T)) -> Result<(), ExportError> {
        Dataset::append(self, point, ts_ns, row)
    }

    fn finish(self: Box<Self>) -> Result<Written, ExportError> {
        Dataset::finish(*self)
    }
}

/// Rows as record batches in memory: every `rows` rows (and at the end) a batch is
/// handed to `emit`. Memory is one batch.
pub struct Batches<T, F> {
    table: T,
    per_batch: usize,
    rows: u64,
    labels: LabelColumns,
    emit: F,
}

impl<T: Table, F: FnMut(RecordBatch) -> Result<(), ExportError>> Batches<T, F> {
    /// Batches of `rows` rows ([`BATCH_ROWS`] when 0), each handed to `emit`.
    pub fn new(rows: usize, emit: F) -> Self {
        let per_batch = if rows == 0 { BATCH_ROWS } else { rows };
        Batches { table: T::default(), per_batch, rows: 0, labels: LabelColumns::default(), emit }
    }

    /// Adds `labels` after the table's own columns of every batch (they replace labels
    /// given before).
    #[must_use]
    pub fn labels(mut self, labels: &LabelColumns) -> Self {
        self.labels = labels.clone();
        self
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        let b = batch(&mut self.table)
            .and_then(|b| self.labels.apply(b))
            .map_err(|e| ExportError::new(T::NAME, ExportErrorKind::Arrow(e)))?;
        (self.emit)(b)
    }
}

impl<T, F> fmt::Debug for Batches<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Batches").field("per_batch", &self.per_batch).field("rows", &self.rows).finish()
    }
}

impl<T: Table, F: FnMut(RecordBatch) -> Result<(), ExportError>> Sink<T> for Batches<T, F> {
    fn append(&mut self, _point: &str, _ts_ns: Option<i64>, row: &mut dyn FnMut(&mut T)) -> Result<(), ExportError> {
        row(&mut self.table);
        self.rows += 1;
        if self.table.len() >= self.per_batch {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<Written, ExportError> {
        if !self.table.is_empty() {
            self.flush()?;
        }
        Ok(Written { rows: self.rows, files: Vec::new() })
    }
}

/// A table's sink, boxed.
type Boxed<'a, T> = Option<Box<dyn Sink<T> + 'a>>;

/// The observer that fills the tables of a run: give it a sink for each table wanted,
/// pass it to [`crate::analysis::Analysis::run`], then [`Rows::finish`] with the
/// outcome. `packets` and `tcp_events` rows come as frames stream by, `matches` as the
/// correlator accounts its batches (runs with several points), `flows`, `findings` and
/// `pairs` at the end. Times are the capture's own (the clock offset a time-ordered run
/// added is taken off again); `matches` stays on the common clock.
///
/// # Examples
/// The `flows` table of the flannel client pod's capture as record batches:
/// ```
/// use netcap_core::analysis::Analysis;
/// use netcap_core::export::parquet::{Batches, Flows, Rows};
///
/// let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/lab/flannel/client_pod.pcap");
/// let mut batches = Vec::new();
/// let mut rows = Rows::new().flows(Batches::<Flows, _>::new(0, |b| Ok(batches.push(b))));
/// let outcome = Analysis::new().file(file).run(&mut rows)?;
/// rows.finish(&outcome)?;
/// assert_eq!(batches[0].num_rows(), 1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct Rows<'a> {
    packets: Boxed<'a, Packets>,
    tcp_events: Boxed<'a, TcpEvents>,
    flows: Boxed<'a, Flows>,
    findings: Boxed<'a, Findings>,
    pairs: Boxed<'a, Pairs>,
    matches: Boxed<'a, Matches>,
    /// The points' names by number, for `matches`.
    names: Vec<String>,
}

impl fmt::Debug for Rows<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Rows")
            .field("packets", &self.packets.is_some())
            .field("tcp_events", &self.tcp_events.is_some())
            .field("flows", &self.flows.is_some())
            .field("findings", &self.findings.is_some())
            .field("pairs", &self.pairs.is_some())
            .field("matches", &self.matches.is_some())
            .finish()
    }
}

impl<'a> Rows<'a> {
    /// No table yet.
    pub fn new() -> Self {
        Rows::default()
    }

    /// Fills the `packets` table: one row per frame.
    pub fn packets(mut self, sink: impl Sink<Packets> + 'a) -> Self {
        self.packets = Some(Box::new(sink));
        self
    }

    /// Fills the `tcp_events` table: a row per frame with a TCP label or RTT sample.
    pub fn tcp_events(mut self, sink: impl Sink<TcpEvents> + 'a) -> Self {
        self.tcp_events = Some(Box::new(sink));
        self
    }

    /// Fills the `flows` table at the end: one row per TCP flow record.
    pub fn flows(mut self, sink: impl Sink<Flows> + 'a) -> Self {
        self.flows = Some(Box::new(sink));
        self
    }

    /// Fills the `findings` table at the end (time-ordered runs).
    pub fn findings(mut self, sink: impl Sink<Findings> + 'a) -> Self {
        self.findings = Some(Box::new(sink));
        self
    }

    /// Fills the `pairs` table at the end (time-ordered runs): one row per pair of
    /// adjacent points on the paths.
    pub fn pairs(mut self, sink: impl Sink<Pairs> + 'a) -> Self {
        self.pairs = Some(Box::new(sink));
        self
    }

    /// Fills the `matches` table: a row per packet and point of its path, in runs with
    /// several points.
    pub fn matches(mut self, sink: impl Sink<Matches> + 'a) -> Self {
        self.matches = Some(Box::new(sink));
        self
    }

    /// Appends the flows, findings and pairs of `outcome` (the run this observer saw) and
    /// closes every sink: what each table wrote, by table name, in the order
    /// `packets`, `tcp_events`, `flows`, `findings`, `pairs`, `matches` (tables without a sink
    /// left out).
    ///
    /// # Errors
    /// The first sink that fails.
    pub fn finish(mut self, outcome: &Outcome) -> Result<Vec<(&'static str, Written)>, ExportError> {
        if let Some(sink) = self.flows.as_mut() {
            for f in &outcome.flows {
                // Back to the capture's own clock, as in the packets table.
                let offset = outcome.points.get(f.point_index as usize).map_or(0, |p| p.clock_offset_ns);
                let f = FlowRecord {
                    first_ts_ns: f.first_ts_ns.saturating_sub(offset),
                    last_ts_ns: f.last_ts_ns.saturating_sub(offset),
                    ..f.clone()
                };
                sink.append(&f.point, Some(f.first_ts_ns), &mut |t| t.append(&f))?;
            }
        }
        if let Some(sink) = self.findings.as_mut() {
            for (i, f) in outcome.report.iter().flat_map(|r| &r.findings).enumerate() {
                let point = f.points.first().map_or("", String::as_str);
                sink.append(point, None, &mut |t| t.append(i + 1, f))?;
            }
        }
        if let Some(sink) = self.pairs.as_mut() {
            for p in outcome.report.iter().flat_map(|r| &r.pairs) {
                sink.append(&p.from, None, &mut |t| t.append(p))?;
            }
        }
        let mut written = Vec::new();
        let mut close = |name, sink: Option<Written>| {
            if let Some(w) = sink {
                written.push((name, w));
            }
        };
        close(Packets::NAME, self.packets.map(Sink::finish).transpose()?);
        close(TcpEvents::NAME, self.tcp_events.map(Sink::finish).transpose()?);
        close(Flows::NAME, self.flows.map(Sink::finish).transpose()?);
        close(Findings::NAME, self.findings.map(Sink::finish).transpose()?);
        close(Pairs::NAME, self.pairs.map(Sink::finish).transpose()?);
        close(Matches::NAME, self.matches.map(Sink::finish).transpose()?);
        Ok(written)
    }
}

impl Observer for Rows<'_> {
    type Error = ExportError;

    fn frame(&mut self, e: &FrameEvent<'_>) -> Result<(), ExportError> {
        let p = e.point_info;
        // The analysis moved the timestamp onto the first point's clock; the tables
        // keep the capture's own time and say the offset.
        let captured = Frame { ts_ns: e.frame.ts_ns.saturating_sub(p.clock_offset_ns), ..e.frame };
        let ts = captured.has_timestamp.then_some(captured.ts_ns);
        if let Some(sink) = self.packets.as_mut() {
            let row = PacketRow {
                point: &p.name,
                file: &p.file,
                frame: &captured,
                clock_offset_ns: p.clock_offset_ns,
                packet: e.packet,
                tcp: e.segment,
            };
            sink.append(&p.name, ts, &mut |t| t.append_at(&row, e.data_offset))?;
        }
        if let (Some(sink), Some(seg)) = (self.tcp_events.as_mut(), e.segment.filter(|s| TcpEvents::wants(s))) {
            sink.append(&p.name, ts, &mut |t| t.append(&p.name, captured.number, ts, seg))?;
        }
        Ok(())
    }

    fn wants_paths(&self) -> bool {
        self.matches.is_some()
    }

    fn paths(&mut self, points: &[PointInfo], paths: &[PacketPath]) -> Result<(), ExportError> {
        // One point: every path is that point alone, nothing to match.
        let Some(sink) = self.matches.as_mut() else { return Ok(()) };
        if points.len() < 2 {
            return Ok(());
        }
        if self.names.len() != points.len() {
            self.names = points.iter().map(|p| p.name.clone()).collect();
        }
        let names = &self.names;
        for path in paths {
            for (i, hop) in path.hops.iter().enumerate() {
                let name = names.get(hop.point as usize).map_or("", String::as_str);
                sink.append(name, hop_ts(path, i), &mut |t| t.append(path, i, names))?;
            }
        }
        Ok(())
    }
}

//! `netcap export FILE... -o DIR`: the analysis of `netcap correlate` written as
//! Parquet tables (docs/parquet.md). Packets and TCP events are appended as frames
//! stream by, matches as the correlator accounts its batches; flows and findings at
//! the end. Memory stays bounded by the analysis' own state plus one batch and one
//! row group per open partition file.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use netcap_core::analysis::{AnalysisError, FrameEvent, Observer, PointInfo};
use netcap_core::capture::Frame;
use netcap_core::correlate::PacketPath;
use netcap_core::export::parquet::{
    clear_output, hop_ts, Dataset, ExportError, Findings, Flows, Matches, PacketRow, Packets, Split, Table, TcpEvents, Written,
};
use netcap_core::tcp::FlowRecord;

use crate::correlate::Messages;
use crate::AnalysisArgs;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    analysis: AnalysisArgs,
    /// Directory to write the tables into (created if missing).
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// Split the tables into hive partitions `point=NAME/hour=YYYY-MM-DDTHH`; give it
    /// twice for both (`--split-by point --split-by hour`).
    #[arg(long = "split-by", value_enum, value_name = "KEY")]
    split_by: Vec<SplitKey>,
    /// Replace tables that already exist in DIR (without it netcap refuses).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SplitKey {
    Point,
    Hour,
}

/// Appends the rows of each frame (and of each batch of correlated packets) to the
/// tables. The first error stops the analysis.
struct Exporter<'a> {
    args: &'a ExportArgs,
    split: Split,
    packets: Dataset<Packets>,
    events: Dataset<TcpEvents>,
    /// Opened with the first batch of packet paths of a run with several points.
    matches: Option<Dataset<Matches>>,
    names: Vec<String>,
}

impl Observer for Exporter<'_> {
    type Error = ExportError;

    fn frame(&mut self, e: &FrameEvent<'_>) -> Result<(), ExportError> {
        let p = e.point_info;
        // The analysis moved the timestamp onto the first point's clock; the tables
        // keep the capture's own time and say the offset.
        let captured = Frame { ts_ns: e.frame.ts_ns.saturating_sub(p.clock_offset_ns), ..e.frame };
        let ts = captured.has_timestamp.then_some(captured.ts_ns);
        let row = PacketRow {
            point: &p.name,
            file: &p.file,
            frame: &captured,
            clock_offset_ns: p.clock_offset_ns,
            packet: e.packet,
            tcp: e.segment,
        };
        self.packets.append(&p.name, ts, |t| t.append(&row))?;
        if let Some(seg) = e.segment.filter(|s| TcpEvents::wants(s)) {
            self.events.append(&p.name, ts, |t| t.append(&p.name, captured.number, ts, seg))?;
        }
        Ok(())
    }

    fn wants_paths(&self) -> bool {
        true
    }

    fn paths(&mut self, points: &[PointInfo], paths: &[PacketPath]) -> Result<(), ExportError> {
        // One point: every path is that point alone, nothing to match.
        if points.len() < 2 || paths.is_empty() {
            return Ok(());
        }
        if self.names.len() != points.len() {
            self.names = points.iter().map(|p| p.name.clone()).collect();
        }
        if self.matches.is_none() {
            self.matches = Some(Dataset::create(&self.args.output, self.split, self.args.force)?);
        }
        let Some(matches) = self.matches.as_mut() else { return Ok(()) };
        let names = &self.names;
        paths.iter().try_for_each(|path| {
            path.hops.iter().enumerate().try_for_each(|(i, hop)| {
                let name = names.get(hop.point as usize).map_or("", String::as_str);
                matches.append(name, hop_ts(path, i), |t| t.append(path, i, names))
            })
        })
    }
}

/// One line of the closing table: table, rows, where.
fn report(out: &mut impl Write, name: &str, w: &Written, dir: &std::path::Path, split: Split) -> io::Result<()> {
    let place = if split.any() {
        format!("{} ({} file{})", dir.join(name).display(), w.files.len(), if w.files.len() == 1 { "" } else { "s" })
    } else {
        dir.join(format!("{name}.parquet")).display().to_string()
    };
    writeln!(out, "{name:<11} {:>10} rows  {place}", w.rows)
}

pub fn run(args: &ExportArgs, out: &mut impl Write) -> io::Result<bool> {
    match export(args, out) {
        Ok(failed) => Ok(failed),
        Err(Failure::Message(msg)) => {
            crate::ui::error(msg);
            Ok(true)
        }
        Err(Failure::Io(e)) => Err(e),
    }
}

enum Failure {
    /// Said to the user; exit status 1.
    Message(String),
    /// Writing the closing table to standard output failed.
    Io(io::Error),
}

impl From<ExportError> for Failure {
    fn from(e: ExportError) -> Self {
        Failure::Message(e.to_string())
    }
}

fn export(args: &ExportArgs, out: &mut impl Write) -> Result<bool, Failure> {
    let split = Split { point: args.split_by.contains(&SplitKey::Point), hour: args.split_by.contains(&SplitKey::Hour) };
    let dir = &args.output;
    if !args.analysis.has_inputs() {
        return Err(Failure::Message("no capture files given".to_string()));
    }
    let analysis = args.analysis.analysis(true).map_err(Failure::Message)?;
    let ex = Exporter {
        args,
        split,
        packets: Dataset::create(dir, split, args.force)?,
        events: Dataset::create(dir, split, args.force)?,
        matches: None,
        names: Vec::new(),
    };
    // Flows and findings are created now too, so an existing table is refused before
    // the captures are read.
    let mut flows: Dataset<Flows> = Dataset::create(dir, split, args.force)?;
    // A finding spans time: findings are split by point only.
    let findings_split = Split { hour: false, ..split };
    let mut findings: Dataset<Findings> = Dataset::create(dir, findings_split, args.force)?;
    // `matches` is written only when the run has several points: clear (or refuse) an
    // old one now all the same, so that DIR never mixes two runs.
    clear_output(dir, Matches::NAME, args.force)?;
    let mut messages = Messages::new(&args.analysis.progress_files(), ex);
    let analysis = match analysis.run(&mut messages) {
        Ok(a) => a,
        Err(AnalysisError::Observer(e)) => return Err(e.into()),
        Err(e) => return Err(Failure::Message(e.to_string())),
    };
    let mut ex = messages.inner;
    let points = &analysis.points;
    if points.len() > 1 && ex.matches.is_none() {
        ex.matches = Some(Dataset::create(dir, split, args.force)?);
    }
    for f in &analysis.flows {
        // Back to the capture's own clock, as in the packets table.
        let offset = points.get(f.point_index as usize).map_or(0, |p| p.clock_offset_ns);
        let f = FlowRecord {
            first_ts_ns: f.first_ts_ns.saturating_sub(offset),
            last_ts_ns: f.last_ts_ns.saturating_sub(offset),
            ..f.clone()
        };
        flows.append(&f.point, Some(f.first_ts_ns), |t| t.append(&f))?;
    }
    for (i, f) in analysis.report.iter().flat_map(|r| &r.findings).enumerate() {
        let point = f.points.first().map_or("", String::as_str);
        findings.append(point, None, |t| t.append(i + 1, f))?;
    }
    let written = [
        (Packets::NAME, ex.packets.finish()?, split),
        (TcpEvents::NAME, ex.events.finish()?, split),
        (Flows::NAME, flows.finish()?, split),
        (Findings::NAME, findings.finish()?, findings_split),
    ];
    let matches = ex.matches.map(Dataset::finish).transpose()?;
    for (name, w, s) in &written {
        report(out, name, w, dir, *s).map_err(Failure::Io)?;
    }
    if let Some(w) = &matches {
        report(out, Matches::NAME, w, dir, split).map_err(Failure::Io)?;
    }
    Ok(analysis.failed())
}

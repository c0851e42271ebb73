//! `netcap export FILE... -o DIR`: the analysis of `netcap correlate` written as
//! Parquet tables (docs/parquet.md): the engine's table rows
//! ([`netcap_core::export::parquet::Rows`]) into one [`Dataset`] per table. Memory
//! stays bounded by the analysis' own state plus one batch and one row group per open
//! partition file.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use netcap_core::analysis::AnalysisError;
use netcap_core::export::parquet::{Dataset, ExportError, Findings, Flows, Matches, Packets, Pairs, Rows, Split, Table, TcpEvents, Written};

use crate::correlate::Messages;
use crate::AnalysisArgs;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub(crate) analysis: AnalysisArgs,
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
    let analysis = args.analysis.analysis(false).map_err(Failure::Message)?;
    // A finding spans time, a pair the whole run: both are split by point only.
    let findings_split = Split { hour: false, ..split };
    // Every table is created before the captures are read, so an existing one is
    // refused first.
    let rows = Rows::new()
        .packets(Dataset::<Packets>::create(dir, split, args.force)?)
        .tcp_events(Dataset::<TcpEvents>::create(dir, split, args.force)?)
        .flows(Dataset::<Flows>::create(dir, split, args.force)?)
        .findings(Dataset::<Findings>::create(dir, findings_split, args.force)?)
        .pairs(Dataset::<Pairs>::create(dir, findings_split, args.force)?)
        .matches(Dataset::<Matches>::create(dir, split, args.force)?);
    let mut messages = Messages::new(&args.analysis.progress_files(), rows);
    let analysis = match analysis.run(&mut messages) {
        Ok(a) => a,
        Err(AnalysisError::Observer(e)) => return Err(e.into()),
        Err(e) => return Err(Failure::Message(e.to_string())),
    };
    for (name, w) in messages.inner.finish(&analysis)? {
        let s = if name == Findings::NAME || name == Pairs::NAME { findings_split } else { split };
        report(out, name, &w, dir, s).map_err(Failure::Io)?;
    }
    Ok(analysis.failed())
}

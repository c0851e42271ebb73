//! `netcap export FILE... -o DIR`: the analysis of `netcap correlate` written as
//! Parquet tables (docs/parquet.md): the engine's table rows
//! ([`netcap_core::export::parquet::Rows`]) into one [`Dataset`] per table,
//! `DIR/<table>/`, with the `--label` columns on every row. Memory
//! stays bounded by the analysis' own state plus one batch and one row group per open
//! partition file.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use netcap_core::analysis::AnalysisError;
use netcap_core::export::parquet::{
    Dataset, ExportError, Findings, Flows, LabelColumns, LabelError, Matches, Packets, Pairs, Rows, Split, Table, TcpEvents, Written,
};

use crate::correlate::Messages;
use crate::AnalysisArgs;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub(crate) analysis: AnalysisArgs,
    /// Directory to write the tables into (created if missing), each in a directory of its
    /// own: DIR/packets/, DIR/flows/ …
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
    /// Split the tables into hive partitions `point=NAME/hour=YYYY-MM-DDTHH`; give it
    /// twice for both (`--split-by point --split-by hour`).
    #[arg(long = "split-by", value_enum, value_name = "KEY")]
    split_by: Vec<SplitKey>,
    /// Replace tables that already exist in DIR (without it netcap refuses).
    #[arg(long)]
    force: bool,
    /// Add a column KEY holding VALUE on every row of every table, after the table's
    /// own (`--label case=INC-1234`); repeatable, in the order given. KEY is
    /// [a-z_][a-z0-9_]*, not a column of any table, not `hour`, and given once.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    labels: Vec<(String, String)>,
}

/// `KEY=VALUE`, split at the first `=`.
fn parse_label(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) => Ok((k.to_string(), v.to_string())),
        None => Err(format!("`{s}`: expected KEY=VALUE (e.g. case=INC-1234)")),
    }
}

impl ExportArgs {
    /// The label columns `--label` asks for.
    ///
    /// # Errors
    /// A key that cannot be a column: a usage error (`main` checks it before the run).
    pub(crate) fn labels(&self) -> Result<LabelColumns, LabelError> {
        LabelColumns::new(self.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SplitKey {
    Point,
    Hour,
}

/// One line of the closing table: table, rows, where (the file of an unsplit table,
/// else the table's directory and its number of files).
fn report(out: &mut impl Write, name: &str, w: &Written, dir: &std::path::Path, split: Split) -> io::Result<()> {
    let place = match w.files.as_slice() {
        [file] if !split.any() => file.display().to_string(),
        files => format!("{} ({} file{})", dir.join(name).display(), files.len(), if files.len() == 1 { "" } else { "s" }),
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
    let labels = args.labels().map_err(|e| Failure::Message(format!("--label: {e}")))?;
    let analysis = args.analysis.analysis(false).map_err(Failure::Message)?;
    // A finding spans time, a pair the whole run: both are split by point only.
    let findings_split = Split { hour: false, ..split };
    // Every table is created before the captures are read, so an existing one is
    // refused first.
    let rows = Rows::new()
        .packets(Dataset::<Packets>::create(dir, split, args.force)?.labels(&labels))
        .tcp_events(Dataset::<TcpEvents>::create(dir, split, args.force)?.labels(&labels))
        .flows(Dataset::<Flows>::create(dir, split, args.force)?.labels(&labels))
        .findings(Dataset::<Findings>::create(dir, findings_split, args.force)?.labels(&labels))
        .pairs(Dataset::<Pairs>::create(dir, findings_split, args.force)?.labels(&labels))
        .matches(Dataset::<Matches>::create(dir, split, args.force)?.labels(&labels));
    // Each table's directory is this run's (cleared above): a second Ctrl-C removes it.
    for name in [Packets::NAME, TcpEvents::NAME, Flows::NAME, Findings::NAME, Pairs::NAME, Matches::NAME] {
        crate::interrupt::writing_dir(&dir.join(name));
    }
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

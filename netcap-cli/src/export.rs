//! `netcap export FILE... -o DIR`: the analysis of `netcap correlate` written as
//! Parquet tables (docs/parquet.md): the engine's table rows
//! ([`netcap_core::export::parquet::Rows`]) into one [`Dataset`] per table,
//! `DIR/<table>/`, with the `--label` columns on every row. Memory
//! stays bounded by the analysis' own state plus one batch and one row group per open
//! partition file.
//!
//! The tables are written in `DIR/.netcap-tmp-PID/` and renamed into place only when
//! every one of them is complete ([`Staging`]): a failure, or a second Ctrl-C, leaves
//! DIR as it was (docs/parquet.md, docs/decisions.md 27).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use netcap_core::analysis::AnalysisError;
use netcap_core::export::parquet::{
    existing_output, Dataset, ExportError, ExportErrorKind, Findings, Flows, LabelColumns, LabelError, Matches, Packets, Pairs, Rows, Split,
    Table, TcpEvents, Written,
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

/// The tables, in the order written and put in place.
const TABLES: [&str; 6] = [Packets::NAME, TcpEvents::NAME, Flows::NAME, Findings::NAME, Pairs::NAME, Matches::NAME];

fn export(args: &ExportArgs, out: &mut impl Write) -> Result<bool, Failure> {
    let split = Split { point: args.split_by.contains(&SplitKey::Point), hour: args.split_by.contains(&SplitKey::Hour) };
    let dir = &args.output;
    if !args.analysis.has_inputs() {
        return Err(Failure::Message("no capture files given".to_string()));
    }
    let labels = args.labels().map_err(|e| Failure::Message(format!("--label: {e}")))?;
    // What is there already is refused before the captures are read, or with --force
    // replaced at the end; never an input under any name.
    let mut existing = Vec::new();
    for name in TABLES {
        let found = existing_output(dir, name);
        if let (Some(p), false) = (found.first(), args.force) {
            return Err(ExportError::new(p, ExportErrorKind::Exists).into());
        }
        existing.extend(found);
    }
    let inputs: Vec<&Path> = args.analysis.inputs().collect();
    if let Some(msg) = refusal(dir, &existing, &inputs) {
        return Err(Failure::Message(msg));
    }
    let analysis = args.analysis.analysis(false).map_err(Failure::Message)?;
    // A finding spans time, a pair the whole run: both are split by point only.
    let findings_split = Split { hour: false, ..split };
    // The tables are written into a temporary directory and put in place at the end:
    // dropped on any error, it leaves DIR as it was.
    let stage = Staging::create(dir)?;
    let rows = Rows::new()
        .packets(Dataset::<Packets>::create(&stage.path, split, false)?.labels(&labels))
        .tcp_events(Dataset::<TcpEvents>::create(&stage.path, split, false)?.labels(&labels))
        .flows(Dataset::<Flows>::create(&stage.path, split, false)?.labels(&labels))
        .findings(Dataset::<Findings>::create(&stage.path, findings_split, false)?.labels(&labels))
        .pairs(Dataset::<Pairs>::create(&stage.path, findings_split, false)?.labels(&labels))
        .matches(Dataset::<Matches>::create(&stage.path, split, false)?.labels(&labels));
    let mut messages = Messages::new(&args.analysis.progress_files(), rows);
    let analysis = match analysis.run(&mut messages) {
        Ok(a) => a,
        Err(AnalysisError::Observer(e)) => return Err(stage.failure(e)),
        Err(e) => return Err(Failure::Message(e.to_string())),
    };
    let written = messages.inner.finish(&analysis).map_err(|e| stage.failure(e))?;
    // Interrupted (the first Ctrl-C or SIGTERM), the tables hold the frames read: they
    // are complete files all the same, and take their place like any others.
    let staged = stage.path.clone();
    stage.commit(&existing)?;
    for (name, mut w) in written {
        w.files = w.files.iter().map(|f| dir.join(f.strip_prefix(&staged).unwrap_or(f))).collect();
        let s = if name == Findings::NAME || name == Pairs::NAME { findings_split } else { split };
        report(out, name, &w, dir, s).map_err(Failure::Io)?;
    }
    Ok(analysis.failed())
}

/// Why DIR may not be written: it is one of the inputs (a directory of captures), or a
/// file that `--force` would replace is an input under some name (inside an old table's
/// directory, or a link to one).
fn refusal(dir: &Path, existing: &[PathBuf], inputs: &[&Path]) -> Option<String> {
    if let Some(msg) = crate::output::refusal(dir, inputs.iter().copied()) {
        return Some(msg.replace("the output is one of the input files", "the output directory is one of the inputs"));
    }
    for p in existing {
        let mut files = Vec::new();
        walk(p, &mut files);
        if let Some(msg) = files.iter().find_map(|f| crate::output::refusal(f, inputs.iter().copied())) {
            return Some(format!("{msg}; --force would replace {} with everything in it", p.display()));
        }
    }
    None
}

/// Every file under `p` (`p` itself when it is not a directory); symbolic links are
/// listed, not followed.
fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    match std::fs::symlink_metadata(p) {
        Ok(m) if m.is_dir() => {
            for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
                walk(&e.path(), out);
            }
        }
        Ok(_) => out.push(p.to_path_buf()),
        Err(_) => {}
    }
}

/// The tables being written: `DIR/.netcap-tmp-PID/<table>/`, inside DIR so that it is
/// on DIR's file system and the renames at the end are atomic. Dropped without
/// [`Staging::commit`], it is removed with everything in it, and so is DIR when this
/// run created it.
struct Staging {
    dir: PathBuf,
    path: PathBuf,
    /// DIR did not exist before this run.
    created: bool,
    committed: bool,
}

impl Staging {
    fn create(dir: &Path) -> Result<Self, Failure> {
        let created = std::fs::symlink_metadata(dir).is_err();
        std::fs::create_dir_all(dir).map_err(|e| Failure::Message(format!("{}: {e}", dir.display())))?;
        let path = dir.join(format!(".netcap-tmp-{}", std::process::id()));
        // A directory of this name is a dead run's (process ids are not shared by the
        // living).
        let _ = std::fs::remove_dir_all(&path);
        if let Err(e) = std::fs::create_dir(&path) {
            if created {
                let _ = std::fs::remove_dir(dir);
            }
            return Err(Failure::Message(format!("{}: {e}", path.display())));
        }
        // A second signal removes them in this order: the tables, then DIR if empty.
        crate::interrupt::writing_dir(&path);
        if created {
            crate::interrupt::created_dir(dir);
        }
        Ok(Staging { dir: dir.to_path_buf(), path, created, committed: false })
    }

    /// The message of a failed write: the file named where it was to go, and what is
    /// left.
    fn failure(&self, e: ExportError) -> Failure {
        let shown = e.path.strip_prefix(&self.path).map_or_else(|_| e.path.clone(), |rest| self.dir.join(rest));
        let ExportError { kind, .. } = e;
        Failure::Message(format!("{}; {}", ExportError::new(shown, kind), self.kept()))
    }

    /// Puts the new tables in place: every directory synced, then per table the old
    /// `DIR/<table>/` moved into the temporary directory and the new one renamed to its
    /// name, and the old files of `existing` (`DIR/<table>.parquet`) removed; the old
    /// tables go with the temporary directory. A second signal waits for the renames.
    fn commit(mut self, existing: &[PathBuf]) -> Result<(), Failure> {
        let mut dirs = Vec::new();
        directories(&self.path, &mut dirs);
        for d in &dirs {
            if let Err(e) = std::fs::File::open(d).and_then(|f| f.sync_all()) {
                return Err(Failure::Message(format!("{}: syncing to disk failed: {e}; {}", d.display(), self.kept())));
            }
        }
        let old = self.path.join(".old");
        let moved = crate::interrupt::settled(|| self.swap(existing, &old));
        moved.map_err(|msg| Failure::Message(format!("{msg}; {}", self.kept())))?;
        self.committed = true;
        crate::interrupt::done(&self.dir);
        crate::output::sync_dir(Some(&self.dir));
        // The old tables and the emptied temporary directory.
        let _ = std::fs::remove_dir_all(&self.path);
        crate::interrupt::done(&self.path);
        Ok(())
    }

    /// The renames of [`Staging::commit`]; on an error those done are undone.
    fn swap(&self, existing: &[PathBuf], old: &Path) -> Result<(), String> {
        let rename = |from: &Path, to: &Path| std::fs::rename(from, to).map_err(|e| format!("renaming {} to {}: {e}", from.display(), to.display()));
        std::fs::create_dir(old).map_err(|e| format!("{}: {e}", old.display()))?;
        let mut done: Vec<(&str, bool)> = Vec::new();
        let mut result = Ok(());
        for name in TABLES {
            let (new, place, aside) = (self.path.join(name), self.dir.join(name), old.join(name));
            let had = std::fs::symlink_metadata(&place).is_ok();
            if had {
                if let Err(e) = rename(&place, &aside) {
                    result = Err(e);
                    break;
                }
            }
            if let Err(e) = rename(&new, &place) {
                if had {
                    let _ = std::fs::rename(&aside, &place);
                }
                result = Err(e);
                break;
            }
            done.push((name, had));
        }
        if result.is_err() {
            for (name, had) in done.into_iter().rev() {
                let (new, place, aside) = (self.path.join(name), self.dir.join(name), old.join(name));
                let _ = std::fs::rename(&place, &new);
                if had {
                    let _ = std::fs::rename(&aside, &place);
                }
            }
            return result;
        }
        // The layout before schema version 2: the table's file beside the new directory.
        for p in existing.iter().filter(|p| p.extension().is_some_and(|e| e == "parquet")) {
            let _ = rename(p, &old.join(p.file_name().unwrap_or_default()));
        }
        Ok(())
    }

    /// What is left after a failure at the end.
    fn kept(&self) -> String {
        if self.created {
            "nothing was left".to_string()
        } else {
            format!("{} is as it was", self.dir.display())
        }
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        // The writer threads have stopped (the datasets are dropped first).
        let _ = std::fs::remove_dir_all(&self.path);
        crate::interrupt::done(&self.path);
        if self.created {
            let _ = std::fs::remove_dir(&self.dir);
            crate::interrupt::done(&self.dir);
        }
    }
}

/// `p` and every directory under it (links not followed), deepest last.
fn directories(p: &Path, out: &mut Vec<PathBuf>) {
    out.push(p.to_path_buf());
    for e in std::fs::read_dir(p).into_iter().flatten().flatten() {
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            directories(&e.path(), out);
        }
    }
}

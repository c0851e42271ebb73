//! Parquet tables: `packets`, `tcp_events`, `flows`, `findings`, `pairs`, `matches`.
//!
//! Each table is a builder type implementing [`Table`] ([`Packets`], [`TcpEvents`],
//! [`Flows`], [`Findings`], [`Pairs`], [`Matches`]): typed Arrow builders, one per column, and a
//! `columns` method that names each column next to the array it built. The schema is
//! what an empty builder produces ([`schema`]), so a column's name, type and
//! nullability are written down exactly once and cannot drift between the writer, the
//! schema and a second definition. `docs/parquet.md` documents every column, and a
//! test checks that document against [`schema`].
//!
//! A [`Dataset`] writes one table: rows are appended to the builder of their
//! partition, turned into a record batch every [`BATCH_ROWS`] rows and handed to the
//! parquet writer, which closes a row group at [`ROW_GROUP_ROWS`] rows or
//! [`ROW_GROUP_BYTES`] bytes (estimated, encoded), whichever comes first. The parquet
//! writers of a dataset run on a thread of their own: encoding and compressing a
//! table's batches happens beside the analysis that fills them, in the order they were
//! made (the files are the same, byte for byte). Memory is bounded by one batch and one
//! row group per open partition, [`QUEUED_BATCHES`] batches on their way to the writer
//! thread, and at most [`MAX_OPEN_WRITERS`] partitions are open at once.
//!
//! # Layout
//! Every table is a directory of its own, `DIR/<table>/`. Without a split it holds one
//! file, `DIR/<table>/part-0.parquet`; with [`Split`] by point and/or hour it is
//! hive-partitioned, `DIR/<table>/point=<name>/hour=<YYYY-MM-DDTHH>/part-<N>.parquet`.
//! Either way `DIR/<table>/**/*.parquet` is the table, for DuckDB, Spark and Polars,
//! and `out/*/<table>/**/*.parquet` the table across the exports `out/incident=A/`,
//! `out/incident=B/` … (`docs/decisions.md` 26). A partition closed to make room for
//! another and needed again gets a new `part-<N+1>.parquet`.
//!
//! # Metadata
//! Every file carries the key-value metadata `netcap.schema_version` =
//! [`SCHEMA_VERSION`] and `netcap.table` = the table's name; compression is zstd.
//! Timestamps are `Timestamp(Nanosecond, "UTC")`. [`LabelColumns`] add columns of one
//! value each (`case = "INC-1234"`) after a table's own.
//!
//! # Errors
//! Every error names the file or directory it concerns ([`ExportError`]); a failed write
//! says how many bytes of the file were written and the operating system's reason
//! ([`ExportErrorKind::Write`]). A file gets its footer only when every write to it
//! succeeded: a file cut short by an error has none, so no Parquet reader takes it for
//! a whole table (`netcap export` also writes every table under a temporary name and
//! removes it on error).
//!
//! # References
//! - Apache Parquet format: <https://parquet.apache.org/docs/file-format/>
//! - Arrow columnar format: <https://arrow.apache.org/docs/format/Columnar.html>
//! - Hive partition layout as read by DuckDB:
//!   <https://duckdb.org/docs/data/partitioning/hive_partitioning>

mod findings;
mod flows;
mod labels;
mod matches;
mod packets;
mod pairs;
mod rows;
mod tcp_events;

use std::collections::HashMap;
use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{Array, ArrayRef, ListArray, RecordBatch, StructArray};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{ArrowError, Field, Fields, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::metadata::KeyValue;

pub use findings::Findings;
pub use flows::Flows;
pub use labels::{LabelColumns, LabelError};
pub use matches::{hop_ts, Matches};
pub use packets::{PacketRow, Packets};
pub use pairs::Pairs;
pub use rows::{Batches, Rows, Sink};
pub use tcp_events::TcpEvents;

/// The schema version written as `netcap.schema_version`. It changes when a column is
/// renamed, removed or changes type, or when the files move; adding a column does not
/// change it. Version 2: every table in a directory of its own
/// (`DIR/<table>/part-0.parquet`, was `DIR/<table>.parquet`), and `packets.tcp_flag_names`.
pub const SCHEMA_VERSION: &str = "2";

/// Rows buffered in a partition's builders before they go to its parquet writer.
pub const BATCH_ROWS: usize = 8192;

/// Most rows in one row group.
pub const ROW_GROUP_ROWS: usize = 131_072;

/// Most bytes (estimated, encoded) in one row group.
pub const ROW_GROUP_BYTES: usize = 32 << 20;

/// Partitions open at once; past it the least recently used is closed (a 16 × 32 MiB
/// row group bound on memory in the worst case).
pub const MAX_OPEN_WRITERS: usize = 16;

/// Batches of a dataset waiting for its writer thread at most; a fuller queue makes
/// the analysis wait.
pub const QUEUED_BATCHES: usize = 4;

/// One column of a batch: its name, values and whether it may hold nulls.
#[derive(Debug)]
pub struct Column {
    /// The column's name in the schema (docs/parquet.md).
    pub name: &'static str,
    /// Its values, one per row of the batch.
    pub values: ArrayRef,
    /// Whether the schema lets it hold nulls.
    pub nullable: bool,
}

/// A column that never holds a null.
pub fn required(name: &'static str, values: impl Array + 'static) -> Column {
    Column { name, values: Arc::new(values), nullable: false }
}

/// A column that may hold nulls.
pub fn optional(name: &'static str, values: impl Array + 'static) -> Column {
    Column { name, values: Arc::new(values), nullable: true }
}

/// A table's row builder.
pub trait Table: Default {
    /// The table's name: the file or directory name and `netcap.table`.
    const NAME: &'static str;

    /// Rows appended since the last [`Table::columns`].
    fn len(&self) -> usize;

    /// Whether no row was appended since the last [`Table::columns`].
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rows appended so far, column by column, in schema order; the builders
    /// start over.
    ///
    /// # Errors
    /// A nested column's parts do not fit together (a bug in the builder).
    fn columns(&mut self) -> Result<Vec<Column>, ArrowError>;
}

/// The rows appended to `table` so far as a record batch.
///
/// # Errors
/// A column's length or nulls contradict the declaration (a bug in the builder).
pub fn batch<T: Table>(table: &mut T) -> Result<RecordBatch, ArrowError> {
    let columns = table.columns()?;
    let fields: Vec<Field> =
        columns.iter().map(|c| Field::new(c.name, c.values.data_type().clone(), c.nullable)).collect();
    let arrays = columns.into_iter().map(|c| c.values).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
}

/// The schema of table `T`: what an empty builder produces.
///
/// # Errors
/// As [`batch`].
pub fn schema<T: Table>() -> Result<SchemaRef, ArrowError> {
    Ok(batch(&mut T::default())?.schema())
}

/// Offsets of a list column, one list per row.
#[derive(Debug)]
pub(crate) struct Offsets(Vec<i32>);

impl Default for Offsets {
    fn default() -> Self {
        Offsets(vec![0])
    }
}

impl Offsets {
    /// Ends a row whose list now holds `values` values in total (all rows so far).
    pub(crate) fn end_row(&mut self, values: usize) {
        let last = self.0.last().copied().unwrap_or(0);
        // A batch holds at most BATCH_ROWS rows of a few dozen values: far below i32.
        self.0.push(i32::try_from(values).unwrap_or(last).max(last));
    }

    /// `List<Struct{fields}>` from the child columns built alongside the offsets.
    pub(crate) fn list_of_struct(&mut self, fields: Vec<Column>) -> Result<ArrayRef, ArrowError> {
        let offsets = std::mem::take(&mut self.0);
        self.0.push(0);
        let struct_fields: Fields =
            fields.iter().map(|c| Field::new(c.name, c.values.data_type().clone(), c.nullable)).collect();
        let arrays: Vec<ArrayRef> = fields.into_iter().map(|c| c.values).collect();
        let values = StructArray::try_new(struct_fields, arrays, None)?;
        let item = Arc::new(Field::new("item", values.data_type().clone(), false));
        let list = ListArray::try_new(item, OffsetBuffer::new(ScalarBuffer::from(offsets)), Arc::new(values), None)?;
        Ok(Arc::new(list))
    }
}

/// How a table is split into hive partitions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Split {
    /// `point=<name>`.
    pub point: bool,
    /// `hour=<YYYY-MM-DDTHH>` (UTC) of the row's timestamp.
    pub hour: bool,
}

impl Split {
    /// Whether the table is split at all (a directory, not one file).
    pub fn any(self) -> bool {
        self.point || self.hour
    }
}

/// What went wrong, and with which file or directory.
#[derive(Debug)]
#[non_exhaustive]
pub struct ExportError {
    /// The file or directory concerned.
    pub path: PathBuf,
    /// What went wrong with it.
    pub kind: ExportErrorKind,
}

/// What went wrong in an [`ExportError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ExportErrorKind {
    /// Creating, writing, syncing or removing the file or directory failed.
    Io(io::Error),
    /// Writing a partition file failed (a full disk, `ulimit -f`) after `written` bytes
    /// of it reached the file.
    Write {
        /// Bytes of the file written before the error.
        written: u64,
        /// The operating system's error (`No space left on device`, `File too large`).
        error: io::Error,
    },
    /// Syncing a partition file to disk (`fsync`) failed after `written` bytes were
    /// written to it.
    Sync {
        /// Bytes of the file written.
        written: u64,
        /// The operating system's error.
        error: io::Error,
    },
    /// The parquet writer failed (encoding, writing a row group or the footer).
    Parquet(ParquetError),
    /// Building a record batch failed (a column of the wrong length: a bug).
    Arrow(ArrowError),
    /// The output exists and overwriting was not asked for.
    Exists,
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let p = self.path.display();
        match &self.kind {
            ExportErrorKind::Io(e) => write!(f, "{p}: {e}"),
            ExportErrorKind::Write { written, error } => write!(f, "{p}: writing failed after {written} bytes: {error}"),
            ExportErrorKind::Sync { written, error } => {
                write!(f, "{p}: syncing to disk failed after {written} bytes were written: {error}")
            }
            ExportErrorKind::Parquet(e) => write!(f, "{p}: parquet: {e}"),
            ExportErrorKind::Arrow(e) => write!(f, "{p}: arrow: {e}"),
            ExportErrorKind::Exists => write!(f, "{p}: exists (use --force to replace it)"),
        }
    }
}

impl std::error::Error for ExportError {}

impl ExportError {
    /// `kind` about `path` (a [`Sink`] of its own says why it cannot take a row).
    pub fn new(path: impl Into<PathBuf>, kind: ExportErrorKind) -> Self {
        ExportError { path: path.into(), kind }
    }
}

/// A partition's key: the point name and the hour (hours since the epoch; `None`: no
/// timestamp), each present when the table is split by it.
type Key = (Option<String>, Option<Option<i64>>);

/// One open partition file; its parquet writer is on the writer thread, under `id`.
struct Part<T> {
    key: Key,
    path: PathBuf,
    table: T,
    id: usize,
    used: u64,
}

/// A partition file's parquet writer.
type Writer = Box<ArrowWriter<BufWriter<Counted>>>;

/// A partition file that counts the bytes that reached it and keeps its first write
/// error, so that a failure can say how far the file got and why, whatever the parquet
/// writer made of the error.
#[derive(Debug)]
struct Counted {
    file: File,
    written: u64,
    failed: Option<io::Error>,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self.file.write(buf) {
            Ok(n) => {
                self.written += n as u64;
                Ok(n)
            }
            Err(e) => {
                if self.failed.is_none() && e.kind() != io::ErrorKind::Interrupted {
                    self.failed = Some(copy(&e));
                }
                Err(e)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

/// An equal error (`io::Error` is not `Clone`): the OS error number where there is one.
fn copy(e: &io::Error) -> io::Error {
    e.raw_os_error().map_or_else(|| io::Error::new(e.kind(), e.to_string()), io::Error::from_raw_os_error)
}

/// The error of partition file `path`: the file's own write error, with the bytes
/// written, when there was one, else the parquet writer's.
fn write_failure(path: &Path, w: &ArrowWriter<BufWriter<Counted>>, e: ParquetError) -> ExportError {
    let file = w.inner().get_ref();
    let kind = match &file.failed {
        Some(error) => ExportErrorKind::Write { written: file.written, error: copy(error) },
        None => ExportErrorKind::Parquet(e),
    };
    ExportError::new(path, kind)
}

/// Writes `w`'s footer, flushes it and syncs the file to disk: only a file whose every
/// write succeeded gets its footer (an error before leaves it without, unreadable as
/// Parquet, and the caller removes it).
fn finish_file(path: &Path, mut w: Writer) -> Result<(), ExportError> {
    w.finish().map_err(|e| write_failure(path, &w, e))?;
    let flushed = w.inner_mut().flush();
    let file = w.inner().get_ref();
    if let Err(e) = flushed {
        let error = file.failed.as_ref().map_or_else(|| copy(&e), copy);
        return Err(ExportError::new(path, ExportErrorKind::Write { written: file.written, error }));
    }
    file.file.sync_all().map_err(|error| ExportError::new(path, ExportErrorKind::Sync { written: file.written, error }))
}

/// What the writer thread does.
enum Job {
    Open(usize, PathBuf, Writer),
    Write(usize, RecordBatch),
    Close(usize),
}

/// A dataset's writer thread: parquet writers by part id, fed in order.
struct Encoder {
    jobs: Option<std::sync::mpsc::SyncSender<Job>>,
    thread: Option<std::thread::JoinHandle<Result<(), ExportError>>>,
}

impl Encoder {
    fn start(root: &Path) -> Result<Self, ExportError> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(QUEUED_BATCHES);
        let thread = std::thread::Builder::new()
            .name("netcap-parquet".to_string())
            .spawn(move || {
                let mut writers: HashMap<usize, (PathBuf, Writer)> = HashMap::new();
                for job in rx {
                    match job {
                        Job::Open(id, path, w) => {
                            writers.insert(id, (path, w));
                        }
                        Job::Write(id, batch) => {
                            if let Some((path, w)) = writers.get_mut(&id) {
                                w.write(&batch).map_err(|e| write_failure(path, w, e))?;
                            }
                        }
                        Job::Close(id) => {
                            if let Some((path, w)) = writers.remove(&id) {
                                finish_file(&path, w)?;
                            }
                        }
                    }
                }
                Ok(())
            })
            .map_err(|e| ExportError::new(root, ExportErrorKind::Io(e)))?;
        Ok(Encoder { jobs: Some(tx), thread: Some(thread) })
    }

    /// Hands a job to the thread; if the thread stopped at an error, that error.
    fn send(&mut self, job: Job, path: &Path) -> Result<(), ExportError> {
        let sent = self.jobs.as_ref().is_some_and(|tx| tx.send(job).is_ok());
        if sent {
            return Ok(());
        }
        self.jobs = None;
        match self.join() {
            Err(e) => Err(e),
            Ok(()) => Err(ExportError::new(path, ExportErrorKind::Io(io::Error::other("the parquet writer thread stopped")))),
        }
    }

    /// Waits for every job to be done; the first error.
    fn join(&mut self) -> Result<(), ExportError> {
        self.jobs = None;
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(r)) => r,
            Some(Err(_)) => Err(ExportError::new(Path::new(""), ExportErrorKind::Io(io::Error::other("the parquet writer thread panicked")))),
            None => Ok(()),
        }
    }
}

impl Drop for Encoder {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// What a [`Dataset`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Written {
    /// Rows appended, every file together.
    pub rows: u64,
    /// Every file, in the order opened.
    pub files: Vec<PathBuf>,
}

/// One table being written: a directory, `DIR/<table>/`, of one file or of hive
/// partitions.
pub struct Dataset<T: Table> {
    root: PathBuf,
    split: Split,
    schema: SchemaRef,
    labels: LabelColumns,
    props: WriterProperties,
    parts: Vec<Part<T>>,
    /// Index in `parts` of the partition used last (most rows follow their neighbour).
    last: usize,
    /// Per partition directory, the next part number.
    next_part: HashMap<PathBuf, u32>,
    tick: u64,
    written: Written,
    encoder: Encoder,
    next_id: usize,
}

impl<T: Table> fmt::Debug for Dataset<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dataset").field("table", &T::NAME).field("root", &self.root).field("split", &self.split).finish()
    }
}

impl<T: Table> Dataset<T> {
    /// Starts table `T` in directory `dir` (created if missing): `dir/<table>/part-0.parquet`,
    /// or with a split `dir/<table>/point=…/hour=…/part-<N>.parquet`.
    ///
    /// # Errors
    /// `Exists` when `dir/<table>/` or `dir/<table>.parquet` (the layout before schema
    /// version 2) exists and `overwrite` is false (with `overwrite` both are removed);
    /// I/O errors creating `dir/<table>/`.
    pub fn create(dir: &Path, split: Split, overwrite: bool) -> Result<Self, ExportError> {
        clear_output(dir, T::NAME, overwrite)?;
        let root = dir.join(T::NAME);
        let schema = schema::<T>().map_err(|e| ExportError::new(&root, ExportErrorKind::Arrow(e)))?;
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            // Plain values compressed by zstd: smaller and cheaper than dictionary pages,
            // whose interner costs grow with distinct values (docs/decisions.md 29).
            .set_dictionary_enabled(false)
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
            .set_key_value_metadata(Some(vec![
                KeyValue::new("netcap.schema_version".to_string(), SCHEMA_VERSION.to_string()),
                KeyValue::new("netcap.table".to_string(), T::NAME.to_string()),
            ]))
            .build();
        std::fs::create_dir_all(&root).map_err(|e| ExportError::new(&root, ExportErrorKind::Io(e)))?;
        let encoder = Encoder::start(&root)?;
        Ok(Dataset {
            root,
            split,
            schema,
            labels: LabelColumns::default(),
            props,
            parts: Vec::new(),
            last: 0,
            next_part: HashMap::new(),
            tick: 0,
            written: Written::default(),
            encoder,
            next_id: 0,
        })
    }

    /// Adds `labels` after the table's own columns, on every row (they replace labels
    /// given before). Give them before the first row: a file opened already has the
    /// columns it was opened with, and a batch with others fails to write to it.
    #[must_use]
    pub fn labels(mut self, labels: &LabelColumns) -> Self {
        self.labels = labels.clone();
        self
    }

    /// Appends one row, written by `row` into the builder of the partition of `point`
    /// and `ts_ns` (both ignored without a split).
    ///
    /// # Errors
    /// Opening, writing or closing a partition file.
    pub fn append(&mut self, point: &str, ts_ns: Option<i64>, row: impl FnOnce(&mut T)) -> Result<(), ExportError> {
        let i = self.part(point, ts_ns)?;
        self.tick += 1;
        self.written.rows += 1;
        let part = &mut self.parts[i];
        part.used = self.tick;
        row(&mut part.table);
        if part.table.len() >= BATCH_ROWS {
            write_batch(part, &self.labels, &mut self.encoder)?;
        }
        Ok(())
    }

    /// Index in `parts` of the partition of (`point`, `ts_ns`), opened if needed.
    fn part(&mut self, point: &str, ts_ns: Option<i64>) -> Result<usize, ExportError> {
        let hour = self.split.hour.then(|| ts_ns.map(|t| t.div_euclid(3_600_000_000_000)));
        let matches = |k: &Key| k.1 == hour && k.0.as_deref().is_none_or(|p| p == point);
        if self.parts.get(self.last).is_some_and(|p| matches(&p.key)) {
            return Ok(self.last);
        }
        if let Some(i) = self.parts.iter().position(|p| matches(&p.key)) {
            self.last = i;
            return Ok(i);
        }
        if self.parts.len() >= MAX_OPEN_WRITERS {
            let lru = self.parts.iter().enumerate().min_by_key(|(_, p)| p.used).map_or(0, |(i, _)| i);
            let part = self.parts.swap_remove(lru);
            close(part, &self.labels, &mut self.encoder)?;
        }
        let key: Key = (self.split.point.then(|| point.to_string()), hour);
        let mut dir = self.root.clone();
        if let Some(p) = &key.0 {
            dir.push(format!("point={}", hive_value(p)));
        }
        if let Some(h) = key.1 {
            dir.push(format!("hour={}", h.map_or_else(|| NO_VALUE.to_string(), hour_name)));
        }
        std::fs::create_dir_all(&dir).map_err(|e| ExportError::new(&dir, ExportErrorKind::Io(e)))?;
        let n = self.next_part.entry(dir.clone()).or_insert(0);
        let path = dir.join(format!("part-{n}.parquet"));
        *n += 1;
        let file = File::create(&path).map_err(|e| ExportError::new(&path, ExportErrorKind::Io(e)))?;
        let schema = self.labels.schema(&self.schema);
        let file = Counted { file, written: 0, failed: None };
        let writer = ArrowWriter::try_new(BufWriter::with_capacity(1 << 16, file), schema, Some(self.props.clone()))
            .map_err(|e| ExportError::new(&path, ExportErrorKind::Parquet(e)))?;
        self.written.files.push(path.clone());
        let id = self.next_id;
        self.next_id += 1;
        self.encoder.send(Job::Open(id, path.clone(), Box::new(writer)), &path)?;
        self.parts.push(Part { key, path, table: T::default(), id, used: self.tick });
        self.last = self.parts.len() - 1;
        Ok(self.last)
    }

    /// Writes what is buffered and closes every file. Without a split, a table without
    /// rows is still written (`part-0.parquet` with the schema and no row group), so
    /// queries over it work; with a split it is an empty directory.
    ///
    /// # Errors
    /// Writing or closing a file.
    pub fn finish(mut self) -> Result<Written, ExportError> {
        if !self.split.any() && self.parts.is_empty() {
            self.part("", None)?;
        }
        for part in std::mem::take(&mut self.parts) {
            close(part, &self.labels, &mut self.encoder)?;
        }
        self.encoder.join()?;
        Ok(std::mem::take(&mut self.written))
    }
}

/// The paths of table `name` in `dir` that exist: `dir/<name>/` and `dir/<name>.parquet`
/// (the table's file before schema version 2), what [`clear_output`] refuses or
/// removes. Nothing is changed; a caller that writes the new table elsewhere first (a
/// temporary directory renamed into place at the end) replaces these only then.
pub fn existing_output(dir: &Path, name: &str) -> Vec<PathBuf> {
    [dir.join(name), dir.join(format!("{name}.parquet"))].into_iter().filter(|p| std::fs::symlink_metadata(p).is_ok()).collect()
}

/// Makes room for table `name` in `dir` (created if missing): removes `dir/<name>/`
/// and `dir/<name>.parquet` (the table's file before schema version 2, so that an old
/// export's table is not read beside the new one) when `overwrite`, else refuses when
/// either exists. Nothing else in `dir` is touched.
///
/// # Errors
/// `Exists`, or the I/O error creating `dir` or removing the old output.
pub fn clear_output(dir: &Path, name: &str, overwrite: bool) -> Result<(), ExportError> {
    std::fs::create_dir_all(dir).map_err(|e| ExportError::new(dir, ExportErrorKind::Io(e)))?;
    for p in [dir.join(name), dir.join(format!("{name}.parquet"))] {
        let Ok(meta) = std::fs::symlink_metadata(&p) else { continue };
        if !overwrite {
            return Err(ExportError::new(&p, ExportErrorKind::Exists));
        }
        let removed = if meta.is_dir() { std::fs::remove_dir_all(&p) } else { std::fs::remove_file(&p) };
        removed.map_err(|e| ExportError::new(&p, ExportErrorKind::Io(e)))?;
    }
    Ok(())
}

fn write_batch<T: Table>(part: &mut Part<T>, labels: &LabelColumns, encoder: &mut Encoder) -> Result<(), ExportError> {
    let b = batch(&mut part.table)
        .and_then(|b| labels.apply(b))
        .map_err(|e| ExportError::new(&part.path, ExportErrorKind::Arrow(e)))?;
    encoder.send(Job::Write(part.id, b), &part.path)
}

fn close<T: Table>(mut part: Part<T>, labels: &LabelColumns, encoder: &mut Encoder) -> Result<(), ExportError> {
    if !part.table.is_empty() {
        write_batch(&mut part, labels, encoder)?;
    }
    encoder.send(Job::Close(part.id), &part.path)
}

/// Hive's name for a missing partition value (a frame without a timestamp, an empty
/// point name).
pub const NO_VALUE: &str = "__HIVE_DEFAULT_PARTITION__";

/// A partition value as a path component: bytes other than ASCII letters, digits,
/// `-`, `_` and `.` percent-encoded (as Hive and DuckDB decode them).
pub fn hive_value(v: &str) -> String {
    if v.is_empty() {
        return NO_VALUE.to_string();
    }
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `2026-11-22T04` for hour `h` since the Unix epoch (UTC).
pub fn hour_name(h: i64) -> String {
    let (y, m, d) = civil_from_days(h.div_euclid(24));
    format!("{y:04}-{m:02}-{d:02}T{:02}", h.rem_euclid(24))
}

/// The proleptic Gregorian date of day `z` since 1970-01-01 (H. Hinnant's
/// `civil_from_days`, <https://howardhinnant.github.io/date_algorithms.html>).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z.saturating_add(719_468);
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe.saturating_add(era.saturating_mul(400));
    (if m <= 2 { y.saturating_add(1) } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_are_utc_calendar_hours() {
        assert_eq!(hour_name(0), "1970-01-01T00");
        // 2025-11-22 04:49:56 UTC.
        assert_eq!(hour_name(1_763_786_996 / 3600), "2025-11-22T04");
        assert_eq!(hour_name(-1), "1969-12-31T23");
        // 2000-02-29 (leap day of a year divisible by 400) 12:00.
        assert_eq!(hour_name(951_825_600 / 3600), "2000-02-29T12");
        // No overflow at the ends of i64 nanoseconds.
        let _ = hour_name(i64::MAX.div_euclid(3_600_000_000_000));
        let _ = hour_name(i64::MIN.div_euclid(3_600_000_000_000));
    }

    #[test]
    fn partition_values_are_escaped() {
        assert_eq!(hive_value("client_pod"), "client_pod");
        assert_eq!(hive_value("any#3"), "any%233");
        assert_eq!(hive_value("a/b=c"), "a%2Fb%3Dc");
        assert_eq!(hive_value(""), NO_VALUE);
    }

    fn rows_in(path: &Path) -> i64 {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let reader = SerializedFileReader::new(File::open(path).expect("open")).expect("parquet");
        reader.metadata().file_metadata().num_rows()
    }

    /// More partitions than MAX_OPEN_WRITERS, visited twice: the least recently used
    /// are closed and reopened as part-1, no row is lost, and a row without a timestamp
    /// goes to Hive's default partition.
    #[test]
    fn partitions_beyond_the_open_limit_reopen_as_new_parts() {
        let dir = std::env::temp_dir().join(format!("netcap-dataset-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let split = Split { point: true, hour: true };
        let mut d: Dataset<TcpEvents> = Dataset::create(&dir, split, false).expect("create");
        let seg = crate::tcp::SegmentInfo::default();
        let points = MAX_OPEN_WRITERS + 4;
        for round in 0..2u64 {
            for p in 0..points {
                let name = format!("p{p}");
                d.append(&name, Some(0), |t| t.append(&name, round, Some(0), &seg)).expect("append");
            }
        }
        d.append("p0", None, |t| t.append("p0", 9, None, &seg)).expect("append");
        let written = d.finish().expect("finish");
        assert_eq!(written.rows, 2 * points as u64 + 1);
        let total: i64 = written.files.iter().map(|f| rows_in(f)).sum();
        assert_eq!(total, 2 * points as i64 + 1);
        let p0 = dir.join("tcp_events/point=p0/hour=1970-01-01T00");
        assert_eq!(rows_in(&p0.join("part-0.parquet")), 1);
        assert_eq!(rows_in(&p0.join("part-1.parquet")), 1);
        let none = dir.join(format!("tcp_events/point=p0/hour={NO_VALUE}/part-0.parquet"));
        assert_eq!(rows_in(&none), 1);
        // Visited in a cycle longer than the limit, every partition was closed before
        // its second row (least recently used) and reopened once.
        for p in 0..points {
            let d = dir.join(format!("tcp_events/point=p{p}/hour=1970-01-01T00"));
            assert_eq!((rows_in(&d.join("part-0.parquet")), rows_in(&d.join("part-1.parquet"))), (1, 1), "p{p}");
            assert!(!d.join("part-2.parquet").exists());
        }
        // A second run refuses, then replaces with `overwrite`.
        let again = Dataset::<TcpEvents>::create(&dir, Split::default(), false);
        assert!(matches!(again.map(|_| ()), Err(ExportError { kind: ExportErrorKind::Exists, .. })));
        let d: Dataset<TcpEvents> = Dataset::create(&dir, Split::default(), true).expect("overwrite");
        d.finish().expect("finish");
        assert!(!dir.join("tcp_events/point=p0").exists());
        assert_eq!(rows_in(&dir.join("tcp_events/part-0.parquet")), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A table of an export made before schema version 2, `DIR/<table>.parquet`, is
    /// refused by name; `overwrite` removes it and writes `DIR/<table>/part-0.parquet`,
    /// leaving the other files in `DIR` alone.
    #[test]
    fn a_table_of_the_old_layout_is_refused_then_replaced() {
        let dir = std::env::temp_dir().join(format!("netcap-old-layout-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("flows.parquet"), b"PAR1").expect("old table");
        std::fs::write(dir.join("notes.txt"), b"mine").expect("other file");
        let refused = Dataset::<Flows>::create(&dir, Split::default(), false).map(|_| ());
        assert!(matches!(&refused, Err(ExportError { kind: ExportErrorKind::Exists, path }) if *path == dir.join("flows.parquet")));
        // Another table is free to go.
        Dataset::<Pairs>::create(&dir, Split::default(), false).expect("pairs").finish().expect("finish");
        let d = Dataset::<Flows>::create(&dir, Split::default(), true).expect("overwrite");
        let written = d.finish().expect("finish");
        assert_eq!(written.files, [dir.join("flows/part-0.parquet")]);
        assert!(!dir.join("flows.parquet").exists());
        assert_eq!(rows_in(&dir.join("flows/part-0.parquet")), 0);
        assert!(dir.join("notes.txt").is_file() && dir.join("pairs/part-0.parquet").is_file());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Label columns come after the table's own, on every row of every file, unsplit
    /// and split; in memory ([`Batches`]) the same.
    #[test]
    fn labels_are_on_every_row() {
        use arrow_array::cast::AsArray;
        use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
        let dir = std::env::temp_dir().join(format!("netcap-labels-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let labels = LabelColumns::new([("case", "INC-1234"), ("site", "fra1")]).expect("labels");
        let seg = crate::tcp::SegmentInfo::default();
        for split in [Split::default(), Split { point: true, hour: false }] {
            let mut d = Dataset::<TcpEvents>::create(&dir, split, true).expect("create").labels(&labels);
            for (i, p) in ["a", "b", "a"].into_iter().enumerate() {
                d.append(p, Some(0), |t| t.append(p, i as u64, Some(0), &seg)).expect("append");
            }
            let written = d.finish().expect("finish");
            assert_eq!(written.files.len(), if split.any() { 2 } else { 1 });
            let mut rows = 0;
            for f in &written.files {
                let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(f).expect("open")).expect("parquet");
                let names: Vec<String> = reader.schema().fields().iter().map(|f| f.name().clone()).collect();
                assert_eq!(names[names.len() - 3..], ["dupack_frame", "case", "site"]);
                for b in reader.build().expect("reader") {
                    let b = b.expect("batch");
                    rows += b.num_rows();
                    let case = b.column_by_name("case").expect("case").as_string::<i32>();
                    assert!(case.iter().all(|v| v == Some("INC-1234")));
                }
            }
            assert_eq!(rows, 3);
        }
        let mut batches = Vec::new();
        let mut sink = Batches::<TcpEvents, _>::new(2, |b| {
            batches.push(b);
            Ok(())
        })
        .labels(&labels);
        for i in 0..3 {
            Sink::append(&mut sink, "a", None, &mut |t: &mut TcpEvents| t.append("a", i, None, &seg)).expect("append");
        }
        Box::new(sink).finish().expect("finish");
        assert_eq!(batches.iter().map(RecordBatch::num_rows).collect::<Vec<_>>(), [2, 1]);
        let want = labels.schema(&schema::<TcpEvents>().expect("schema"));
        assert!(batches.iter().all(|b| b.schema() == want));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn schemas_build() {
        for s in [schema::<Packets>(), schema::<TcpEvents>(), schema::<Flows>(), schema::<Findings>(), schema::<Pairs>(), schema::<Matches>()] {
            assert!(s.expect("schema").fields().len() > 5);
        }
    }
}

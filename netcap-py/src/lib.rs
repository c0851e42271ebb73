//! `netcap._netcap`: the engine of `netcap-core` for Python. One call starts a run of
//! [`Analysis`] on a thread of its own with the table observer of the Parquet export
//! ([`Rows`]), each wanted table's rows turned into record batches ([`Batches`]); the
//! batches come to Python through the Arrow C data interface (`arrow-pyarrow`), never
//! as Python objects per row. `python/netcap/__init__.py` is the public API on top.
//!
//! The run and Python meet at a bounded channel: the run waits when Python has not
//! taken the batches it made, so a capture larger than memory streams through. Python
//! waits with the GIL released, and every 100 ms it calls the progress callback and
//! looks for Ctrl-C; an interrupt (or the reader going away) stops the run.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow_array::RecordBatch;
use arrow_pyarrow::ToPyArrow;
use netcap_core::analysis::{Analysis, FrameEvent, Observer, Order, Outcome, PointInfo, Progress};
use netcap_core::capture::{CaptureError, CaptureWarning};
use netcap_core::correlate::{CorrelateOptions, PacketPath};
use netcap_core::decode::{DecodeOptions, UdpTunnel};
use netcap_core::export::parquet::{
    schema, Batches, ExportError, ExportErrorKind, Findings, Flows, Matches, Packets, Pairs, Rows, Table, TcpEvents,
};
use netcap_core::filter::{Filter, Selection, TimeBound};
use netcap_core::flow::table::FlowLimits;
use netcap_core::tcp::TcpAnalysisOptions;
use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;

create_exception!(_netcap, NetcapError, PyException, "Every error netcap raises.");
create_exception!(_netcap, FilterError, NetcapError, "A capture filter libpcap does not compile.");
create_exception!(_netcap, InputError, NetcapError, "A path that cannot be read as netcap's input.");

/// The tables, by name.
const TABLES: [&str; 6] = [Packets::NAME, TcpEvents::NAME, Flows::NAME, Findings::NAME, Pairs::NAME, Matches::NAME];

/// Batches on their way to Python at most.
const QUEUED: usize = 4;

/// What the run sends Python.
enum Message {
    Batch(&'static str, RecordBatch),
    End(Box<End>),
}

/// What is known when the run ends.
struct End {
    /// `netcap correlate --format json` of a time-ordered run.
    correlation: Option<String>,
    /// The points, as `points` in that JSON.
    points: String,
    /// Inputs that could not be opened or stopped at a corrupt record.
    errors: Vec<CaptureError>,
    /// Notes about inputs that did not stop them.
    warnings: Vec<String>,
    /// Frames analysed.
    frames: u64,
    /// Why the run stopped early (interrupted, a table failed), if it did.
    stopped: Option<String>,
}

/// The run's observer: the tables, plus Python's stop flag and the progress counter.
struct Watch<'a> {
    rows: Rows<'a>,
    stop: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
}

impl Watch<'_> {
    fn check(&self) -> Result<(), ExportError> {
        if self.stop.load(Ordering::Relaxed) {
            return Err(ExportError::new("", ExportErrorKind::Io(std::io::Error::new(std::io::ErrorKind::Interrupted, "interrupted"))));
        }
        Ok(())
    }
}

impl Observer for Watch<'_> {
    type Error = ExportError;

    fn frame(&mut self, event: &FrameEvent<'_>) -> Result<(), ExportError> {
        self.check()?;
        self.rows.frame(event)
    }

    fn wants_paths(&self) -> bool {
        self.rows.wants_paths()
    }

    fn paths(&mut self, points: &[PointInfo], paths: &[PacketPath]) -> Result<(), ExportError> {
        self.check()?;
        self.rows.paths(points, paths)
    }

    fn progress(&mut self, progress: &Progress) {
        self.bytes.store(progress.bytes, Ordering::Relaxed);
    }
}

/// One table's batches into the channel.
fn sink<T: Table>(tx: &SyncSender<Message>, rows: usize) -> Batches<T, impl FnMut(RecordBatch) -> Result<(), ExportError>> {
    let tx = tx.clone();
    Batches::new(rows, move |b| {
        tx.send(Message::Batch(T::NAME, b)).map_err(|_| {
            ExportError::new(T::NAME, ExportErrorKind::Io(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the reader went away")))
        })
    })
}

/// Runs `analysis` with the tables named in `tables`, sending their batches and then
/// the end.
fn produce(analysis: Analysis, tables: &[String], rows: usize, tx: &SyncSender<Message>, stop: Arc<AtomicBool>, bytes: Arc<AtomicU64>) {
    let mut r = Rows::new();
    for t in tables {
        r = match t.as_str() {
            Packets::NAME => r.packets(sink::<Packets>(tx, rows)),
            TcpEvents::NAME => r.tcp_events(sink::<TcpEvents>(tx, rows)),
            Flows::NAME => r.flows(sink::<Flows>(tx, rows)),
            Findings::NAME => r.findings(sink::<Findings>(tx, rows)),
            Pairs::NAME => r.pairs(sink::<Pairs>(tx, rows)),
            Matches::NAME => r.matches(sink::<Matches>(tx, rows)),
            _ => r,
        };
    }
    let mut watch = Watch { rows: r, stop, bytes };
    let end = match analysis.run(&mut watch) {
        Ok(outcome) => {
            let stopped = watch.rows.finish(&outcome).err().map(|e| e.to_string());
            ended(outcome, stopped)
        }
        // The observer stopped the run: interrupted, or a table could not be sent.
        Err(e) => End {
            correlation: None,
            points: "[]".to_string(),
            errors: Vec::new(),
            warnings: Vec::new(),
            frames: 0,
            stopped: Some(e.to_string()),
        },
    };
    let _ = tx.send(Message::End(Box::new(end)));
}

fn ended(outcome: Outcome, stopped: Option<String>) -> End {
    End {
        correlation: outcome.correlation().and_then(|c| serde_json::to_string(&c).ok()),
        points: serde_json::to_string(&outcome.points).unwrap_or_else(|_| "[]".to_string()),
        warnings: outcome.warnings.iter().map(CaptureWarning::to_string).collect(),
        frames: outcome.frames,
        errors: outcome.errors,
        stopped,
    }
}

/// A run of the engine, its batches taken one by one ([`Run::next`]).
#[pyclass(module = "netcap._netcap")]
struct Run {
    /// Locked only by the thread Python runs `next` on (the lock makes it shareable
    /// with the GIL released).
    rx: Option<Mutex<Receiver<Message>>>,
    end: Option<Box<End>>,
    stop: Arc<AtomicBool>,
    bytes: Arc<AtomicU64>,
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run").field("ended", &self.end.is_some()).finish()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // The run stops at its next frame or batch.
        self.stop.store(true, Ordering::Relaxed);
    }
}

#[pymethods]
impl Run {
    /// The next `(table, pyarrow.RecordBatch)`, or `None` once the run has ended.
    /// While it waits, `progress(bytes_read)` is called every 100 ms and Ctrl-C
    /// stops the run (KeyboardInterrupt).
    #[pyo3(signature = (progress=None))]
    fn next<'py>(&mut self, py: Python<'py>, progress: Option<Bound<'py, PyAny>>) -> PyResult<Option<(&'static str, Bound<'py, PyAny>)>> {
        loop {
            let Some(rx) = self.rx.as_ref() else { return Ok(None) };
            let got = py.detach(|| match rx.lock() {
                Ok(rx) => rx.recv_timeout(Duration::from_millis(100)),
                Err(_) => Err(RecvTimeoutError::Disconnected),
            });
            match got {
                Ok(Message::Batch(name, batch)) => return Ok(Some((name, batch.to_pyarrow(py)?))),
                Ok(Message::End(end)) => {
                    self.end = Some(end);
                    self.rx = None;
                    return Ok(None);
                }
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = py.check_signals() {
                        self.stop.store(true, Ordering::Relaxed);
                        self.rx = None;
                        return Err(e);
                    }
                    if let Some(p) = &progress {
                        p.call1((self.bytes.load(Ordering::Relaxed),))?;
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.rx = None;
                    return Err(NetcapError::new_err("the analysis thread stopped without a result"));
                }
            }
        }
    }

    /// Bytes of the inputs read so far.
    fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// `netcap correlate --format json` of the run (time order), once it has ended.
    fn correlation(&self) -> Option<String> {
        self.end.as_ref().and_then(|e| e.correlation.clone())
    }

    /// The capture points as JSON (`points` of `netcap correlate --format json`).
    fn points(&self) -> Option<String> {
        self.end.as_ref().map(|e| e.points.clone())
    }

    /// Inputs that could not be read to their end: `(message, file, record, offset)`.
    fn errors(&self) -> Vec<(String, String, Option<u64>, u64)> {
        self.end
            .iter()
            .flat_map(|e| &e.errors)
            .map(|e| (e.to_string(), e.file.clone(), e.record, e.offset))
            .collect()
    }

    /// Notes about inputs that did not stop them.
    fn warnings(&self) -> Vec<String> {
        self.end.iter().flat_map(|e| e.warnings.clone()).collect()
    }

    /// Frames analysed.
    fn frames(&self) -> u64 {
        self.end.as_ref().map_or(0, |e| e.frames)
    }

    /// Why the run stopped before its end, if it did.
    fn stopped(&self) -> Option<String> {
        self.end.as_ref().and_then(|e| e.stopped.clone())
    }
}

/// A filter expression compiled by libpcap, or FilterError with libpcap's message and
/// a caret under the position.
fn compile(what: &str, expr: &str) -> PyResult<Filter> {
    Filter::new(expr).map_err(|e| match e.caret() {
        Some(caret) => FilterError::new_err(format!("{what} {expr:?}: {}\n{caret}", e.message)),
        None => FilterError::new_err(format!("{what} {expr:?}: {e}")),
    })
}

fn time_bound(what: &str, s: &str) -> PyResult<TimeBound> {
    TimeBound::parse(s).map_err(|e| PyValueError::new_err(format!("{what} {s:?}: {e}")))
}

/// Starts a run. `tables`: the tables wanted, by name; `paths`: read as netcap's FILE
/// arguments; `points`: `(name, path, interface)` as `--point NAME=FILE[#IFACE]`;
/// `series`: `(name, [files])`, a point of several files; `order`: `time` (merged,
/// correlated) or `files`.
#[pyfunction]
#[pyo3(signature = (
    tables, paths, *, points=Vec::new(), series=Vec::new(), clock_offsets=Vec::new(), order="time", filter=None,
    inner=None, count=None, start=None, end=None, threads=0, nat=false, decode_as=Vec::new(), max_flows=None,
    flow_timeout_s=None, batch_rows=0
))]
#[allow(clippy::too_many_arguments)]
fn run(
    py: Python<'_>,
    tables: Vec<String>,
    paths: Vec<String>,
    points: Vec<(String, String, Option<String>)>,
    series: Vec<(String, Vec<String>)>,
    clock_offsets: Vec<(String, i64)>,
    order: &str,
    filter: Option<String>,
    inner: Option<String>,
    count: Option<u64>,
    start: Option<String>,
    end: Option<String>,
    threads: usize,
    nat: bool,
    decode_as: Vec<(u16, String)>,
    max_flows: Option<usize>,
    flow_timeout_s: Option<i64>,
    batch_rows: usize,
) -> PyResult<Run> {
    if let Some(t) = tables.iter().find(|t| !TABLES.contains(&t.as_str())) {
        return Err(PyValueError::new_err(format!("unknown table {t:?}: one of {}", TABLES.join(", "))));
    }
    let order = match order {
        "time" => Order::Time,
        "files" => Order::Files,
        o => return Err(PyValueError::new_err(format!("order {o:?}: \"time\" or \"files\""))),
    };
    let mut decode = DecodeOptions::default();
    for (port, proto) in &decode_as {
        let tunnel = match proto.to_ascii_lowercase().as_str() {
            "udp" | "none" => None,
            name => Some(UdpTunnel::from_name(name).ok_or_else(|| {
                let names: Vec<&str> = UdpTunnel::ALL.iter().map(|t| t.name()).collect();
                PyValueError::new_err(format!("decode_as {port}: unknown protocol {name:?}: one of {}, or udp", names.join(", ")))
            })?),
        };
        decode.decode_as(*port, tunnel);
    }
    let mut selection = Selection::new();
    if let Some(f) = &filter {
        selection = selection.filter(compile("filter", f)?);
    }
    if let Some(f) = &inner {
        selection = selection.inner(compile("inner", f)?);
    }
    if let Some(n) = count {
        selection = selection.count(n);
    }
    if let Some(s) = &start {
        selection = selection.from(time_bound("start", s)?);
    }
    if let Some(s) = &end {
        selection = selection.to(time_bound("end", s)?);
    }
    let defaults = FlowLimits::default();
    let limits = FlowLimits {
        max_flows: max_flows.unwrap_or(defaults.max_flows),
        idle_timeout_ns: flow_timeout_s.map_or(defaults.idle_timeout_ns, |s| s.saturating_mul(1_000_000_000)),
    };
    let mut a = Analysis::new()
        .order(order)
        .decode_options(decode)
        .tcp_options(TcpAnalysisOptions { limits })
        .threads(threads)
        .select(selection)
        .correlate_options(CorrelateOptions { nat, ..CorrelateOptions::default() })
        .paths(&paths)
        .map_err(|e| InputError::new_err(e.to_string()))?;
    for (name, offset) in clock_offsets {
        a = a.clock_offset(name, offset);
    }
    for (name, path, iface) in points {
        a = match iface {
            Some(i) => a.point_interface(name, path, i),
            None => a.point(name, path),
        };
    }
    for (name, files) in series {
        a = a.series(name, files);
    }
    let (tx, rx) = sync_channel(QUEUED);
    let stop = Arc::new(AtomicBool::new(false));
    let bytes = Arc::new(AtomicU64::new(0));
    let (s, b) = (stop.clone(), bytes.clone());
    py.detach(|| {
        std::thread::Builder::new()
            .name("netcap-run".to_string())
            .spawn(move || produce(a, &tables, batch_rows, &tx, s, b))
            .map(|_| ())
    })
    .map_err(|e| NetcapError::new_err(format!("cannot start the analysis thread: {e}")))?;
    Ok(Run { rx: Some(Mutex::new(rx)), end: None, stop, bytes })
}

/// The Arrow schema of table `name`, as the Parquet export writes it.
#[pyfunction]
fn table_schema(py: Python<'_>, name: &str) -> PyResult<Py<PyAny>> {
    let s = match name {
        Packets::NAME => schema::<Packets>(),
        TcpEvents::NAME => schema::<TcpEvents>(),
        Flows::NAME => schema::<Flows>(),
        Findings::NAME => schema::<Findings>(),
        Pairs::NAME => schema::<Pairs>(),
        Matches::NAME => schema::<Matches>(),
        t => return Err(PyValueError::new_err(format!("unknown table {t:?}: one of {}", TABLES.join(", ")))),
    }
    .map_err(|e| NetcapError::new_err(e.to_string()))?;
    Ok(s.as_ref().to_pyarrow(py)?.unbind())
}

#[pymodule]
fn _netcap(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Run>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(table_schema, m)?)?;
    m.add("NetcapError", m.py().get_type::<NetcapError>())?;
    m.add("FilterError", m.py().get_type::<FilterError>())?;
    m.add("InputError", m.py().get_type::<InputError>())?;
    m.add("TABLES", TABLES.to_vec())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

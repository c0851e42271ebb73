//! The engine every front end runs: from capture files to decoded frames, TCP flows,
//! packets matched across capture points and findings, in one call.
//!
//! [`Analysis`] says what to read and how; [`Analysis::run`] reads every input once and
//! returns the [`Outcome`]: the capture points, the TCP flow records, the correlation
//! [`Report`] with its findings. An [`Observer`] passed to `run` sees every frame
//! (decoded, checksums judged, TCP segment analysed), every finished flow and every
//! packet's path as the run goes: that is where a tool hangs its own work
//! (`netcap report`, `extract` and `export` are such observers).
//!
//! # What a run does
//! 1. **Points.** Each input (a file, standard input, any reader) holds one or more
//!    capture points ([`crate::capture`]: one per pcapng interface, per LINUX_SLL2
//!    ifindex). Points are numbered in order of first appearance and named by the
//!    reader, or by [`Analysis::point`].
//! 2. **Clock offsets.** Points on different hosts have different clocks: with more
//!    than one input, the offset of every point against the first is estimated from
//!    the first frames of each input ([`crate::correlate::clock`]) and applied when it
//!    exceeds both its uncertainty and 100 µs; [`Analysis::clock_offset`] gives one
//!    instead.
//! 3. **Order.** [`Order::Time`] merges the frames of every input in capture-time
//!    order (offsets applied), which the correlation needs; [`Order::Files`] reads the
//!    inputs one after the other, as `netcap summary`, `flows` and `packets` do.
//! 4. **Per frame:** decode and checksum verdicts ([`crate::decode`]), the TCP analysis
//!    per point ([`crate::tcp`]), the correlator ([`crate::correlate`], time order
//!    only), then the observer.
//! 5. **At the end:** the live flows finish, the correlator accounts what it holds and
//!    lays out its report with the findings ([`crate::findings`]).
//!
//! # Errors
//! An input that cannot be opened, or that stops at a corrupt record, does not stop
//! the run: the error goes to [`Observer::error`] and into [`Outcome::errors`], and
//! the frames before it count. Only the observer can stop a run
//! ([`AnalysisError::Observer`]).
//!
//! # Examples
//! The correlation of `netcap correlate --format json`, from the flannel lab capture
//! of the client pod and the server node's underlay:
//! ```
//! use netcap_core::analysis::Analysis;
//!
//! let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/lab/flannel/");
//! let outcome = Analysis::new()
//!     .file(format!("{root}client_pod.pcap"))
//!     .point("node2", format!("{root}server_underlay.pcap"))
//!     .run(&mut ())?;
//! let names: Vec<&str> = outcome.points.iter().map(|p| p.name.as_str()).collect();
//! assert_eq!(names, ["client_pod", "node2"]);
//! let report = outcome.report.as_ref().expect("a time-ordered run correlates");
//! assert_eq!(report.findings[0].kind, "dropped_bad_outer_checksum");
//! let json = serde_json::to_string(&outcome.correlation()).unwrap();
//! assert!(json.starts_with(r#"{"points":[{"name":"client_pod""#));
//! # Ok::<(), netcap_core::analysis::AnalysisError<std::convert::Infallible>>(())
//! ```

mod chunk;
mod estimate;
mod inputs;
mod observer;
mod names;
mod points;
mod run;
mod select;

use std::fmt;
use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use serde::Serialize;

use crate::capture::{CaptureError, CaptureWarning};
use crate::correlate::{CorrelateOptions, Report};
use crate::bundle::{Bundle, HostFacts};
use crate::decode::DecodeOptions;
use crate::filter::{Selection, SelectionReport};
use crate::flow::table::TableStats;
use crate::tcp::stats::Samples;
use crate::tcp::{FlowRecord, TcpAnalysisOptions};

pub use observer::{FrameEvent, Observer, Progress};
pub use names::{Names, NAMES_PER_ADDRESS};
pub use points::{FileSpan, PointInfo};

use inputs::Input;
use points::Rename;

/// The order in which a run reads its inputs' frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Order {
    /// Every input at once, frames merged in capture-time order after each point's
    /// clock offset (ties: input order, then frame number); the correlation runs.
    #[default]
    Time,
    /// Each input to its end, one after the other, in the order given; no clock
    /// estimate, no correlation.
    Files,
}

/// What to analyse and how: the builder of a run ([module docs](self)).
pub struct Analysis {
    inputs: Vec<Input>,
    renames: Vec<Rename>,
    offsets: Vec<(String, i64)>,
    decode: DecodeOptions,
    tcp: TcpAnalysisOptions,
    correlate: CorrelateOptions,
    order: Order,
    keep_flows: bool,
    max_flow_records: usize,
    threads: usize,
    selection: Selection,
    series: Vec<Series>,
    bundles: Vec<Bundle>,
    stop: Option<Arc<AtomicBool>>,
}

/// Files read as one capture point ([`Analysis::series`]).
#[derive(Debug, Clone)]
struct Series {
    name: String,
    files: Vec<PathBuf>,
    /// Points named before this series (the files are read in the order named).
    after_renames: usize,
}

impl Default for Analysis {
    fn default() -> Self {
        Analysis::new()
    }
}

impl fmt::Debug for Analysis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Analysis")
            .field("inputs", &self.inputs.iter().map(Input::name).collect::<Vec<_>>())
            .field("renames", &self.renames)
            .field("offsets", &self.offsets)
            .field("decode", &self.decode)
            .field("tcp", &self.tcp)
            .field("correlate", &self.correlate)
            .field("order", &self.order)
            .field("keep_flows", &self.keep_flows)
            .field("max_flow_records", &self.max_flow_records)
            .field("threads", &self.threads)
            .field("selection", &self.selection)
            .field("series", &self.series)
            .field("bundles", &self.bundles)
            .field("stop", &self.stop)
            .finish()
    }
}

impl Analysis {
    /// No inputs yet; default options, time order.
    pub fn new() -> Self {
        Analysis {
            inputs: Vec::new(),
            renames: Vec::new(),
            offsets: Vec::new(),
            decode: DecodeOptions::default(),
            tcp: TcpAnalysisOptions::default(),
            correlate: CorrelateOptions::default(),
            order: Order::Time,
            keep_flows: true,
            max_flow_records: MAX_FLOW_RECORDS,
            threads: 0,
            selection: Selection::new(),
            series: Vec::new(),
            bundles: Vec::new(),
            stop: None,
        }
    }

    /// Adds a capture file (pcap or pcapng, optionally gzip-, zstd- or xz-compressed). The path is
    /// the file's name in points, errors and [`PointInfo::file`]; `-` is a file named
    /// `-`, not standard input ([`Analysis::stdin`]).
    pub fn file(mut self, path: impl Into<PathBuf>) -> Self {
        self.inputs.push(Input::Path(path.into()));
        self
    }

    /// Adds several capture files, in order.
    pub fn files<P: Into<PathBuf>>(mut self, paths: impl IntoIterator<Item = P>) -> Self {
        self.inputs.extend(paths.into_iter().map(|p| Input::Path(p.into())));
        self
    }

    /// Adds every capture file under directory `dir`, recursively
    /// ([`crate::capture::find_captures`]: sorted by path, whatever their names), each
    /// file's first point named by its path relative to `dir`
    /// ([`crate::capture::relative_name`]: `node1/eth0` for `dir/node1/eth0.pcap.gz`).
    /// A directory that cannot be listed is added as an input that fails to open.
    pub fn directory(self, dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        match crate::capture::find_captures(&dir) {
            Ok(files) => self.files_in(&dir, files),
            Err(_) => self.file(dir),
        }
    }

    /// Adds capture files found under `dir` (by [`crate::capture::find_captures`], say),
    /// each file's first point named by its path relative to `dir`, as
    /// [`Analysis::directory`] does.
    pub fn files_in(mut self, dir: &std::path::Path, files: impl IntoIterator<Item = PathBuf>) -> Self {
        for f in files {
            let name = crate::capture::relative_name(dir, &f);
            self = self.file(&f).point(name, f);
        }
        self
    }

    /// Adds a Kubernetes capture bundle ([`crate::bundle`]): its capture files, each
    /// point named `HOST/IFNAME` (by the LINUX_SLL2 interface index and the bundle's
    /// `ip -d -j addr show`), or `HOST` for a capture without interface indexes. The
    /// findings about its points cite the node's own kernel counters
    /// ([`Outcome::hosts`]). Name the hosts of several bundles first with
    /// [`Bundle::name_hosts`].
    pub fn bundle(mut self, bundle: Bundle) -> Self {
        let host = bundle.facts.host.clone();
        for capture in &bundle.captures {
            // An input here, in the order inputs are given.
            self = self.file(capture);
            for (ifindex, ifname) in &bundle.facts.interfaces {
                self = self.point_interface(format!("{host}/{ifname}"), capture, ifindex.to_string());
            }
            self = self.point(host.clone(), capture);
        }
        self.bundles.push(bundle);
        self
    }

    /// Adds each path as `netcap`'s FILE arguments read it: a Kubernetes capture
    /// bundle ([`Bundle::open`]; the hosts of several named together,
    /// [`Bundle::name_hosts`]), a directory (every capture in it,
    /// [`Analysis::directory`]), `-` (standard input), else a capture file. Each is
    /// read in its place among the paths.
    ///
    /// # Errors
    /// A bundle that cannot be unpacked or read, a directory that cannot be listed or
    /// holds no capture file, a file (or `-`) given twice.
    pub fn paths<P: AsRef<std::path::Path>>(mut self, paths: impl IntoIterator<Item = P>) -> Result<Self, InputError> {
        let paths: Vec<PathBuf> = paths.into_iter().map(|p| p.as_ref().to_path_buf()).collect();
        refuse_repeats(&paths)?;
        let mut bundles = Vec::new();
        let mut which = Vec::new();
        for p in &paths {
            let bundle = if p.as_os_str() == "-" { None } else { Bundle::open(p)? };
            which.push(bundle.is_some());
            bundles.extend(bundle);
        }
        Bundle::name_hosts(&mut bundles);
        let mut bundles = bundles.into_iter();
        for (p, is_bundle) in paths.iter().zip(which) {
            self = if is_bundle {
                match bundles.next() {
                    Some(b) => self.bundle(b),
                    None => self,
                }
            } else if p.as_os_str() == "-" {
                self.stdin()
            } else if p.is_dir() {
                let error = |error| InputError { path: p.to_string_lossy().into_owned(), error };
                let found = crate::capture::find_captures(p).map_err(error)?;
                if found.is_empty() {
                    return Err(error(std::io::Error::other("no capture file in this directory")));
                }
                self.files_in(p, found)
            } else {
                self.file(p)
            };
        }
        Ok(self)
    }

    /// Adds standard input, named `-` (its points are named `stdin`).
    pub fn stdin(mut self) -> Self {
        self.inputs.push(Input::Stdin);
        self
    }

    /// Adds a capture read from any reader (a socket, bytes in memory); `name` stands
    /// for a file name in points and errors.
    pub fn reader(mut self, name: impl Into<String>, reader: impl Read + Send + 'static) -> Self {
        self.inputs.push(Input::Reader { name: name.into(), reader: Some(Box::new(reader)) });
        self
    }

    /// Adds a capture point read from several files: a ring buffer (`tcpdump -C 100
    /// -W 10 -w node1.pcap` → `node1.pcap0` … `node1.pcap9`), files rotated by time
    /// (`-G`), Wireshark's ring files. The files are read one after the other, ordered
    /// by the time of their first frame (a file without frames last), after the inputs
    /// given, in the order points are named; frames are numbered on across them, as if the files were one; each
    /// interface is one point across the files, the first named `name`, the others
    /// `name#IFACE`. A time of more than 1 s between one file's last frame and the next
    /// one's first, or an overlap, is a warning ([`crate::capture::WarningKind::FileGap`]);
    /// [`PointInfo::files`] lists the files with their frames and times. Files after
    /// the first are streamed, not memory-mapped.
    pub fn series<P: Into<PathBuf>>(mut self, name: impl Into<String>, files: impl IntoIterator<Item = P>) -> Self {
        let after_renames = self.renames.len();
        self.series.push(Series { name: name.into(), files: files.into_iter().map(Into::into).collect(), after_renames });
        self
    }

    /// Names the (first) point of capture file `path`, and adds the file unless it is
    /// among the inputs already (`netcap --point NAME=FILE`).
    pub fn point(self, name: impl Into<String>, path: impl Into<PathBuf>) -> Self {
        self.named(name.into(), path.into(), None)
    }

    /// Names one interface of capture file `path`: its name (`if_name`), pcapng
    /// interface number or LINUX_SLL2 ifindex (`netcap --point NAME=FILE#IFACE`); adds
    /// the file unless it is among the inputs already.
    pub fn point_interface(self, name: impl Into<String>, path: impl Into<PathBuf>, interface: impl Into<String>) -> Self {
        self.named(name.into(), path.into(), Some(interface.into()))
    }

    fn named(mut self, name: String, path: PathBuf, interface: Option<String>) -> Self {
        // The file is read after the inputs given, unless it is one of them (`run`).
        let file = path.to_string_lossy().into_owned();
        self.renames.push(Rename { name, file, interface });
        self
    }

    /// Adds `offset_ns` to the timestamps of the point named `point` (its clock is that
    /// far behind the first point's); such a point is not estimated.
    pub fn clock_offset(mut self, point: impl Into<String>, offset_ns: i64) -> Self {
        self.offsets.push((point.into(), offset_ns));
        self
    }

    /// Decoding options: extra VXLAN / Geneve ports, depth caps.
    pub fn decode_options(mut self, options: DecodeOptions) -> Self {
        self.decode = options;
        self
    }

    /// TCP analysis options: the flow table's size and idle timeout.
    pub fn tcp_options(mut self, options: TcpAnalysisOptions) -> Self {
        self.tcp = options;
        self
    }

    /// Correlation options: window, NAT matching, per-packet rows in the report.
    pub fn correlate_options(mut self, options: CorrelateOptions) -> Self {
        self.correlate = options;
        self
    }

    /// [`Order::Time`] (the default) or [`Order::Files`].
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// Whether [`Outcome::flows`] keeps every flow record (default yes). Off, flows go
    /// only to [`Observer::flow`] and memory does not grow with the number of flows.
    /// A time-ordered run keeps them regardless: its findings need them.
    pub fn keep_flows(mut self, keep: bool) -> Self {
        self.keep_flows = keep;
        self
    }

    /// Most flow records [`Outcome::flows`] keeps (default [`MAX_FLOW_RECORDS`]): the
    /// records past it are still analysed and given to [`Observer::flow`], and counted
    /// in [`TableStats::not_kept`](crate::flow::table::TableStats::not_kept); a
    /// time-ordered run says so in its report's notes. A flood of one-packet flows then
    /// costs memory up to this, not per flow.
    pub fn max_flow_records(mut self, most: usize) -> Self {
        self.max_flow_records = most.max(1);
        self
    }

    /// Ends the run early once `flag` is set (by a Ctrl-C handler, a timer, another
    /// thread): reading stops at the next frame, and the run finishes as if the inputs
    /// ended there — every frame read so far analysed and delivered, flows closed,
    /// findings made — with [`Outcome::interrupted`] set. An observer's error, by
    /// contrast, ends the run without an outcome.
    pub fn stop_on(mut self, flag: Arc<AtomicBool>) -> Self {
        self.stop = Some(flag);
        self
    }

    /// Threads the run uses, the calling thread included; 0 (the default) is one per
    /// core. The outcome and everything the observer sees are the same for every
    /// number: only the time changes.
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads;
        self
    }

    /// Which frames to analyse: a tcpdump filter expression, one on the innermost
    /// packet, the first N, a time window ([`crate::filter`]). Frames left out are
    /// read but not decoded further, analysed, correlated nor shown to the observer;
    /// the clock estimate still uses every frame.
    pub fn select(mut self, selection: Selection) -> Self {
        self.selection = selection;
        self
    }

    /// Reads every input once, through `observer`, and returns what was found.
    ///
    /// # Errors
    /// Only the observer's: the first `Err` it returns stops the run
    /// ([`AnalysisError::Observer`]). Capture errors are in [`Outcome::errors`].
    pub fn run<O: Observer + ?Sized>(self, observer: &mut O) -> Result<Outcome, AnalysisError<O::Error>> {
        run::run(self, observer)
    }
}

/// Default of [`Analysis::max_flow_records`]: 2,097,152 records (each about 1.3 KiB with
/// its statistics, so under 3 GiB at worst).
pub const MAX_FLOW_RECORDS: usize = 1 << 21;

/// What a run found.
#[derive(Debug)]
#[non_exhaustive]
pub struct Outcome {
    /// The capture points, by number.
    pub points: Vec<PointInfo>,
    /// The correlation of a time-ordered run (`None` in [`Order::Files`]).
    pub report: Option<Report>,
    /// Every TCP flow record, point names filled in, by id ([`Analysis::keep_flows`]).
    pub flows: Vec<FlowRecord>,
    /// What happened in the TCP flow table (created, expired, evicted, peak).
    pub table: TableStats,
    /// Every Karn-filtered RTT sample, all flows together (bounded reservoir).
    pub karn: Samples,
    /// The inputs, by index, as named: `FILE` arguments first, then the files only
    /// [`Analysis::point`] names.
    pub inputs: Vec<String>,
    /// Inputs that could not be opened or stopped at a corrupt record.
    pub errors: Vec<CaptureError>,
    /// Notes about inputs that did not stop them.
    pub warnings: Vec<CaptureWarning>,
    /// Frames delivered, every point together.
    pub frames: u64,
    /// Frames read, every point together, selected or not ([`Analysis::select`]);
    /// a count reached stops reading early.
    pub read: u64,
    /// The selection ([`Analysis::select`]); `None` when every frame was selected.
    pub selection: Option<SelectionReport>,
    /// What the bundles read ([`Analysis::bundle`]) say about their nodes.
    pub hosts: Vec<Arc<HostFacts>>,
    /// The names the inputs give addresses (pcapng Name Resolution Blocks: pods and
    /// services, hosts a capture tool resolved).
    pub names: Names,
    /// The bundles, kept open: files unpacked from a tarball stay until the outcome is
    /// dropped (`report` and `extract` read frames again after the run).
    pub bundles: Vec<Bundle>,
    /// Whether the run was stopped early ([`Analysis::stop_on`]): everything in the
    /// outcome covers the frames read until then.
    pub interrupted: bool,
}

impl Outcome {
    /// Whether the run had no input, or an input failed ([`Outcome::errors`]).
    pub fn failed(&self) -> bool {
        self.inputs.is_empty() || !self.errors.is_empty()
    }

    /// Whether nothing could be read: no frame was read and an input failed (every
    /// input unreadable, or the readable ones empty). A front end then has no result
    /// to show, only the errors.
    pub fn read_nothing(&self) -> bool {
        self.read == 0 && !self.errors.is_empty()
    }

    /// The points' names by number.
    pub fn point_names(&self) -> Vec<String> {
        self.points.iter().map(|p| p.name.clone()).collect()
    }

    /// The points and the correlation report as one serialisable value: the JSON of
    /// `netcap correlate --format json` (`docs/output.md`). `None` in [`Order::Files`].
    pub fn correlation(&self) -> Option<Correlation<'_>> {
        Some(Correlation { interrupted: self.interrupted, points: &self.points, selection: self.selection.as_ref(), names: &self.names, report: self.report.as_ref()? })
    }
}

/// The points and report of a time-ordered run ([`Outcome::correlation`]).
#[derive(Debug, Clone, Copy, Serialize)]
#[non_exhaustive]
pub struct Correlation<'a> {
    /// Whether the run was stopped early (`interrupted: true`, absent otherwise): the
    /// report covers the frames read until then.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// The capture points, by number (`points` in the JSON).
    pub points: &'a [PointInfo],
    /// The selection, when frames were selected (`selection`, absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selection: Option<&'a SelectionReport>,
    /// The names the captures give addresses (`names`, absent when none).
    #[serde(skip_serializing_if = "Names::is_empty")]
    pub names: &'a Names,
    /// The report, its fields at the top level of the JSON.
    #[serde(flatten)]
    pub report: &'a Report,
}

/// A file (or standard input) named twice would be two capture points holding the same
/// packets: every packet "seen twice" and matched with itself. Paths that name one file
/// (`a.pcap`, `./a.pcap`, a link to it) are the same.
fn refuse_repeats(paths: &[PathBuf]) -> Result<(), InputError> {
    let mut seen = std::collections::HashSet::new();
    for p in paths {
        let key = if p.as_os_str() == "-" { p.clone() } else { std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) };
        if !seen.insert(key) {
            let what = if p.as_os_str() == "-" { "given twice: standard input can be read once" } else { "given twice (or under two names): each file is read once, as its own capture points" };
            return Err(InputError { path: p.to_string_lossy().into_owned(), error: std::io::Error::new(std::io::ErrorKind::InvalidInput, what) });
        }
    }
    Ok(())
}

/// A path that could not be added to a run ([`Analysis::paths`]).
#[derive(Debug)]
#[non_exhaustive]
pub struct InputError {
    /// The path, as given.
    pub path: String,
    /// What went wrong.
    pub error: std::io::Error,
}

impl From<crate::bundle::BundleError> for InputError {
    fn from(e: crate::bundle::BundleError) -> Self {
        InputError { path: e.path, error: e.error }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.error)
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// Why a run stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnalysisError<E> {
    /// The observer returned this error.
    Observer(E),
}

impl<E: fmt::Display> fmt::Display for AnalysisError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AnalysisError::Observer(e) => e.fmt(f),
        }
    }
}

impl<E: std::error::Error + 'static> std::error::Error for AnalysisError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            AnalysisError::Observer(e) => Some(e),
        }
    }
}

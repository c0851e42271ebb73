//! The engine's run from the command line: [`AnalysisArgs`] and [`Common`] into a
//! [`netcap_core::analysis::Analysis`], messages and progress through [`Messages`],
//! and `netcap correlate` itself.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use netcap_core::analysis::{Analysis, FrameEvent, Observer, Order, PointInfo, Progress};
use netcap_core::capture::{CaptureError, CaptureWarning};
use netcap_core::correlate::{CorrelateOptions, PacketPath};
use netcap_core::decode::{DecodeOptions, Decoder, UdpTunnel};
use netcap_core::bundle::Bundle;
use netcap_core::filter::{parse_duration, Filter, Selection};
use netcap_core::flow::table::FlowLimits;
use netcap_core::tcp::{FlowRecord, SegmentInfo, TcpAnalysisOptions};

use crate::{text, AnalysisArgs, Common, CorrelateArgs, SummaryFormat};

/// `--decode-as PORT=PROTO`, or tshark's spelling `udp.port==PORT,PROTO`; PROTO `udp`
/// (or `none`) makes the port plain UDP.
pub fn parse_decode_as(s: &str) -> Result<(u16, Option<UdpTunnel>), String> {
    let (port, proto) = match s.strip_prefix("udp.port==") {
        Some(rest) => rest.split_once(','),
        None => s.split_once('='),
    }
    .ok_or_else(|| format!("expected PORT=PROTO (or udp.port==PORT,PROTO), got {s:?}"))?;
    let port: u16 = port.trim().parse().map_err(|_| format!("{port:?} is not a UDP port"))?;
    let proto = proto.trim().to_ascii_lowercase();
    match proto.as_str() {
        "udp" | "none" => Ok((port, None)),
        name => UdpTunnel::from_name(name).map(|t| (port, Some(t))).ok_or_else(|| {
            let names: Vec<&str> = UdpTunnel::ALL.iter().map(|t| t.name()).collect();
            format!("unknown protocol {name:?}: one of {}, or udp", names.join(", "))
        }),
    }
}

impl Common {
    /// The decoding options: the default ports, then `--vxlan-port`, `--geneve-port` and
    /// `--decode-as` in that order (a later one wins for a port named twice).
    pub fn decode_options(&self) -> DecodeOptions {
        let mut decode = DecodeOptions::default();
        for &p in &self.vxlan_ports {
            decode.decode_as(p, Some(UdpTunnel::Vxlan));
        }
        for &p in &self.geneve_ports {
            decode.decode_as(p, Some(UdpTunnel::Geneve));
        }
        for &(p, t) in &self.decode_as {
            decode.decode_as(p, t);
        }
        decode
    }

    /// The decoder the run uses (to decode a logged frame again).
    pub fn decoder(&self) -> Decoder {
        Decoder::new(self.decode_options())
    }

    /// The run over FILE arguments (`-` is standard input) with the decoding and TCP
    /// options and the selection, in `order`. The message says what is wrong with an
    /// option.
    pub fn analysis(&self, order: Order) -> Result<Analysis, String> {
        let decode = self.decode_options();
        let limits = FlowLimits { max_flows: self.max_flows, idle_timeout_ns: self.flow_timeout.saturating_mul(1_000_000_000) };
        let mut a = Analysis::new()
            .order(order)
            .decode_options(decode)
            .tcp_options(TcpAnalysisOptions { limits })
            .max_flow_records(self.max_flow_records)
            .threads(self.threads)
            .stop_on(crate::interrupt::flag())
            .select(self.selection()?);
        // Kubernetes capture bundles, directories, standard input, files: as the
        // library reads paths.
        a = a.paths(&self.files).map_err(|e| e.to_string())?;
        Ok(a)
    }

    /// The capture filter, as given with `-f`, `-F` or after `--`.
    fn filter_expression(&self) -> Result<Option<(String, String)>, String> {
        let mut given = Vec::new();
        if let Some(f) = &self.filter {
            given.push(("-f".to_string(), f.clone()));
        }
        if let Some(path) = &self.filter_file {
            let text = std::fs::read_to_string(path).map_err(|e| format!("-F {}: {e}", path.display()))?;
            // As tcpdump reads -F: `#` to the end of a line is a comment.
            let expr: Vec<&str> = text.lines().map(|l| l.split_once('#').map_or(l, |x| x.0)).collect();
            given.push((format!("-F {}", path.display()), expr.join(" ").split_whitespace().collect::<Vec<_>>().join(" ")));
        }
        if !self.expression.is_empty() {
            given.push(("the expression after --".to_string(), self.expression.join(" ")));
        }
        match given.len() {
            0 => Ok(None),
            1 => Ok(given.pop()),
            _ => Err(format!(
                "the capture filter is given {} ways ({}): give it once",
                given.len(),
                given.iter().map(|g| g.0.as_str()).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// `-f`/`-F`/`-- EXPR`, `--inner`, `-c`, `--from`, `--to`; a bad expression's
    /// message has libpcap's words and a caret under the position.
    pub fn selection(&self) -> Result<Selection, String> {
        let compile = |what: &str, expr: &str| {
            Filter::new(expr).map_err(|e| match e.caret() {
                Some(caret) => format!("{what} {expr:?}: {}\n{}", e.message, indent(&caret)),
                None => format!("{what} {expr:?}: {e}"),
            })
        };
        let mut s = Selection::new();
        if let Some((what, expr)) = self.filter_expression()? {
            s = s.filter(compile(&what, &expr)?);
        }
        if let Some(expr) = &self.inner {
            s = s.inner(compile("--inner", expr)?);
        }
        if let Some(n) = self.count {
            s = s.count(n);
        }
        if let Some(t) = self.from {
            s = s.from(t);
        }
        if let Some(t) = self.to {
            s = s.to(t);
        }
        Ok(s)
    }
}

/// The files of `--point NAME=TARGET` when TARGET is a pattern (`node1.pcap*`,
/// expanded by netcap: a shell leaves `NAME=…*` alone) or a directory (every capture in
/// it); `None` for a file.
fn point_files(target: &str) -> Result<Option<Vec<PathBuf>>, String> {
    if Path::new(target).is_dir() {
        let files = netcap_core::capture::find_captures(Path::new(target)).map_err(|e| e.to_string())?;
        if files.is_empty() {
            return Err(format!("no capture file in directory {target}"));
        }
        return Ok(Some(files));
    }
    if !target.contains(['*', '?', '[']) {
        return Ok(None);
    }
    let paths = glob::glob(target).map_err(|e| format!("bad pattern: {e}"))?;
    let mut files: Vec<PathBuf> = paths.filter_map(Result::ok).filter(|p| p.is_file()).collect();
    files.sort();
    if files.is_empty() {
        return Err(format!("no file matches {target}"));
    }
    Ok(Some(files))
}

/// Each line of `text` indented by four spaces.
fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n")
}

impl AnalysisArgs {
    /// The time-ordered run of `correlate`, `report`, `extract` and `export`: files,
    /// `--point`, `--clock-offset`, `--nat`; `list_packets` keeps every packet's row in
    /// the report. The message names a bad argument.
    pub fn analysis(&self, list_packets: bool) -> Result<Analysis, String> {
        let mut a = self.common.analysis(Order::Time)?;
        for o in &self.clock_offsets {
            match o.split_once('=').and_then(|(n, d)| Some((n.to_string(), parse_duration(d)?))) {
                Some((name, ns)) => a = a.clock_offset(name, ns),
                None => return Err(format!("--clock-offset {o}: expected NAME=±DURATION (e.g. node2=-1.5ms)")),
            }
        }
        for spec in &self.points {
            let Some((name, target)) = spec.split_once('=') else {
                return Err(format!("--point {spec}: expected NAME=FILE[#IFACE]"));
            };
            if let Some(bundle) = Bundle::open(Path::new(target)).map_err(|e| format!("--point {spec}: {e}"))? {
                a = a.bundle(bundle.with_host(name));
                continue;
            }
            a = match point_files(target).map_err(|e| format!("--point {spec}: {e}"))? {
                Some(files) if files.len() == 1 && !Path::new(target).is_dir() => a.point(name, &files[0]),
                Some(files) => a.series(name, files),
                None => match target.rsplit_once('#') {
                    Some((file, iface)) => a.point_interface(name, file, iface),
                    None => a.point(name, target),
                },
            };
        }
        Ok(a.correlate_options(CorrelateOptions {
            list_packets,
            nat: self.nat,
            max_path_points: self.max_path_points,
            ..CorrelateOptions::default()
        }))
    }

    /// Whether there is anything to read.
    pub fn has_inputs(&self) -> bool {
        !self.common.files.is_empty() || !self.points.is_empty()
    }

    /// Every file the run reads, for the progress bar.
    pub fn progress_files(&self) -> Vec<PathBuf> {
        self.inputs().map(PathBuf::from).collect()
    }
}

/// An observer that says what happens on stderr — capture errors and warnings, the
/// progress bar — and hands everything else to `inner`.
#[derive(Debug)]
pub struct Messages<O> {
    pub inner: O,
    progress: crate::ui::Progress,
}

impl<O> Messages<O> {
    pub fn new(files: &[PathBuf], inner: O) -> Self {
        Messages { inner, progress: crate::ui::Progress::new(files) }
    }
}

impl<O: Observer> Observer for Messages<O> {
    type Error = O::Error;

    fn frame(&mut self, event: &FrameEvent<'_>) -> Result<(), Self::Error> {
        self.inner.frame(event)
    }

    fn segment(&mut self, event: &FrameEvent<'_>, segment: &SegmentInfo) -> Result<(), Self::Error> {
        self.inner.segment(event, segment)
    }

    fn flow(&mut self, points: &[PointInfo], flow: &FlowRecord) -> Result<(), Self::Error> {
        self.inner.flow(points, flow)
    }

    fn wants_paths(&self) -> bool {
        self.inner.wants_paths()
    }

    fn paths(&mut self, points: &[PointInfo], paths: &[PacketPath]) -> Result<(), Self::Error> {
        self.inner.paths(points, paths)
    }

    fn error(&mut self, error: &CaptureError) {
        crate::ui::error(error);
        self.inner.error(error);
    }

    fn warning(&mut self, warning: &CaptureWarning) {
        crate::ui::warn(warning);
        self.inner.warning(warning);
    }

    fn progress(&mut self, progress: &Progress) {
        self.progress.update(progress);
        self.inner.progress(progress);
    }
}

pub fn run(args: &CorrelateArgs, out: &mut impl Write) -> io::Result<bool> {
    if !args.analysis.has_inputs() {
        crate::ui::error("no capture files given");
        return Ok(true);
    }
    let analysis = match args.analysis.analysis(args.packets) {
        Ok(a) => a,
        Err(msg) => {
            crate::ui::error(msg);
            return Ok(true);
        }
    };
    let mut messages = Messages::new(&args.analysis.progress_files(), ());
    let outcome = match analysis.run(&mut messages) {
        Ok(o) => o,
        Err(e) => {
            crate::ui::error(e);
            return Ok(true);
        }
    };
    // Nothing read: the errors said so; no empty tables.
    if outcome.read_nothing() {
        return Ok(true);
    }
    let Some(correlation) = outcome.correlation() else { return Ok(true) };
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &correlation)?;
            out.write_all(b"\n")?;
        }
        SummaryFormat::Text => {
            text::interrupted(out, &outcome)?;
            text::selection(out, outcome.selection.as_ref(), outcome.frames)?;
            text::correlate(out, correlation.points, correlation.report, correlation.names, &args.view)?;
        }
    }
    Ok(outcome.failed())
}

//! The engine's run from the command line: [`AnalysisArgs`] and [`Common`] into a
//! [`netcap_core::analysis::Analysis`], messages and progress through [`Messages`],
//! and `netcap correlate` itself.

use std::io::{self, Write};
use std::path::PathBuf;

use netcap_core::analysis::{Analysis, FrameEvent, Observer, Order, PointInfo, Progress};
use netcap_core::capture::{CaptureError, CaptureWarning};
use netcap_core::correlate::{CorrelateOptions, PacketPath};
use netcap_core::decode::{DecodeOptions, Decoder, UdpTunnel};
use netcap_core::flow::table::FlowLimits;
use netcap_core::tcp::{FlowRecord, SegmentInfo, TcpOptions};

use crate::{text, AnalysisArgs, Common, CorrelateArgs, SummaryFormat};

/// `±1.5s`, `-250ms`, `+40us`, `100ns`, or plain seconds.
fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    let (num, unit) = rest.split_at(rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len()));
    let scale = match unit {
        "" | "s" => 1e9,
        "ms" => 1e6,
        "us" | "µs" => 1e3,
        "ns" => 1.0,
        _ => return None,
    };
    let v: f64 = num.parse().ok()?;
    Some((sign * v * scale).round() as i64)
}

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
    /// options, in `order`.
    pub fn analysis(&self, order: Order) -> Analysis {
        let decode = self.decode_options();
        let limits = FlowLimits { max_flows: self.max_flows, idle_timeout_ns: self.flow_timeout.saturating_mul(1_000_000_000) };
        let mut a = Analysis::new().order(order).decode_options(decode).tcp_options(TcpOptions { limits }).threads(self.threads);
        for f in &self.files {
            a = if f.as_os_str() == "-" { a.stdin() } else { a.file(f) };
        }
        a
    }
}

impl AnalysisArgs {
    /// The time-ordered run of `correlate`, `report`, `extract` and `export`: files,
    /// `--point`, `--clock-offset`, `--nat`; `list_packets` keeps every packet's row in
    /// the report. The message names a bad argument.
    pub fn analysis(&self, list_packets: bool) -> Result<Analysis, String> {
        let mut a = self.common.analysis(Order::Time);
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
            a = match target.rsplit_once('#') {
                Some((file, iface)) => a.point_interface(name, file, iface),
                None => a.point(name, target),
            };
        }
        Ok(a.correlate_options(CorrelateOptions { list_packets, nat: self.nat, ..CorrelateOptions::default() }))
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
    let Some(correlation) = outcome.correlation() else { return Ok(true) };
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &correlation)?;
            out.write_all(b"\n")?;
        }
        SummaryFormat::Text => text::correlate(out, correlation.points, correlation.report)?,
    }
    Ok(outcome.failed())
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("+1.234567s"), Some(1_234_567_000));
        assert_eq!(parse_duration("-250ms"), Some(-250_000_000));
        assert_eq!(parse_duration("40us"), Some(40_000));
        assert_eq!(parse_duration("7ns"), Some(7));
        assert_eq!(parse_duration("2"), Some(2_000_000_000));
        assert_eq!(parse_duration("3h"), None);
    }
}

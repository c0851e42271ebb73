//! `netcap extract`: the evidence pcapng — only the frames a finding, a flow or a list
//! of frame numbers selects, each with a comment saying why it is there
//! (`docs/extract.md` has the command, the selectors and the comment wording).
//!
//! One pass over the files, through the engine (so points, flows and findings are
//! numbered exactly as `netcap correlate` numbers them): while the run goes, every
//! SYN is numbered (its attempt), the frames a `--flow` or `--frames` selector names are
//! marked, and every frame is logged ([`crate::spill`]). Then the findings are known,
//! and the log is replayed in the run's order: the frames that may be selected are read
//! again (from the capture file at their offset, or from the spilled bytes of standard
//! input), and those selected are written with their original (not offset-adjusted)
//! timestamps. Standard input works as a file does.

use std::collections::{HashMap, HashSet};
use std::io::{self, BufWriter, IsTerminal, Write};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use clap::{ArgGroup, Args};
use netcap_core::capture::Frame;
use netcap_core::correlate::packet_key;
use netcap_core::findings::Finding;
use netcap_core::decode::{flag_names, tcp_flags, LayerKind, Packet};
use netcap_core::export::pcapng::{Interface, PcapngWriter, SectionHeader, WriteError};
use netcap_core::flow::{Endpoint, FlowView};
use netcap_core::tcp::SegmentInfo;

use netcap_core::analysis::{AnalysisError, FrameEvent, Observer, Outcome, PointInfo};
use netcap_core::correlate::PacketPath;

use crate::correlate::Messages;
use crate::output::OutputFile;
use crate::spill::{FrameLog, Logged};
use crate::AnalysisArgs;

/// Write only the frames a finding, a flow or a frame list selects to an evidence
/// pcapng, each with a comment saying why it is there.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("selector").required(true).multiple(true)))]
pub struct ExtractArgs {
    #[command(flatten)]
    pub(crate) analysis: AnalysisArgs,
    /// The N-th finding (1-based) as `netcap correlate` on the same files lists it,
    /// with the findings it follows from (`related`).
    #[arg(long = "finding", value_name = "N", group = "selector", value_parser = parse_finding)]
    findings: Vec<u64>,
    /// A TCP flow by its id (as `netcap flows` / `netcap packets` show it; for several
    /// files, numbered in merged time order), or a connection `ADDR:PORT-ADDR:PORT`
    /// (either order; `[v6]:port`) at every point.
    #[arg(long = "flow", value_name = "ID|ADDR:PORT-ADDR:PORT", group = "selector", value_parser = parse_flow)]
    flows: Vec<FlowSpec>,
    /// Frames of one point by number: `POINT:N,N,N-M` (POINT as netcap names it).
    #[arg(long = "frames", value_name = "POINT:N,N-M", group = "selector", value_parser = parse_frames)]
    frames: Vec<FramesSpec>,
    /// Frames listed in a query result: a Parquet or CSV file (with a header) whose
    /// columns `point` and `frame` name them, as the `packets` table of `netcap export`
    /// or the Python package does (`COPY (SELECT point, frame FROM …) TO 'f.parquet'`).
    #[arg(long = "frames-from", value_name = "FILE", group = "selector", value_parser = parse_frames_file)]
    frames_from: Vec<FramesSpec>,
    /// The evidence file to write; `-` writes to standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE", required = true)]
    output: PathBuf,
}

impl ExtractArgs {
    /// `--frames` then `--frames-from`, in that order.
    fn frame_specs(&self) -> impl Iterator<Item = &FramesSpec> {
        self.frames.iter().chain(&self.frames_from)
    }
}

/// `--flow`: an id, or a connection's two endpoints.
#[derive(Debug, Clone)]
pub enum FlowSpec {
    Id(u64),
    Connection(SocketAddr, SocketAddr),
}

/// `--frames POINT:N,N-M` or `--frames-from FILE`: inclusive ranges of frame numbers,
/// per point.
#[derive(Debug, Clone)]
pub struct FramesSpec {
    /// Per point, its ranges sorted and merged.
    points: Vec<(String, Vec<(u64, u64)>)>,
    text: String,
}

/// `POINT:N,N-M`: the point is everything before the last `:` (point names may hold
/// one); a range is kept as its two ends, so any size costs nothing.
fn parse_frames(s: &str) -> Result<FramesSpec, String> {
    let (point, list) = s.rsplit_once(':').ok_or_else(|| format!("expected POINT:N,N-M, got {s:?}"))?;
    if point.is_empty() {
        return Err(format!("no point name in {s:?}"));
    }
    let mut ranges = Vec::new();
    for part in list.split(',') {
        let num = |t: &str| t.trim().parse::<u64>().ok().filter(|&n| n >= 1);
        let range = match part.split_once('-') {
            Some((a, b)) => num(a).zip(num(b)).filter(|(a, b)| a <= b),
            None => num(part).map(|n| (n, n)),
        };
        ranges.push(range.ok_or_else(|| format!("{part:?} in {s:?} is not a frame number (1, 2, …) or a range N-M"))?);
    }
    Ok(FramesSpec { points: vec![(point.to_string(), merged(ranges))], text: s.to_string() })
}

/// `--frames-from FILE`: the (point, frame) rows of a Parquet or CSV file.
fn parse_frames_file(s: &str) -> Result<FramesSpec, String> {
    let rows = crate::query::point_frames(std::path::Path::new(s)).map_err(|e| format!("{s}: {e}"))?;
    if rows.is_empty() {
        return Err(format!("{s}: no rows"));
    }
    let points = rows.into_iter().map(|(p, frames)| (p, merged(frames.into_iter().map(|f| (f, f)).collect()))).collect();
    Ok(FramesSpec { points, text: s.to_string() })
}

/// Ranges sorted, overlapping and adjacent ones joined.
fn merged(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (a, b) in ranges {
        match out.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

fn parse_finding(s: &str) -> Result<u64, String> {
    s.parse::<u64>().ok().filter(|&n| n >= 1).ok_or_else(|| format!("expected a finding number 1, 2, … as `netcap correlate` lists them, got {s:?}"))
}

fn parse_flow(s: &str) -> Result<FlowSpec, String> {
    if let Ok(id) = s.parse::<u64>() {
        return Ok(FlowSpec::Id(id));
    }
    let bad = || format!("expected a flow id or ADDR:PORT-ADDR:PORT (IPv6 as [ADDR]:PORT), got {s:?}");
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let a: SocketAddr = a.trim().parse().map_err(|_| bad())?;
    let b: SocketAddr = b.trim().parse().map_err(|_| bad())?;
    Ok(FlowSpec::Connection(a, b))
}

impl FramesSpec {
    /// Whether frame `number` of point `point` is one of the listed frames.
    fn selects(&self, point: &str, number: u64) -> bool {
        self.points.iter().filter(|(p, _)| p == point).any(|(_, ranges)| {
            // The last range starting at or before `number`.
            let i = ranges.partition_point(|&(a, _)| a <= number);
            i > 0 && ranges[i - 1].1 >= number
        })
    }
}

impl FlowSpec {
    /// Whether a frame (its TCP analysis, its flow view) belongs to the flow.
    fn selects(&self, segment: Option<&SegmentInfo>, view: Option<&FlowView>) -> bool {
        match self {
            FlowSpec::Id(id) => segment.is_some_and(|s| s.flow == *id),
            FlowSpec::Connection(a, b) => view.is_some_and(|v| {
                let (s, d) = (sock(v.src), sock(v.dst));
                (s == *a && d == *b) || (s == *b && d == *a)
            }),
        }
    }

    fn text(&self) -> String {
        match self {
            FlowSpec::Id(id) => format!("flow {id}"),
            FlowSpec::Connection(a, b) => format!("connection {a}-{b}"),
        }
    }
}

/// What the run learned, for the selection and the comments.
#[derive(Debug, Default)]
struct Known {
    /// (point name, frame) → where selected findings cite it.
    finding_frames: HashMap<(String, u64), Vec<Cited>>,
    /// Per packet of a selected finding: the points that saw it.
    seen: Vec<Vec<String>>,
    /// Direction (`inner src > inner dst` address) → its path, upstream first.
    paths: HashMap<String, Vec<String>>,
    /// Per selected finding number (1-based): the finding.
    findings: Vec<(usize, Finding)>,
    /// (point name, frame) → points of the packet's path that did not see it.
    missing: HashMap<(String, u64), Vec<String>>,
    /// (client, server) → SYN attempts (the most any point's flow record counted).
    attempts: HashMap<(Endpoint, Endpoint), u32>,
}

/// A frame as a finding cites it.
#[derive(Debug, Clone, Copy)]
struct Cited {
    /// The finding's number (1-based).
    finding: usize,
    /// The packet's index among the finding's packets, and their count.
    packet: usize,
    of: usize,
    /// Index into [`Known::seen`]: the points that saw the packet.
    seen: usize,
}

/// Most connections whose SYN fingerprints are remembered for the attempt numbers, and
/// most SYNs per connection: memory stays bounded on a SYN flood.
const MAX_SYN_CONNECTIONS: usize = 1 << 20;
const MAX_SYNS_PER_CONNECTION: usize = 64;

/// After the run: picks the frames, writes them with their comments.
struct Extractor<'a, W: Write> {
    args: &'a ExtractArgs,
    known: &'a Known,
    writer: PcapngWriter<W>,
    /// Point number → interface id, once its IDB is written.
    interfaces: Vec<Option<u32>>,
    /// Frames written per selector, in the order `--finding`, `--flow`, `--frames`.
    hits: Vec<u64>,
    written: u64,
    /// Per cited packet ([`Cited::seen`]): the points that did not see it, once known.
    missing_by_packet: HashMap<usize, Vec<String>>,
}

impl<W: Write> Extractor<'_, W> {
    fn interface(&mut self, points: &[PointInfo], point: usize) -> Result<u32, WriteError> {
        if let Some(Some(id)) = self.interfaces.get(point) {
            return Ok(*id);
        }
        let row = points.get(point);
        let description = row.map(|r| match &r.interface {
            Some(i) => format!("{}, interface {i}", r.file),
            None => r.file.clone(),
        });
        let id = self.writer.add_interface(&Interface {
            link_type: row.map_or(netcap_core::capture::LinkType(0), |r| r.link_type),
            snaplen: 0,
            name: row.map(|r| r.name.as_str()),
            description: description.as_deref(),
        })?;
        if self.interfaces.len() <= point {
            self.interfaces.resize(point + 1, None);
        }
        self.interfaces[point] = Some(id);
        Ok(id)
    }

    /// Why the frame is wanted (empty: it is not).
    fn reasons(&mut self, name: &str, frame: &Frame<'_>, packet: &Packet, segment: Option<&SegmentInfo>, view: Option<&FlowView>) -> Vec<String> {
        let mut why = Vec::new();
        let mut sel = 0usize;
        // Only the frames of selected findings are looked up (no key built otherwise).
        let cited = match self.known.finding_frames.is_empty() {
            true => None,
            false => self.known.finding_frames.get(&(name.to_string(), frame.number)),
        };
        // --finding: the finding's own frames, and for the findings about a connection
        // without frames of their own, its SYNs and SYN/ACKs (syn_retry_delay,
        // handshake_failure with RSTs) or the retransmissions (retransmission_storm).
        for &n in &self.args.findings {
            let n = usize::try_from(n).unwrap_or(usize::MAX);
            let mut hit = false;
            for (num, f) in &self.known.findings {
                if !selected_by(&self.known.findings, n, *num) {
                    continue;
                }
                if let Some(entries) = cited {
                    for c in entries.iter().filter(|c| c.finding == *num) {
                        hit = true;
                        push_unique(&mut why, format!("finding {num} ({}, packet {} of {})", f.kind, c.packet + 1, c.of));
                    }
                }
                if f.frames.is_empty() && about_connection(f, name, packet, segment, view) {
                    hit = true;
                    push_unique(&mut why, format!("finding {num} ({})", f.kind));
                }
            }
            if hit {
                self.hits[sel] += 1;
            }
            sel += 1;
        }
        for spec in &self.args.flows {
            if spec.selects(segment, view) {
                self.hits[sel] += 1;
                push_unique(&mut why, spec.text());
            }
            sel += 1;
        }
        for spec in self.args.frame_specs() {
            if spec.selects(name, frame.number) {
                self.hits[sel] += 1;
                push_unique(&mut why, format!("frame {name}:{}", frame.number));
            }
            sel += 1;
        }
        why
    }
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

fn sock(e: Endpoint) -> SocketAddr {
    SocketAddr::new(e.ip, e.port)
}

/// Whether `--finding asked` selects finding `num`: it is the finding, or one the
/// finding follows from (`related`).
fn selected_by(findings: &[(usize, Finding)], asked: usize, num: usize) -> bool {
    asked == num || findings.iter().any(|(n, f)| *n == asked && f.related.contains(&num))
}

/// For a finding about a connection that cites no frames: whether this frame is one of
/// its evidence frames — a SYN or SYN/ACK of the connection at any point
/// (`syn_retry_delay`; `handshake_failure` adds RSTs, the refusal), or a
/// retransmission in the finding's direction at its point (`retransmission_storm`).
fn about_connection(f: &Finding, name: &str, packet: &Packet, segment: Option<&SegmentInfo>, view: Option<&FlowView>) -> bool {
    let Some(v) = view else { return false };
    // The cheap tests first: this runs for every frame of the capture.
    let candidate = match f.kind {
        "syn_retry_delay" => tcp_flags_of(packet, v).is_some_and(|fl| fl & tcp_flags::SYN != 0),
        "handshake_failure" => tcp_flags_of(packet, v).is_some_and(|fl| fl & (tcp_flags::SYN | tcp_flags::RST) != 0),
        "retransmission_storm" => {
            f.points.first().is_some_and(|p| p == name) && segment.is_some_and(|s| s.analysis.is_retransmission())
        }
        _ => false,
    };
    if !candidate {
        return false;
    }
    let forward = format!("{} > {}", v.src, v.dst);
    let backward = format!("{} > {}", v.dst, v.src);
    match f.kind {
        "retransmission_storm" => {
            let dir = if f.flow == forward { "client → server" } else { "server → client" };
            (f.flow == forward || f.flow == backward) && f.evidence["direction"].as_str() == Some(dir)
        }
        _ => f.flow == forward || f.flow == backward,
    }
}

fn tcp_flags_of(packet: &Packet, v: &FlowView) -> Option<u16> {
    match packet.layers.get(v.layer)?.kind {
        LayerKind::Tcp { flags, .. } => Some(flags),
        _ => None,
    }
}

impl<W: Write> Extractor<'_, W> {
    /// One frame of the run, again: written with its comment when a selector wants it.
    fn frame(&mut self, points: &[PointInfo], point: usize, frame: &Frame<'_>, packet: &Packet, segment: Option<&SegmentInfo>, attempt: u16) -> Result<(), WriteError> {
        let Some(row) = points.get(point) else { return Ok(()) };
        let view = FlowView::of(packet);
        let attempt = match &view {
            Some(v) if attempt > 0 => Some((usize::from(attempt), v.src, v.dst)),
            _ => None,
        };
        let why = self.reasons(&row.name, frame, packet, segment, view.as_ref());
        if why.is_empty() {
            return Ok(());
        }
        let comment = self.comment(&row.name, frame, packet, segment, view.as_ref(), attempt, &why);
        let interface = self.interface(points, point)?;
        self.writer.write_packet(&netcap_core::export::pcapng::Packet {
            interface,
            // The analysis added the point's clock offset: write the original time.
            ts_ns: frame.ts_ns.saturating_sub(row.clock_offset_ns),
            orig_len: frame.len,
            data: frame.data,
            comment: Some(&comment),
        })?;
        self.written += 1;
        Ok(())
    }

    /// Whether the frame of `rec` can be selected: marked while the run went (`--flow`,
    /// `--frames`), cited by a selected finding, or, for a finding about a connection
    /// without frames of its own, a SYN, RST or retransmission. Only these are read again.
    fn may_select(&self, rec: &Logged, name: &str) -> bool {
        if rec.selected || self.known.finding_frames.contains_key(&(name.to_string(), rec.number)) {
            return true;
        }
        let frameless = self.known.findings.iter().any(|(_, f)| f.frames.is_empty());
        frameless
            && (rec.tcp.is_some_and(|t| t.flags & (tcp_flags::SYN | tcp_flags::RST) != 0)
                || rec.segment.is_some_and(|s| s.analysis.is_retransmission()))
    }
}

/// The run's observer: numbers the SYNs, marks what `--flow` and `--frames` select,
/// keeps the points of a packet's path that did not see it (`--flow`, `--frames`), logs
/// every frame.
struct Gather<'a> {
    args: &'a ExtractArgs,
    log: FrameLog,
    /// (client, server) → SYN fingerprints in order of first sighting (attempt k = k-th).
    syns: HashMap<(Endpoint, Endpoint), Vec<u64>>,
    /// (point, frame) of the frames `--flow` and `--frames` selected, until their
    /// packet's path is known: memory follows the frames written, not the capture.
    selected: HashSet<(u32, u64)>,
    /// (point, frame) → the points of the packet's path that did not see it, for the
    /// selected frames.
    missing: HashMap<(String, u64), Vec<String>>,
}

impl Gather<'_> {
    /// The SYN attempt number of this SYN (1-based) of its connection, counting
    /// distinct SYN packets in the order they were first seen at any point.
    fn syn_attempt(&mut self, packet: &Packet, data: &[u8], client: Endpoint, server: Endpoint) -> Option<usize> {
        let (fp, _, _) = packet_key(packet, data)?;
        let full = self.syns.len() >= MAX_SYN_CONNECTIONS;
        let list = match self.syns.get_mut(&(client, server)) {
            Some(l) => l,
            None if full => return None,
            None => self.syns.entry((client, server)).or_default(),
        };
        if let Some(i) = list.iter().position(|&x| x == fp) {
            return Some(i + 1);
        }
        if list.len() >= MAX_SYNS_PER_CONNECTION {
            return None;
        }
        list.push(fp);
        Some(list.len())
    }

}

impl Observer for Gather<'_> {
    type Error = io::Error;

    fn frame(&mut self, e: &FrameEvent<'_>) -> io::Result<()> {
        let view = FlowView::of(e.packet);
        // Number every SYN of every connection, selected or not: a selected later
        // attempt needs the earlier ones counted.
        let mut attempt = 0u16;
        if let Some(v) = &view {
            if tcp_flags_of(e.packet, v).is_some_and(|f| f & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN) {
                attempt = self.syn_attempt(e.packet, e.frame.data, v.src, v.dst).map_or(0, |k| u16::try_from(k).unwrap_or(u16::MAX));
            }
        }
        let name = e.point_info.name.as_str();
        let selected = self.args.flows.iter().any(|spec| spec.selects(e.segment, view.as_ref()))
            || self.args.frame_specs().any(|spec| spec.selects(name, e.frame.number));
        if selected {
            self.selected.insert((u32::try_from(e.point).unwrap_or(u32::MAX), e.frame.number));
        }
        self.log.add(e, attempt, selected)
    }

    fn wants_paths(&self) -> bool {
        !self.args.flows.is_empty() || self.args.frame_specs().next().is_some()
    }

    fn paths(&mut self, points: &[PointInfo], paths: &[PacketPath]) -> io::Result<()> {
        let name = |p: u32| points.get(p as usize).map_or(String::new(), |x| x.name.clone());
        for path in paths {
            for h in &path.hops {
                let Some(s) = h.seen else { continue };
                // The path of a selected frame's packet is known now.
                if !self.selected.remove(&(h.point, s.frame)) {
                    continue;
                }
                let missing: Vec<String> = path.hops.iter().filter(|h| h.seen.is_none()).map(|h| name(h.point)).collect();
                self.missing.entry((name(h.point), s.frame)).or_insert(missing);
            }
        }
        Ok(())
    }
}

impl<W: Write> Extractor<'_, W> {
    /// `REASONS: WHAT; VERDICTS; DROP; TCP LABELS; not seen at POINTS`.
    #[allow(clippy::too_many_arguments)]
    fn comment(
        &mut self,
        name: &str,
        frame: &Frame<'_>,
        packet: &Packet,
        segment: Option<&SegmentInfo>,
        view: Option<&FlowView>,
        attempt: Option<(usize, Endpoint, Endpoint)>,
        why: &[String],
    ) -> String {
        let mut parts: Vec<String> = Vec::new();
        parts.push(describe(packet, view, attempt, &self.known.attempts));
        parts.extend(crate::evidence::facts(packet, segment));
        if let Some(m) = self.missing(name, frame.number, packet).filter(|m| !m.is_empty()) {
            parts.push(format!("not seen at {}", m.join(", ")));
        }
        format!("{}: {}", why.join(", "), parts.join("; "))
    }
}

impl<W: Write> Extractor<'_, W> {
    /// The points of the packet's path that did not see it: from the run's packet
    /// paths (with `--flow` or `--frames`), else, for a frame a finding cites, the path of the packet's
    /// direction without the points the finding lists for it. The direction is taken
    /// from the packet's first sighting (frames come in time order) and kept for the
    /// others: after a NAT the addresses differ, the packet does not.
    fn missing(&mut self, name: &str, frame: u64, packet: &Packet) -> Option<Vec<String>> {
        let key = (name.to_string(), frame);
        if let Some(m) = self.known.missing.get(&key) {
            return Some(m.clone());
        }
        let cited = self.known.finding_frames.get(&key)?.first()?;
        if let Some(m) = self.missing_by_packet.get(&cited.seen) {
            return Some(m.clone());
        }
        let seen = self.known.seen.get(cited.seen)?;
        let path = self.known.paths.get(direction(packet)?.as_str())?;
        let m: Vec<String> = path.iter().filter(|p| !seen.contains(p)).cloned().collect();
        self.missing_by_packet.insert(cited.seen, m.clone());
        Some(m)
    }
}

/// `inner src > inner dst` address of the innermost IP header, as paths are keyed.
fn direction(packet: &Packet) -> Option<String> {
    let a = addresses(packet);
    a.strip_prefix(' ').map(str::to_string)
}

/// What the frame is: `SYN attempt 2 of 3 of A > B`, `SYN/ACK of A > B` (client first),
/// `TCP [ACK] len 0, A > B`, `UDP A > B`, or the innermost protocol.
fn describe(packet: &Packet, view: Option<&FlowView>, attempt: Option<(usize, Endpoint, Endpoint)>, totals: &HashMap<(Endpoint, Endpoint), u32>) -> String {
    let Some(v) = view else {
        let last = packet.own_layers().iter().rev().find(|l| !matches!(l.kind, LayerKind::Eth { .. } | LayerKind::Sll { .. } | LayerKind::Sll2 { .. } | LayerKind::Null { .. }));
        return match last.map(|l| &l.kind) {
            Some(LayerKind::Icmp { icmp_type, code }) | Some(LayerKind::Icmpv6 { icmp_type, code }) => {
                format!("{} type {icmp_type} code {code}{}", last.map_or("", |l| l.proto()).to_ascii_uppercase(), addresses(packet))
            }
            Some(k) => format!("{}{}", k.proto(), addresses(packet)),
            None => "frame not decoded".to_string(),
        };
    };
    match (v.proto, packet.layers.get(v.layer).map(|l| &l.kind)) {
        (6, Some(&LayerKind::Tcp { flags, payload_len, .. })) => {
            let syn = flags & (tcp_flags::SYN | tcp_flags::ACK);
            if syn == tcp_flags::SYN {
                let of = totals.get(&(v.src, v.dst)).map_or(String::new(), |n| format!(" of {n}"));
                match attempt {
                    Some((k, ..)) => format!("SYN attempt {k}{of} of {} > {}", v.src, v.dst),
                    None => format!("SYN of {} > {}", v.src, v.dst),
                }
            } else if syn == tcp_flags::SYN | tcp_flags::ACK {
                format!("SYN/ACK of {} > {}", v.dst, v.src)
            } else {
                format!("TCP [{}] len {payload_len}, {} > {}", flag_names(flags).join(", "), v.src, v.dst)
            }
        }
        _ if v.fragmented => format!("IP fragment, {} > {}", v.src.ip, v.dst.ip),
        _ => format!("UDP {} > {}", v.src, v.dst),
    }
}

/// ` A > B` from the innermost IP header, or nothing.
fn addresses(packet: &Packet) -> String {
    packet
        .own_layers()
        .iter()
        .rev()
        .find_map(|l| match l.kind {
            LayerKind::Ipv4 { src, dst, .. } => Some(format!(" {} > {}", IpAddr::V4(src), IpAddr::V4(dst))),
            LayerKind::Ipv6 { src, dst, .. } => Some(format!(" {} > {}", IpAddr::V6(src), IpAddr::V6(dst))),
            _ => None,
        })
        .unwrap_or_default()
}

/// What the run learned that the selection and the comments need.
fn learn(analysis: &Outcome, asked: &[u64]) -> Result<Known, String> {
    let Some(report) = &analysis.report else { return Ok(Known::default()) };
    let mut known = Known::default();
    let count = report.findings.len();
    let mut wanted: Vec<usize> = Vec::new();
    for &n in asked {
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        if n > count {
            return Err(match count {
                0 => format!("--finding {n}: the analysis found nothing (see `netcap correlate` on the same files)"),
                1 => format!("--finding {n}: there is 1 finding (see `netcap correlate` on the same files)"),
                _ => format!("--finding {n}: there are {count} findings, 1 to {count} (see `netcap correlate` on the same files)"),
            });
        }
        for m in std::iter::once(n).chain(report.findings[n - 1].related.iter().copied()) {
            if (1..=count).contains(&m) && !wanted.contains(&m) {
                wanted.push(m);
            }
        }
    }
    wanted.sort_unstable();
    known.paths = report.paths.iter().map(|p| (p.direction.clone(), p.points.clone())).collect();
    for &m in &wanted {
        let f = &report.findings[m - 1];
        let of = f.frames.len();
        for (i, seen) in f.frames.iter().enumerate() {
            let k = known.seen.len();
            known.seen.push(seen.iter().map(|r| r.point.clone()).collect());
            for r in seen {
                known.finding_frames.entry((r.point.clone(), r.frame)).or_default().push(Cited { finding: m, packet: i, of, seen: k });
            }
        }
        known.findings.push((m, f.clone()));
    }
    for f in &analysis.flows {
        let e = known.attempts.entry((f.client, f.server)).or_insert(0);
        *e = (*e).max(f.syn.attempts);
    }
    Ok(known)
}

/// Where the evidence goes: standard output, or a temporary file beside the output
/// renamed over it once everything went well (a failed run leaves no half file, and an
/// older evidence file as it was: `crate::output`).
enum Destination {
    Stdout,
    File(OutputFile),
}

pub fn run(args: &ExtractArgs, stdout: &mut dyn Write) -> io::Result<bool> {
    match extract(args, stdout) {
        Ok(failed) => Ok(failed),
        Err(Failure::Message(m)) => {
            crate::ui::error(m);
            Ok(true)
        }
        Err(Failure::Io(e)) => Err(e),
    }
}

enum Failure {
    /// Said to the user; exit status 1.
    Message(String),
    /// Writing standard output failed (a closed pipe ends quietly).
    Io(io::Error),
}

fn extract(args: &ExtractArgs, stdout: &mut dyn Write) -> Result<bool, Failure> {
    if !args.analysis.has_inputs() {
        return Err(Failure::Message("no capture files given".to_string()));
    }
    let sink = if args.output.as_os_str() == "-" {
        if io::stdout().is_terminal() {
            return Err(Failure::Message("refusing to write pcapng to a terminal: redirect standard output or use -o FILE".to_string()));
        }
        Destination::Stdout
    } else {
        let out = &args.output;
        if let Some(msg) = crate::output::refusal(out, args.analysis.inputs()) {
            return Err(Failure::Message(msg));
        }
        // Created before the captures are read: an unwritable path fails first.
        Destination::File(OutputFile::create(out).map_err(Failure::Message)?)
    };

    // The run: findings, flows, SYN numbers, what --flow and --frames select, the log.
    let analysis = args.analysis.analysis(false).map_err(Failure::Message)?;
    let log = FrameLog::new().map_err(|e| Failure::Message(format!("temporary file: {e}")))?;
    let gather = Gather { args, log, syns: HashMap::new(), selected: HashSet::new(), missing: HashMap::new() };
    let mut messages = Messages::new(&args.analysis.progress_files(), gather);
    let outcome = match analysis.run(&mut messages) {
        Ok(o) => o,
        Err(AnalysisError::Observer(e)) => return Err(Failure::Message(format!("temporary file: {e}"))),
        Err(e) => return Err(Failure::Message(e.to_string())),
    };
    let Gather { log, missing, .. } = messages.inner;
    if outcome.points.is_empty() {
        return Err(Failure::Message("no frame could be read; nothing written".to_string()));
    }
    let mut known = learn(&outcome, &args.findings).map_err(Failure::Message)?;
    known.missing = missing;
    write(args, &known, &outcome, log, sink, stdout).map(|f| f || outcome.failed())
}

/// Writes the selected frames, replaying the run's log, and puts the file in place.
fn write(args: &ExtractArgs, known: &Known, outcome: &Outcome, log: FrameLog, mut sink: Destination, stdout: &mut dyn Write) -> Result<bool, Failure> {
    let frames = write_frames(args, known, outcome, log, &mut sink, stdout)?;
    let target = match sink {
        Destination::Stdout => "standard output".to_string(),
        Destination::File(f) => {
            f.commit().map_err(Failure::Message)?;
            args.output.display().to_string()
        }
    };
    crate::ui::note(format_args!("wrote {frames} frame{} to {target}", if frames == 1 { "" } else { "s" }));
    Ok(false)
}

/// Writes the selected frames to `sink`, replaying the run's log: how many.
fn write_frames(args: &ExtractArgs, known: &Known, outcome: &Outcome, log: FrameLog, sink: &mut Destination, stdout: &mut dyn Write) -> Result<u64, Failure> {
    let selectors = args.findings.len() + args.flows.len() + args.frame_specs().count();
    let user_appl = format!("netcap {}", env!("CARGO_PKG_VERSION"));
    let comment = crate::command_line();
    let shb = SectionHeader { user_appl: Some(&user_appl), comment: Some(&comment) };
    let target = match sink {
        Destination::Stdout => "standard output".to_string(),
        Destination::File(_) => args.output.display().to_string(),
    };
    let to_stdout = matches!(sink, Destination::Stdout);
    // On any error the caller drops the file, which removes it.
    let out: Box<dyn Write + '_> = match sink {
        Destination::Stdout => Box::new(&mut *stdout),
        Destination::File(f) => Box::new(BufWriter::with_capacity(1 << 16, f)),
    };
    let writer = match PcapngWriter::new(out, &shb) {
        Ok(w) => w,
        Err(e) => return Err(io_failure(e, &target, to_stdout)),
    };
    let mut ex = Extractor { args, known, writer, interfaces: Vec::new(), hits: vec![0; selectors], written: 0, missing_by_packet: HashMap::new() };
    let points = &outcome.points;
    let names = outcome.point_names();
    let decoder = args.analysis.common.decoder();
    let mut packet = Packet::default();
    let written = (|| -> Result<(), WriteError> {
        // Every point of the run gets its IDB up front (interface id = point number).
        for p in 0..points.len() {
            ex.interface(points, p)?;
        }
        let (records, mut fetch) = log.replay(&outcome.inputs)?;
        for rec in records {
            let rec = rec?;
            let point = rec.point as usize;
            if !ex.may_select(&rec, names.get(point).map_or("", String::as_str)) {
                continue;
            }
            let bytes = fetch.bytes(&rec)?;
            let frame = rec.frame(&bytes);
            decoder.decode_into(frame.link_type, frame.data, &mut packet);
            ex.frame(points, point, &frame, &packet, rec.segment.as_ref(), rec.attempt)?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        return Err(io_failure(e, &target, to_stdout));
    }
    let mut w = ex.writer.into_inner();
    if let Err(e) = w.flush() {
        return Err(io_failure(WriteError::Io(e), &target, to_stdout));
    }
    drop(w);
    // Every selector must have matched something.
    let texts: Vec<String> = args
        .findings
        .iter()
        .map(|n| format!("--finding {n}"))
        .chain(args.flows.iter().map(|f| format!("--flow {}", match f {
            FlowSpec::Id(id) => id.to_string(),
            FlowSpec::Connection(a, b) => format!("{a}-{b}"),
        })))
        .chain(args.frames.iter().map(|f| format!("--frames {}", f.text)))
        .chain(args.frames_from.iter().map(|f| format!("--frames-from {}", f.text)))
        .collect();
    let unmatched: Vec<&String> = texts.iter().zip(&ex.hits).filter(|(_, &h)| h == 0).map(|(t, _)| t).collect();
    if !unmatched.is_empty() {
        let names: Vec<&str> = unmatched.iter().map(|s| s.as_str()).collect();
        let points: HashSet<&str> = outcome.points.iter().map(|p| p.name.as_str()).collect();
        let mut msg = format!("{} matched no frame; nothing written", names.join(", "));
        // Each unknown point once, in the order given.
        let mut unknown: Vec<&str> = Vec::new();
        for (p, _) in args.frame_specs().flat_map(|f| &f.points) {
            if !points.contains(p.as_str()) && !unknown.contains(&p.as_str()) {
                unknown.push(p);
            }
        }
        if !unknown.is_empty() {
            let mut known: Vec<&str> = points.iter().copied().collect();
            known.sort_unstable();
            let named: Vec<String> = unknown.iter().map(|p| format!("{p:?}")).collect();
            msg.push_str(&format!(" (no point named {}; the points are {})", named.join(", "), known.join(", ")));
        }
        return Err(Failure::Message(msg));
    }
    Ok(ex.written)
}

/// A write error: on standard output an I/O error for `main` (a closed pipe is quiet),
/// on a file a message naming it (the output file's own, which says how far it got).
fn io_failure(e: WriteError, target: &str, to_stdout: bool) -> Failure {
    match e {
        WriteError::Io(e) if to_stdout => Failure::Io(e),
        WriteError::Io(e) if crate::output::is_write_failure(&e) => Failure::Message(e.to_string()),
        e => Failure::Message(format!("writing {target}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse() {
        let f = parse_frames("client_pod:1,3-5").unwrap();
        assert_eq!(f.points, [("client_pod".to_string(), vec![(1, 1), (3, 5)])]);
        assert!(f.selects("client_pod", 4) && !f.selects("client_pod", 2) && !f.selects("client_pod", 6));
        let f = parse_frames("a:b#2:7").unwrap();
        assert_eq!(f.points, [("a:b#2".to_string(), vec![(7, 7)])]);
        // Overlapping and adjacent ranges are joined.
        assert_eq!(merged(vec![(5, 6), (1, 2), (3, 3), (9, 9), (6, 7)]), [(1, 3), (5, 7), (9, 9)]);
        for bad in ["client_pod", ":1", "x:0", "x:5-3", "x:1,,2", "x:a"] {
            assert!(parse_frames(bad).is_err(), "{bad}");
        }
        assert!(matches!(parse_flow("12"), Ok(FlowSpec::Id(12))));
        let Ok(FlowSpec::Connection(a, b)) = parse_flow("10.244.1.2:55406-10.244.2.3:80") else { panic!() };
        assert_eq!((a.to_string(), b.to_string()), ("10.244.1.2:55406".to_string(), "10.244.2.3:80".to_string()));
        assert!(matches!(parse_flow("[2001:db8::1]:443-[2001:db8::2]:5000"), Ok(FlowSpec::Connection(..))));
        for bad in ["x", "10.0.0.1-10.0.0.2", "10.0.0.1:1", "-1"] {
            assert!(parse_flow(bad).is_err(), "{bad}");
        }
    }
}

//! `netcap report`: what a ticket needs, in the order people read it — what was
//! captured, the findings with their evidence, the flows in trouble, the checksum
//! verdicts, RTT and retransmissions, and the command that produced it. Markdown for
//! tickets and chat, or one self-contained HTML file (inline CSS and SVG plots).
//!
//! One pass over the files: the analysis of `netcap correlate`, plus the tallies and
//! samples the tables and plots need, plus a log of every frame on disk
//! ([`crate::spill`]). Afterwards the log is replayed: the frames the findings cite are
//! read again (from the capture file at their offset, or from the spilled bytes of
//! standard input) and described, and the flow drawn in the time-sequence graph is
//! traced from the log alone. Standard input gives the same report as a file.
//!
//! Memory: the tallies are per point and layer; SYN sightings, delay samples and the
//! traced flow's segments are capped (`MAX_*` below); the analysis itself is bounded as
//! `netcap correlate` is (docs/correlation.md); the log is on disk (120 bytes a frame).

mod html;
mod markdown;
mod plots;
mod sections;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::convert::Infallible;
use std::io::{self, BufWriter, Write};
use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use netcap_core::capture::Frame;
use netcap_core::checksum::Status;
use netcap_core::correlate::{packet_key, PairReport, PathReport};
use netcap_core::findings::Finding;
use netcap_core::decode::{flag_names, tcp_flags, Decoder, Packet};
use netcap_core::flow::Endpoint;
use netcap_core::tcp::health::{Health, HealthReport};
use netcap_core::tcp::labels::Labels;
use netcap_core::tcp::{FlowRecord, SegmentInfo};

use netcap_core::analysis::{AnalysisError, FrameEvent, Observer, Outcome, PointInfo};

use crate::correlate::Messages;
use crate::output::OutputFile;
use crate::spill::FrameLog;
use crate::AnalysisArgs;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub(crate) analysis: AnalysisArgs,
    /// Where to write the report: NAME.md or NAME.html (the format follows the
    /// extension; another extension is an error unless --format is given), or `-` for
    /// standard output (Markdown unless --format html).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    /// The format, whatever the extension.
    #[arg(long, value_enum)]
    format: Option<ReportFormat>,
    /// The TCP flow drawn in the time-sequence and RTT plots (its id, as `netcap flows`
    /// and the report's flow table give it); by default the flow in most trouble.
    #[arg(long = "flow", value_name = "ID")]
    flow: Option<u64>,
    #[command(flatten)]
    view: crate::verdict::View,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Markdown,
    Html,
}

/// SYN sightings kept for the SYN timelines.
const MAX_SYNS: usize = 1 << 16;
/// Sightings kept for the one-way delay plot (24 bytes each).
const MAX_SIGHTINGS: usize = 1 << 20;
/// Segments of the traced flow kept for the time-sequence graph.
const MAX_SEGMENTS: usize = 1 << 18;
/// Flows listed in the "flows in trouble" table.
const MAX_TROUBLED_ROWS: usize = 20;
/// Directions drawn in one-way delay plots.
const MAX_DELAY_PLOTS: usize = 4;
/// Connections drawn as SYN timelines.
const MAX_TIMELINES: usize = 6;
/// Capture points (rows) of one SYN timeline: its path's, then others that saw the SYNs.
const MAX_TIMELINE_POINTS: usize = netcap_core::correlate::MAX_PATH_POINTS;
/// Findings given in full (sentence, evidence frames, hint) in the Findings section,
/// worst first; the verdict counts every one.
pub(crate) const MAX_DETAILED: usize = 100;
/// Rows of each of the report's lists and tables that grow with the captures: paths,
/// pairs of points, checksum verdicts and capture points (`sections::rows_kept`).
pub(crate) const MAX_ROWS: usize = 256;
/// Frames listed per checksum verdict row.
const FIRST_FRAMES: usize = 3;
/// Findings whose packets were seen at one point and never at the next.
const LOSS_KINDS: [&str; 4] = ["lost_between", "dropped_bad_outer_checksum", "dropped_bad_checksum", "mtu_drop"];
/// Two sightings of one fingerprint further apart than this are different packets
/// (the correlator's window).
const SAME_PACKET_NS: i64 = 1_000_000_000;

/// Everything the report shows, gathered before anything is written.
#[derive(Debug)]
pub struct Doc {
    /// `netcap report …` as typed (shell-quoted).
    pub command: String,
    pub version: &'static str,
    pub points: Vec<PointLine>,
    /// Earliest and latest timestamp (clock offsets applied); times in the report are
    /// given after the first.
    pub span: Option<(i64, i64)>,
    pub paths: Vec<PathReport>,
    pub pairs: Vec<PairReport>,
    pub notes: Vec<String>,
    pub findings: Vec<FindingDoc>,
    /// The flows in trouble, worst first (at most `MAX_TROUBLED_ROWS`).
    pub troubled: Vec<FlowRecord>,
    /// How many flows were in trouble in all.
    pub troubled_total: usize,
    pub flows_total: usize,
    pub checksums: Vec<ChecksumLine>,
    pub health: Option<HealthReport>,
    pub syn_timelines: Vec<SynTimeline>,
    pub trace: Option<FlowTrace>,
    /// Per direction (at most `MAX_DELAY_PLOTS`, most packets first).
    pub delays: Vec<DelayPlot>,
    /// The numbers of the findings given in full (`detailed`); their evidence rows are
    /// the only ones filled.
    pub detailed: HashSet<usize>,
    /// What the report could not show, and why.
    pub omissions: Vec<String>,
    /// Said on top when a signal stopped the run: the report covers what was read.
    pub interrupted: Option<String>,
    /// Which findings are shown, and how fully.
    pub view: crate::verdict::View,
    /// Whether any input file failed.
    pub failed: bool,
    /// The names the captures give addresses, shown beside them.
    pub names: netcap_core::analysis::Names,
}

/// One capture point.
#[derive(Debug)]
pub struct PointLine {
    pub row: PointInfo,
    pub first_ts_ns: Option<i64>,
    pub last_ts_ns: Option<i64>,
}

/// A finding and its evidence table.
#[derive(Debug)]
pub struct FindingDoc {
    pub finding: Finding,
    pub rows: Vec<EvidenceRow>,
}

/// One cited frame: which packet of the finding, where, when, and what matters in it.
#[derive(Debug)]
pub struct EvidenceRow {
    /// 1-based packet number within the finding.
    pub packet: usize,
    pub point: String,
    pub frame: u64,
    /// Capture time (offset applied); `None` if the frame was not found in the run's
    /// log (a finding cites only frames the run read, so it always is).
    pub ts_ns: Option<i64>,
    /// The frame's length, TCP flags and sequence, checksum verdicts that are not good,
    /// the receiver's drop counter and the TCP analysis labels; empty when `ts_ns` is
    /// `None`.
    pub value: String,
}

/// Frames with one checksum verdict at one layer of one point.
#[derive(Debug)]
pub struct ChecksumLine {
    pub point: String,
    /// `udp@0`: protocol and encapsulation depth.
    pub layer: String,
    pub status: Status,
    pub count: u64,
    pub first_frames: Vec<u64>,
}

/// The SYN attempts of one connection at every point of its path.
#[derive(Debug)]
pub struct SynTimeline {
    pub client: Endpoint,
    pub server: Endpoint,
    /// Upstream first: the direction's inferred path, else the points that saw it.
    pub points: Vec<String>,
    /// In order of first sighting.
    pub attempts: Vec<SynAttempt>,
}

#[derive(Debug)]
pub struct SynAttempt {
    /// Per point of `points`: the time it was seen there, or `None` (missing).
    pub seen: Vec<Option<i64>>,
    /// The first sighting.
    pub first_ts_ns: i64,
}

/// The segments of one flow at one point, for the time-sequence and RTT plots.
#[derive(Debug)]
pub struct FlowTrace {
    pub flow: FlowRecord,
    /// At most `MAX_SEGMENTS` (the report says when there were more).
    pub segments: Vec<Segment>,
}

#[derive(Debug, Clone, Copy)]
pub struct Segment {
    pub ts_ns: i64,
    /// Client to server.
    pub c2s: bool,
    pub seq: u32,
    pub ack: u32,
    pub flags: u16,
    pub len: u32,
    pub labels: Labels,
    pub ack_rtt_ns: Option<i64>,
    pub karn: bool,
    /// A loss finding cites it: seen here, missing further along its path.
    pub lost: bool,
}

/// The one-way delays along one direction's path, hop by hop.
#[derive(Debug)]
pub struct DelayPlot {
    /// `10.244.1.2 > 10.244.2.3`, as in the paths.
    pub direction: String,
    /// Upstream first; at most `plots::MAX_SERIES`.
    pub hops: Vec<DelaySeries>,
}

/// One-way delays between two adjacent points of a path.
#[derive(Debug)]
pub struct DelaySeries {
    pub from: String,
    pub to: String,
    /// (time the packet left `from`, delay to `to`), in capture order; at most
    /// `plots::MAX_PLOT_POINTS` of them (evenly thinned).
    pub samples: Vec<(i64, i64)>,
    /// Before thinning.
    pub total: u64,
    /// The packets the between-points table matched on this hop (super-frames' segments,
    /// matched by bytes, included): more than `total` where a point holds super-frames.
    pub matched: u64,
}

pub fn run(args: &ReportArgs, stdout: &mut impl Write) -> io::Result<bool> {
    let ext = args.output.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let format = match args.format {
        Some(f) => Some(f),
        None if args.output.as_os_str() == "-" => Some(ReportFormat::Markdown),
        None => match ext.as_str() {
            "html" | "htm" => Some(ReportFormat::Html),
            "md" | "markdown" | "" => Some(ReportFormat::Markdown),
            // Not Markdown under another format's name (refused below).
            _ => None,
        },
    };
    // The file first: an unwritable path fails before the captures are read, and an
    // input is never overwritten.
    let mut file = None;
    if args.output.as_os_str() != "-" {
        let out = &args.output;
        if let Some(msg) = crate::output::refusal(out, args.analysis.inputs()) {
            crate::ui::error(msg);
            return Ok(true);
        }
        if format.is_none() {
            crate::ui::error(format_args!(
                "{}: netcap does not write .{ext} reports: name it NAME.md or NAME.html, or give --format",
                out.display()
            ));
            return Ok(true);
        }
        // Written under a temporary name, renamed over the output at the end: dropped
        // on any error, it leaves no file (and an old report as it was).
        match OutputFile::create(out) {
            Ok(f) => file = Some(f),
            Err(msg) => {
                crate::ui::error(msg);
                return Ok(true);
            }
        }
    }
    let built = build(args);
    let doc = match built {
        Ok(d) => d?,
        Err(msg) => {
            crate::ui::error(msg);
            return Ok(true);
        }
    };
    // Standard output and a known extension always have a format (checked above).
    let write = |out: &mut dyn Write| match format.unwrap_or(ReportFormat::Markdown) {
        ReportFormat::Markdown => markdown::write(out, &doc),
        ReportFormat::Html => html::write(out, &doc),
    };
    match file {
        None => write(stdout)?,
        Some(mut f) => {
            let mut w = BufWriter::new(&mut f);
            write(&mut w)?;
            w.flush()?;
            drop(w);
            if let Err(msg) = f.commit() {
                crate::ui::error(msg);
                return Ok(true);
            }
        }
    }
    Ok(doc.failed)
}

/// The run's observer: the report's own tallies, and the frame log the evidence
/// tables and the traced flow are taken from afterwards (`crate::spill`).
struct Gather {
    collect: Collect,
    log: FrameLog,
}

impl Observer for Gather {
    type Error = io::Error;

    fn frame(&mut self, e: &FrameEvent<'_>) -> io::Result<()> {
        let Ok(()) = self.collect.frame(e);
        self.log.add(e, 0, false)
    }
}

/// The analysis, read once; `Err` is a usage error for the user.
fn build(args: &ReportArgs) -> Result<io::Result<Doc>, String> {
    if !args.analysis.has_inputs() {
        return Err("no capture files given".to_string());
    }
    let run = args.analysis.analysis(false)?;
    let log = match FrameLog::new() {
        Ok(l) => l,
        Err(e) => return Ok(Err(e)),
    };
    let mut messages = Messages::new(&args.analysis.progress_files(), Gather { collect: Collect::default(), log });
    let analysis = match run.run(&mut messages) {
        Ok(a) => a,
        Err(AnalysisError::Observer(e)) => return Ok(Err(e)),
        Err(e) => return Err(e.to_string()),
    };
    if analysis.read_nothing() {
        return Err("no capture could be read (above): no report written".to_string());
    }
    let Gather { collect: first, log } = messages.inner;
    let report = analysis.report.as_ref().ok_or("no correlation")?;
    let mut omissions = Vec::new();
    let chosen = match args.flow {
        Some(id) => match analysis.flows.iter().find(|f| f.id == id) {
            Some(f) => Some(f.clone()),
            None => return Err(format!("--flow {id}: no TCP flow has that id")),
        },
        None => worst_flow(&analysis.flows, &report.paths).cloned(),
    };
    let detailed = detailed(&report.findings, &args.view);
    let mut second = Trace::new(&report.findings, &detailed, chosen.as_ref());
    let names = analysis.point_names();
    if let Err(e) = second.replay(log, &analysis.inputs, &names, &args.analysis.common.decoder()) {
        return Ok(Err(e));
    }
    if first.sightings_full {
        omissions.push(format!(
            "The one-way delay plot covers the first {MAX_SIGHTINGS} frames with an IP packet."
        ));
    }
    if first.syns.len() >= MAX_SYNS {
        omissions.push(format!("The SYN timelines cover the first {MAX_SYNS} SYNs."));
    }
    Ok(Ok(assemble(analysis, first, second, chosen, detailed, omissions, args.view)))
}

/// The numbers of the findings the Findings section gives in full: the first
/// `MAX_DETAILED` shown and not folded, worst first.
fn detailed(findings: &[Finding], view: &crate::verdict::View) -> HashSet<usize> {
    crate::verdict::shown(findings, view)
        .into_iter()
        .filter(|(_, f)| crate::verdict::unfolded(f, view))
        .take(MAX_DETAILED)
        .map(|(n, _)| n)
        .collect()
}

/// The connection in most trouble, seen from the point nearest the sender of its data
/// (where retransmissions and RTT are the sender's); without trouble, the flow that
/// carried most data.
fn worst_flow<'a>(flows: &'a [FlowRecord], paths: &[PathReport]) -> Option<&'a FlowRecord> {
    let segments = |f: &FlowRecord| f.c2s.data_segments + f.s2c.data_segments;
    let Some(worst) = flows
        .iter()
        .filter(|f| f.in_trouble())
        .max_by(|a, b| a.trouble().cmp(&b.trouble()).then(b.id.cmp(&a.id)))
    else {
        return flows.iter().max_by(|a, b| segments(a).cmp(&segments(b)).then(b.id.cmp(&a.id)));
    };
    let (from, to) = if worst.c2s.payload_bytes >= worst.s2c.payload_bytes {
        (worst.client, worst.server)
    } else {
        (worst.server, worst.client)
    };
    let direction = format!("{} > {}", from.ip, to.ip);
    let Some(path) = paths.iter().find(|p| p.direction == direction) else { return Some(worst) };
    let upstream = |f: &&FlowRecord| path.points.iter().position(|p| *p == f.point).unwrap_or(usize::MAX);
    flows
        .iter()
        .filter(|f| f.in_trouble() && f.client == worst.client && f.server == worst.server)
        .min_by_key(|f| (upstream(f), f.id))
        .or(Some(worst))
}

fn assemble(
    analysis: Outcome,
    first: Collect,
    second: Trace,
    chosen: Option<FlowRecord>,
    detailed: HashSet<usize>,
    mut omissions: Vec<String>,
    view: crate::verdict::View,
) -> Doc {
    let failed = analysis.failed();
    let interrupted = analysis.interrupted.then(|| crate::text::interrupted_line(analysis.read));
    let Outcome { points, report, flows, table, karn, names: address_names, .. } = analysis;
    let report = report.unwrap_or_default();
    let points: Vec<PointLine> = points
        .into_iter()
        .enumerate()
        .map(|(i, row)| {
            let span = first.spans.get(i).copied().flatten();
            PointLine { row, first_ts_ns: span.map(|s| s.0), last_ts_ns: span.map(|s| s.1) }
        })
        .collect();
    let span = points
        .iter()
        .filter_map(|p| p.first_ts_ns.zip(p.last_ts_ns))
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    let names: Vec<String> = points.iter().map(|p| p.row.name.clone()).collect();

    let findings = report
        .findings
        .into_iter()
        .enumerate()
        .map(|(i, finding)| {
            let mut rows = Vec::new();
            let cited = if detailed.contains(&(i + 1)) { finding.frames.as_slice() } else { &[] };
            for (n, seen) in cited.iter().enumerate() {
                for r in seen {
                    let d = second.found.get(&(r.point.clone(), r.frame));
                    rows.push(EvidenceRow {
                        packet: n + 1,
                        point: r.point.clone(),
                        frame: r.frame,
                        ts_ns: d.map(|d| d.0),
                        value: d.map(|d| d.1.clone()).unwrap_or_default(),
                    });
                }
            }
            FindingDoc { finding, rows }
        })
        .collect();

    // Ordered as references; only the rows shown are copied.
    let mut troubled: Vec<&FlowRecord> = flows.iter().filter(|f| f.in_trouble()).collect();
    troubled.sort_by(|a, b| b.trouble().cmp(&a.trouble()).then(a.id.cmp(&b.id)));
    let troubled_total = troubled.len();
    let troubled: Vec<FlowRecord> = troubled.into_iter().take(MAX_TROUBLED_ROWS).cloned().collect();

    let checksums = first
        .checksums
        .iter()
        .map(|((p, proto, depth, status), t)| ChecksumLine {
            point: names.get(*p).cloned().unwrap_or_default(),
            layer: format!("{proto}@{depth}"),
            status: *status,
            count: t.count,
            first_frames: t.first.clone(),
        })
        .collect();

    let mut health = Health::default();
    for f in &flows {
        health.add(f);
    }
    let health = (health.flows() > 0).then(|| health.report(table, &karn));

    let syn_timelines = syn_timelines(&first.syns, &report.paths, &names, &flows, &mut omissions);
    let delays = delay_plots(first.sightings, &first.directions, &report.paths, &report.pairs, &names);
    if second.dropped > 0 {
        omissions.push(format!(
            "The time-sequence graph covers the flow's first {MAX_SEGMENTS} segments of {}.",
            second.segments.len() as u64 + second.dropped
        ));
    }
    let trace = chosen.map(|flow| FlowTrace { flow, segments: second.segments });
    Doc {
        command: crate::command_line(),
        version: env!("CARGO_PKG_VERSION"),
        points,
        span,
        paths: report.paths,
        pairs: report.pairs,
        notes: report.notes,
        findings,
        troubled,
        troubled_total,
        flows_total: flows.len(),
        checksums,
        health,
        syn_timelines,
        trace,
        delays,
        detailed,
        omissions,
        interrupted,
        view,
        failed,
        names: address_names,
    }
}

/// Counts and first frames of one checksum verdict.
#[derive(Debug, Default)]
struct Tally {
    count: u64,
    first: Vec<u64>,
}

/// A SYN (without ACK) seen at a point.
#[derive(Debug, Clone, Copy)]
struct SynSeen {
    client: Endpoint,
    server: Endpoint,
    fingerprint: u64,
    point: usize,
    ts_ns: i64,
}

/// A frame's innermost IP packet seen at a point: (fingerprint, direction, point, time).
type Sighting = (u64, u16, u16, i64);

/// The report's own tallies, gathered during the run next to the analysis.
#[derive(Debug, Default)]
struct Collect {
    /// Per point: first and last timestamp.
    spans: Vec<Option<(i64, i64)>>,
    checksums: BTreeMap<(usize, &'static str, u8, Status), Tally>,
    syns: Vec<SynSeen>,
    /// Inner (source, destination) addresses → direction number.
    directions: HashMap<(IpAddr, IpAddr), u16>,
    sightings: Vec<Sighting>,
    sightings_full: bool,
}

impl Observer for Collect {
    type Error = Infallible;

    fn frame(&mut self, e: &FrameEvent<'_>) -> Result<(), Infallible> {
        let (point, frame, packet) = (e.point, &e.frame, e.packet);
        if self.spans.len() <= point {
            self.spans.resize(point + 1, None);
        }
        let ts = frame.ts_ns;
        if frame.has_timestamp {
            let s = &mut self.spans[point];
            *s = Some(s.map_or((ts, ts), |(a, b)| (a.min(ts), b.max(ts))));
        }
        for l in &packet.layers {
            if let Some(v) = l.checksum {
                let t = self.checksums.entry((point, l.proto(), l.depth, v.status)).or_default();
                t.count += 1;
                if t.first.len() < FIRST_FRAMES {
                    t.first.push(frame.number);
                }
            }
        }
        if !frame.has_timestamp {
            return Ok(());
        }
        let Some((fp, src, dst)) = packet_key(packet, frame.data) else { return Ok(()) };
        if let Some(t) = packet.innermost_tcp() {
            let syn_only = t.flags & (tcp_flags::SYN | tcp_flags::ACK) == tcp_flags::SYN;
            if syn_only && self.syns.len() < MAX_SYNS {
                self.syns.push(SynSeen { client: t.src, server: t.dst, fingerprint: fp, point, ts_ns: ts });
            }
        }
        if self.sightings.len() >= MAX_SIGHTINGS {
            self.sightings_full = true;
            return Ok(());
        }
        let next = self.directions.len();
        let dir = match self.directions.get(&(src, dst)) {
            Some(&d) => d,
            None => match u16::try_from(next) {
                Ok(d) => {
                    self.directions.insert((src, dst), d);
                    d
                }
                Err(_) => return Ok(()),
            },
        };
        if let Ok(p) = u16::try_from(point) {
            self.sightings.push((fp, dir, p, ts));
        }
        Ok(())
    }
}

/// After the run: describes the cited frames, keeps the chosen flow's segments.
#[derive(Debug)]
struct Trace {
    /// Point name → frame numbers the findings cite.
    wanted: HashMap<String, HashSet<u64>>,
    /// (point, frame) of the packets a loss finding cites (seen there, missing
    /// downstream): marked on the time-sequence graph.
    lost: HashSet<(String, u64)>,
    /// (point, frame) → (time, description).
    found: HashMap<(String, u64), (i64, String)>,
    /// The traced flow's id, and whether its client is the lower endpoint.
    flow: Option<(u64, bool)>,
    segments: Vec<Segment>,
    dropped: u64,
}

impl Trace {
    /// Wants the frames of the `detailed` findings (by number) and marks those of every
    /// loss finding lost.
    fn new(findings: &[Finding], detailed: &HashSet<usize>, flow: Option<&FlowRecord>) -> Self {
        let mut wanted: HashMap<String, HashSet<u64>> = HashMap::new();
        let mut lost = HashSet::new();
        for (i, f) in findings.iter().enumerate() {
            let loss = LOSS_KINDS.contains(&f.kind);
            let want = detailed.contains(&(i + 1));
            for r in f.frames.iter().flatten() {
                if want {
                    wanted.entry(r.point.clone()).or_default().insert(r.frame);
                }
                if loss {
                    lost.insert((r.point.clone(), r.frame));
                }
            }
        }
        Trace {
            wanted,
            lost,
            found: HashMap::new(),
            flow: flow.map(|f| (f.id, f.client <= f.server)),
            segments: Vec::new(),
            dropped: 0,
        }
    }

    /// Goes over the run's frames once more from its log: the cited ones are read
    /// again and described, the traced flow's segments come from the log alone.
    fn replay(&mut self, log: FrameLog, inputs: &[String], names: &[String], decoder: &Decoder) -> io::Result<()> {
        let (records, mut fetch) = log.replay(inputs)?;
        let mut packet = Packet::default();
        for rec in records {
            let rec = rec?;
            let name = names.get(rec.point as usize).map_or("", String::as_str);
            if self.wanted.get(name).is_some_and(|s| s.contains(&rec.number)) {
                let bytes = fetch.bytes(&rec)?;
                let frame = rec.frame(&bytes);
                decoder.decode_into(frame.link_type, frame.data, &mut packet);
                self.found.insert((name.to_string(), rec.number), (rec.ts_ns, describe(&frame, &packet, rec.segment.as_ref())));
            }
            let (Some((id, client_low)), Some(seg)) = (self.flow, rec.segment) else { continue };
            if seg.flow != id {
                continue;
            }
            if self.segments.len() >= MAX_SEGMENTS {
                self.dropped += 1;
                continue;
            }
            if let Some(t) = rec.tcp {
                self.segments.push(Segment {
                    ts_ns: rec.ts_ns,
                    c2s: t.from_low == client_low,
                    seq: t.seq,
                    ack: t.ack,
                    flags: t.flags,
                    len: t.payload_len,
                    labels: seg.analysis,
                    ack_rtt_ns: seg.ack_rtt_ns,
                    karn: seg.karn,
                    lost: !self.lost.is_empty() && self.lost.contains(&(name.to_string(), rec.number)),
                });
            }
        }
        Ok(())
    }
}

/// What matters in a cited frame, in one line: `74 B; TCP SYN seq 3253012334 len 0;
/// outer UDP checksum 0xffff, expected 0x3525; a Linux receiver drops it
/// (UdpInCsumErrors)` — the length, the innermost TCP header, then the
/// [`crate::evidence::facts`] `netcap extract` also writes.
pub(crate) fn describe(frame: &Frame<'_>, packet: &Packet, segment: Option<&SegmentInfo>) -> String {
    let mut parts = vec![format!("{} B", frame.len)];
    if let Some(t) = packet.innermost_tcp() {
        let mut s = format!("TCP {} seq {}", flag_names(t.flags).join("/"), t.seq);
        if t.flags & tcp_flags::ACK != 0 {
            s.push_str(&format!(" ack {}", t.ack));
        }
        s.push_str(&format!(" len {}", t.payload_len));
        parts.push(s);
    }
    parts.extend(crate::evidence::facts(packet, segment));
    parts.join("; ")
}

/// The connections whose SYN was sent more than once or never answered, each with its
/// attempts at every point of its path.
fn syn_timelines(
    syns: &[SynSeen],
    paths: &[PathReport],
    names: &[String],
    flows: &[FlowRecord],
    omissions: &mut Vec<String>,
) -> Vec<SynTimeline> {
    // The connections whose SYN was retried or failed.
    let troubled: HashSet<(Endpoint, Endpoint)> =
        flows.iter().filter(|f| f.syn.attempts > 1 || f.outcome.failed()).map(|f| (f.client, f.server)).collect();
    // Their SYNs, the connections in order of their first SYN.
    let mut order: Vec<(Endpoint, Endpoint)> = Vec::new();
    let mut of: HashMap<(Endpoint, Endpoint), Vec<&SynSeen>> = HashMap::new();
    for s in syns {
        let key = (s.client, s.server);
        if troubled.contains(&key) {
            of.entry(key)
                .or_insert_with(|| {
                    order.push(key);
                    Vec::new()
                })
                .push(s);
        }
    }
    let path_of: HashMap<&str, &PathReport> = paths.iter().map(|p| (p.direction.as_str(), p)).collect();
    let mut cut = 0;
    let mut out = Vec::new();
    for (client, server) in order.into_iter().take(MAX_TIMELINES) {
        let mine = of.get(&(client, server)).map_or(&[][..], Vec::as_slice);
        let direction = format!("{} > {}", client.ip, server.ip);
        let mut points: Vec<String> = path_of.get(direction.as_str()).map(|p| p.points.clone()).unwrap_or_default();
        let mut row_of: HashMap<String, usize> = points.iter().enumerate().map(|(i, p)| (p.clone(), i)).collect();
        let mut left_out: HashSet<usize> = HashSet::new();
        for s in mine {
            let name = names.get(s.point).cloned().unwrap_or_default();
            if row_of.contains_key(&name) {
                continue;
            }
            if points.len() >= MAX_TIMELINE_POINTS {
                cut += usize::from(left_out.insert(s.point));
                continue;
            }
            row_of.insert(name.clone(), points.len());
            points.push(name);
        }
        // Attempts: distinct fingerprints, in order of first sighting; a fingerprint
        // seen again more than SAME_PACKET_NS after its attempt began is a new attempt.
        let mut attempts: Vec<SynAttempt> = Vec::new();
        let mut latest: HashMap<u64, usize> = HashMap::new();
        for s in mine {
            let name = names.get(s.point).map_or("", String::as_str);
            let Some(&row) = row_of.get(name) else { continue };
            let i = match latest.get(&s.fingerprint) {
                Some(&i) if s.ts_ns.saturating_sub(attempts[i].first_ts_ns) < SAME_PACKET_NS => i,
                _ => {
                    attempts.push(SynAttempt { seen: vec![None; points.len()], first_ts_ns: s.ts_ns });
                    latest.insert(s.fingerprint, attempts.len() - 1);
                    attempts.len() - 1
                }
            };
            let a = &mut attempts[i];
            if a.seen[row].is_none() {
                a.seen[row] = Some(s.ts_ns);
            }
        }
        out.push(SynTimeline { client, server, points, attempts });
    }
    if cut > 0 {
        omissions.push(format!(
            "A SYN timeline shows at most {MAX_TIMELINE_POINTS} capture points: {cut} row{} of other points that saw the SYNs {} left out (the timelines together).",
            if cut == 1 { "" } else { "s" },
            if cut == 1 { "is" } else { "are" }
        ));
    }
    out
}

/// One-way delays between adjacent points of each direction's path, from the
/// sightings of the same packet (fingerprint and direction) within `SAME_PACKET_NS`.
fn delay_plots(
    mut sightings: Vec<Sighting>,
    directions: &HashMap<(IpAddr, IpAddr), u16>,
    paths: &[PathReport],
    pairs: &[netcap_core::correlate::PairReport],
    names: &[String],
) -> Vec<DelayPlot> {
    let numbers: HashMap<&str, u16> =
        names.iter().enumerate().rev().filter_map(|(i, n)| Some((n.as_str(), u16::try_from(i).ok()?))).collect();
    let index = |n: &str| numbers.get(n).copied();
    let path_index: HashMap<&str, usize> = paths.iter().enumerate().rev().map(|(i, p)| (p.direction.as_str(), i)).collect();
    // Direction number → (its path's index, adjacent pairs of the path as point numbers).
    let mut hops_of: HashMap<u16, (usize, Vec<(u16, u16)>)> = HashMap::new();
    for ((src, dst), d) in directions {
        let direction = format!("{src} > {dst}");
        let Some(&i) = path_index.get(direction.as_str()) else { continue };
        let hops = paths[i].points.windows(2).filter_map(|w| Some((index(&w[0])?, index(&w[1])?))).collect();
        hops_of.insert(*d, (i, hops));
    }
    sightings.sort_unstable_by_key(|s| (s.0, s.1, s.3));
    // (path, hop) → (time at upstream, delay).
    let mut samples: BTreeMap<(usize, usize), Vec<(i64, i64)>> = BTreeMap::new();
    let mut at: HashMap<u16, i64> = HashMap::new();
    let mut i = 0;
    while i < sightings.len() {
        let (fp, dir, _, t0) = sightings[i];
        let mut j = i;
        at.clear();
        while j < sightings.len()
            && sightings[j].0 == fp
            && sightings[j].1 == dir
            && sightings[j].3.saturating_sub(t0) < SAME_PACKET_NS
        {
            at.entry(sightings[j].2).or_insert(sightings[j].3);
            j += 1;
        }
        if let Some((path, hops)) = hops_of.get(&dir) {
            for (h, &(a, b)) in hops.iter().enumerate() {
                if let (Some(&ta), Some(&tb)) = (at.get(&a), at.get(&b)) {
                    samples.entry((*path, h)).or_default().push((ta, tb.saturating_sub(ta)));
                }
            }
        }
        i = j.max(i + 1);
    }
    let matched_of: HashMap<(&str, &str), u64> =
        pairs.iter().rev().map(|r| ((r.from.as_str(), r.to.as_str()), r.matched)).collect();
    let mut plots: Vec<DelayPlot> = Vec::new();
    for ((path, h), mut s) in samples {
        let p = &paths[path];
        let (Some(from), Some(to)) = (p.points.get(h), p.points.get(h + 1)) else { continue };
        s.sort_unstable();
        let total = s.len() as u64;
        let matched = matched_of.get(&(from.as_str(), to.as_str())).copied().unwrap_or(total);
        let series = DelaySeries { from: from.clone(), to: to.clone(), samples: plots::thin(s), total, matched };
        // The samples come by path: a path's hops follow each other.
        match plots.last_mut().filter(|d| d.direction == p.direction) {
            Some(d) => d.hops.push(series),
            None => plots.push(DelayPlot { direction: p.direction.clone(), hops: vec![series] }),
        }
    }
    let packets = |d: &DelayPlot| d.hops.iter().map(|h| h.total).max().unwrap_or(0);
    plots.sort_by(|a, b| packets(b).cmp(&packets(a)).then_with(|| a.direction.cmp(&b.direction)));
    plots.truncate(MAX_DELAY_PLOTS);
    for p in &mut plots {
        p.hops.truncate(plots::MAX_SERIES);
    }
    plots
}

/// Shared by the Markdown and HTML writers: `+1.009864 s` after the report's start.
pub(crate) fn offset(doc: &Doc, ts_ns: i64) -> String {
    let t0 = doc.span.map_or(0, |s| s.0);
    let d = ts_ns.saturating_sub(t0);
    let sign = if d < 0 { "-" } else { "+" };
    let d = d.unsigned_abs();
    format!("{sign}{}.{:06} s", d / 1_000_000_000, d % 1_000_000_000 / 1000)
}


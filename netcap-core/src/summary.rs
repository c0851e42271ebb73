//! Per-capture-point statistics: what `netcap summary` reports.
//!
//! A [`Summary`] folds decoded frames one at a time in constant memory per distinct
//! key: frames and bytes per point, the time span, the encapsulation paths seen, the
//! checksum verdicts per (layer, depth, status) with the first frames of every
//! non-`good` verdict, why decoding stopped, the frames a Linux receiver would drop,
//! and the link types netcap does not decode.
//!
//! [`Summarize`] is the whole of `netcap summary` as an [`Observer`] of a run: the
//! summary, the TCP health of the flows and the findings one capture is enough for.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::hash::{Hash, Hasher};

use serde::Serialize;

use crate::capture::{CapturePoint, Frame, LinkType};
use crate::checksum::Status;
use crate::decode::{Packet, StopReason};
use crate::analysis::{FrameEvent, Observer, Outcome, PointInfo};
use crate::findings::{self, flow_findings, Finding, SingleCapture};
use crate::tcp::health::Health;
use crate::tcp::FlowRecord;

/// How many example frames each count keeps by default.
pub const DEFAULT_FIRST_FRAMES: usize = 5;

/// Most distinct encapsulation paths tracked; the rest are counted as `other`.
pub const MAX_PATHS: usize = 256;

/// Most distinct unsupported values tracked per stop reason.
pub const MAX_STOP_VALUES: usize = 32;

/// One capture point's totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PointStats {
    /// The capture point's name ([`CapturePoint::name`]).
    pub name: String,
    /// The file it was read from, as given (`-` for standard input).
    pub file: String,
    /// The pcapng `if_name`, if any.
    pub interface: Option<String>,
    /// Link type of the point's frames.
    pub link_type: LinkType,
    /// Frames of this point folded so far.
    pub frames: u64,
    /// Captured bytes (sum of caplen).
    pub bytes: u64,
    /// Bytes on the wire (sum of the original lengths).
    pub wire_bytes: u64,
    /// Frames whose captured length is shorter than the original (snaplen).
    pub snaplen_cut: u64,
    /// Earliest capture timestamp of the point, in ns since the Unix epoch; `None` while
    /// no frame with a timestamp was seen (pcapng Simple Packet Blocks have none).
    pub first_ts_ns: Option<i64>,
    /// Latest capture timestamp of the point, in ns since the Unix epoch; `None` as for
    /// `first_ts_ns`.
    pub last_ts_ns: Option<i64>,
}

/// A count with the first frames it counted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Frames counted.
    pub count: u64,
    /// The first frames counted, up to the limit given to [`Summary::new`]; none are kept
    /// for `good` checksum verdicts.
    pub first_frames: Vec<findings::FrameRef>,
}

impl Tally {
    fn add(&mut self, keep: usize, at: impl FnOnce() -> findings::FrameRef) {
        self.count += 1;
        if self.first_frames.len() < keep {
            self.first_frames.push(at());
        }
    }
}

/// Checksum verdicts of one layer at one depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ChecksumKey {
    /// The layer's protocol name (`ipv4`, `udp`, `tcp`, …).
    pub proto: &'static str,
    /// The layer's tunnel depth (0: the outermost headers).
    pub depth: u8,
    /// The verdict's status.
    pub status: Status,
}

/// Frames a receiver drops, by the failing layer and the kernel counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DropKey {
    /// Protocol name of the outermost layer whose checksum fails.
    pub layer: &'static str,
    /// That layer's tunnel depth.
    pub depth: u8,
    /// The kernel counter that counts the drop, as `nstat` names it (`UdpInCsumErrors`,
    /// …).
    pub counter: &'static str,
}

/// Why decoding stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StopKey {
    /// The layer decoding stopped at ([`crate::decode::Stop::layer`]).
    pub layer: &'static str,
    /// Why decoding stopped there.
    pub reason: StopReason,
}

/// Stops of one kind, with the values not understood (for `unsupported`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopTally {
    /// Frames that stopped this way, with the first of them.
    pub tally: Tally,
    /// Value → frames, for at most [`MAX_STOP_VALUES`] distinct values.
    pub values: BTreeMap<u32, u64>,
}

/// The running summary of any number of capture points.
#[derive(Debug, Clone)]
pub struct Summary {
    keep: usize,
    /// Per-point totals, indexed by the number [`Summary::add_point`] returned.
    pub points: Vec<PointStats>,
    /// Encapsulation path hash → (path, frames); at most [`MAX_PATHS`] paths.
    paths: HashMap<u64, (Vec<&'static str>, u64)>,
    /// Frames whose path was not tracked because [`MAX_PATHS`] was reached.
    pub other_paths: u64,
    /// Checksum verdicts by (layer, depth, status).
    pub checksums: BTreeMap<ChecksumKey, Tally>,
    /// Frames a Linux receiver drops, by the outermost failing layer, its depth and the
    /// kernel counter.
    pub drops: BTreeMap<DropKey, Tally>,
    /// Frames whose decoding stopped early, by (layer, reason).
    pub stops: BTreeMap<StopKey, StopTally>,
    /// Frames of link types netcap does not decode, by link type.
    pub skipped_link_types: BTreeMap<LinkType, u64>,
}

/// Counts the frame's layer path (`eth/ipv4/udp/…`), tracking at most [`MAX_PATHS`].
fn add_path(
    paths: &mut HashMap<u64, (Vec<&'static str>, u64)>,
    other: &mut u64,
    packet: &Packet,
) {
    let mut h = DefaultHasher::new();
    for l in &packet.layers {
        l.proto().hash(&mut h);
    }
    let key = h.finish();
    if let Some((_, n)) = paths.get_mut(&key) {
        *n += 1;
    } else if paths.len() < MAX_PATHS {
        paths.insert(key, (packet.layers.iter().map(|l| l.proto()).collect(), 1));
    } else {
        *other += 1;
    }
}

impl Default for Summary {
    fn default() -> Self {
        Summary::new(DEFAULT_FIRST_FRAMES)
    }
}

impl Summary {
    /// A summary that keeps up to `first_frames` example frames per count.
    pub fn new(first_frames: usize) -> Self {
        Summary {
            keep: first_frames,
            points: Vec::new(),
            paths: HashMap::new(),
            other_paths: 0,
            checksums: BTreeMap::new(),
            drops: BTreeMap::new(),
            stops: BTreeMap::new(),
            skipped_link_types: BTreeMap::new(),
        }
    }

    /// Registers a capture point; returns the index to pass to [`Summary::add`].
    pub fn add_point(&mut self, p: &CapturePoint) -> usize {
        self.points.push(PointStats {
            name: p.name.clone(),
            file: p.file.clone(),
            interface: p.interface.clone(),
            link_type: p.link_type,
            frames: 0,
            bytes: 0,
            wire_bytes: 0,
            snaplen_cut: 0,
            first_ts_ns: None,
            last_ts_ns: None,
        });
        self.points.len() - 1
    }

    /// Folds one decoded frame of point `point` (an index from [`Summary::add_point`]).
    pub fn add(&mut self, point: usize, frame: &Frame<'_>, packet: &Packet) {
        let Summary { keep, points, paths, other_paths, checksums, drops, stops, skipped_link_types } =
            self;
        let Some(p) = points.get_mut(point) else { return };
        p.frames += 1;
        p.bytes += u64::from(frame.caplen);
        p.wire_bytes += u64::from(frame.len);
        if frame.caplen < frame.len {
            p.snaplen_cut += 1;
        }
        if frame.has_timestamp {
            let ts = frame.ts_ns;
            p.first_ts_ns = Some(p.first_ts_ns.map_or(ts, |f| f.min(ts)));
            p.last_ts_ns = Some(p.last_ts_ns.map_or(ts, |l| l.max(ts)));
        }
        let keep = *keep;
        let name = &p.name;
        let at = || findings::FrameRef { point: name.clone(), frame: frame.number };

        add_path(paths, other_paths, packet);
        for l in &packet.layers {
            if let Some(v) = l.checksum {
                let key = ChecksumKey { proto: l.proto(), depth: l.depth, status: v.status };
                let keep = if v.status == Status::Good { 0 } else { keep };
                checksums.entry(key).or_default().add(keep, at);
            }
        }
        if let Some(d) = packet.drop {
            let key = DropKey { layer: d.layer, depth: d.depth, counter: d.counter };
            drops.entry(key).or_default().add(keep, at);
        }
        if let Some(s) = packet.stop {
            if s.layer == "link" && s.reason == StopReason::Unsupported {
                *skipped_link_types.entry(frame.link_type).or_default() += 1;
            }
            let t = stops.entry(StopKey { layer: s.layer, reason: s.reason }).or_default();
            t.tally.add(keep, at);
            if let Some(v) = s.value {
                if t.values.len() < MAX_STOP_VALUES || t.values.contains_key(&v) {
                    *t.values.entry(v).or_default() += 1;
                }
            }
        }
    }

    /// Encapsulation paths (`eth/ipv4/udp/vxlan/eth/ipv4/tcp`) by frames, most first.
    pub fn encapsulations(&self) -> Vec<(String, u64)> {
        let mut v: Vec<(String, u64)> = self
            .paths
            .values()
            .map(|(p, n)| (if p.is_empty() { "(none)".to_string() } else { p.join("/") }, *n))
            .collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v
    }

    /// Frames over all points.
    pub fn frames(&self) -> u64 {
        self.points.iter().map(|p| p.frames).sum()
    }

    /// Captured bytes over all points.
    pub fn bytes(&self) -> u64 {
        self.points.iter().map(|p| p.bytes).sum()
    }

    /// Earliest and latest timestamp over all points.
    pub fn time_span(&self) -> Option<(i64, i64)> {
        let first = self.points.iter().filter_map(|p| p.first_ts_ns).min()?;
        let last = self.points.iter().filter_map(|p| p.last_ts_ns).max()?;
        Some((first, last))
    }
}

/// The JSON shape of a summary (`netcap summary --format json`), field by field in
/// `docs/output.md`.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Frames over all points.
    pub frames: u64,
    /// Captured bytes over all points.
    pub bytes: u64,
    /// Earliest capture timestamp over all points, in ns since the Unix epoch; `None`
    /// without any timestamp.
    pub first_ts_ns: Option<i64>,
    /// Latest capture timestamp over all points, in ns since the Unix epoch; `None`
    /// without any timestamp.
    pub last_ts_ns: Option<i64>,
    /// `last_ts_ns - first_ts_ns`, in ns; `None` without any timestamp.
    pub duration_ns: Option<i64>,
    /// Per-point totals, in the order the points were added.
    pub points: Vec<PointStats>,
    /// Encapsulation paths by frames, most frequent first; past [`MAX_PATHS`] paths, the
    /// remaining frames in one `(other)` row at the end.
    pub encapsulations: Vec<PathRow>,
    /// Checksum verdicts per layer, depth and status.
    pub checksums: Vec<ChecksumRow>,
    /// Frames a Linux receiver drops, per outermost failing layer, depth and kernel
    /// counter.
    pub receiver_drops: Vec<DropRow>,
    /// Why decoding stopped, per layer and reason.
    pub stops: Vec<StopRow>,
    /// Frames of link types netcap does not decode, per link type.
    pub skipped_link_types: Vec<LinkTypeRow>,
    /// TCP health (filled by the caller that ran the TCP analysis).
    pub tcp: Option<crate::tcp::health::HealthReport>,
    /// Findings one capture is enough for (filled by the caller): frames a receiver
    /// drops, offload artefacts, failed handshakes, SYN retries, retransmission storms.
    pub findings: Vec<Finding>,
}

/// One encapsulation path and its frames (`encapsulations` in the JSON).
#[derive(Debug, Clone, Serialize)]
pub struct PathRow {
    /// The layer stack joined with `/` (`eth/ipv4/udp/vxlan/eth/ipv4/tcp`); `(none)` when
    /// no layer was decoded, `(other)` for the frames past [`MAX_PATHS`] paths.
    pub path: String,
    /// Frames with this path.
    pub frames: u64,
}

/// Checksum verdicts of one layer at one depth with one status (`checksums` in the JSON).
#[derive(Debug, Clone, Serialize)]
pub struct ChecksumRow {
    /// The layer's protocol name (`ipv4`, `udp`, `tcp`, …).
    pub proto: &'static str,
    /// The layer's tunnel depth (0: the outermost headers).
    pub depth: u8,
    /// The verdict's status.
    pub status: Status,
    /// Verdicts with this status.
    pub count: u64,
    /// The first frames with this status, up to the summary's example limit (none for
    /// `good`).
    pub first_frames: Vec<findings::FrameRef>,
}

/// Frames a Linux receiver drops for one failing layer (`receiver_drops` in the JSON).
#[derive(Debug, Clone, Serialize)]
pub struct DropRow {
    /// Protocol name of the outermost layer whose checksum fails.
    pub layer: &'static str,
    /// That layer's tunnel depth.
    pub depth: u8,
    /// The kernel counter that counts the drop, as `nstat` names it (`UdpInCsumErrors`,
    /// …).
    pub counter: &'static str,
    /// Frames dropped.
    pub count: u64,
    /// The first frames dropped, up to the summary's example limit.
    pub first_frames: Vec<findings::FrameRef>,
}

/// Frames whose decoding stopped at one layer for one reason (`stops` in the JSON).
#[derive(Debug, Clone, Serialize)]
pub struct StopRow {
    /// The layer decoding stopped at ([`crate::decode::Stop::layer`]).
    pub layer: &'static str,
    /// Why decoding stopped there.
    pub reason: StopReason,
    /// Frames that stopped this way.
    pub count: u64,
    /// The stops' values (the EtherType, IP protocol or link type not understood; the IP
    /// protocol of a fragment) with their frames, in ascending order; at most
    /// [`MAX_STOP_VALUES`] distinct values.
    pub values: Vec<ValueRow>,
    /// The first frames that stopped this way, up to the summary's example limit.
    pub first_frames: Vec<findings::FrameRef>,
}

/// One value of a [`StopRow`] and the frames that stopped on it.
#[derive(Debug, Clone, Serialize)]
pub struct ValueRow {
    /// The value ([`crate::decode::Stop::value`]).
    pub value: u32,
    /// Frames that stopped on it.
    pub frames: u64,
}

/// Frames of one link type netcap does not decode (`skipped_link_types` in the JSON).
#[derive(Debug, Clone, Serialize)]
pub struct LinkTypeRow {
    /// The link type (LINKTYPE_* value) netcap does not decode.
    pub link_type: LinkType,
    /// Frames of that link type.
    pub frames: u64,
}

impl Summary {
    /// The rows `netcap summary` prints, in display order.
    pub fn report(&self) -> Report {
        let span = self.time_span();
        let mut encapsulations: Vec<PathRow> = self
            .encapsulations()
            .into_iter()
            .map(|(path, frames)| PathRow { path, frames })
            .collect();
        if self.other_paths > 0 {
            encapsulations.push(PathRow { path: "(other)".into(), frames: self.other_paths });
        }
        Report {
            frames: self.frames(),
            bytes: self.bytes(),
            first_ts_ns: span.map(|s| s.0),
            last_ts_ns: span.map(|s| s.1),
            duration_ns: span.map(|(a, b)| b.saturating_sub(a)),
            points: self.points.clone(),
            encapsulations,
            checksums: self
                .checksums
                .iter()
                .map(|(k, t)| ChecksumRow {
                    proto: k.proto,
                    depth: k.depth,
                    status: k.status,
                    count: t.count,
                    first_frames: t.first_frames.clone(),
                })
                .collect(),
            receiver_drops: self
                .drops
                .iter()
                .map(|(k, t)| DropRow {
                    layer: k.layer,
                    depth: k.depth,
                    counter: k.counter,
                    count: t.count,
                    first_frames: t.first_frames.clone(),
                })
                .collect(),
            stops: self
                .stops
                .iter()
                .map(|(k, t)| StopRow {
                    layer: k.layer,
                    reason: k.reason,
                    count: t.tally.count,
                    values: t.values.iter().map(|(&value, &frames)| ValueRow { value, frames }).collect(),
                    first_frames: t.tally.first_frames.clone(),
                })
                .collect(),
            skipped_link_types: self
                .skipped_link_types
                .iter()
                .map(|(&link_type, &frames)| LinkTypeRow { link_type, frames })
                .collect(),
            tcp: None,
            findings: Vec::new(),
        }
    }
}

/// Moved to [`crate::findings::FrameRef`]; kept here so that code written against
/// netcap-core 0.1 still builds.
#[deprecated(since = "0.1.0", note = "use netcap_core::findings::FrameRef")]
pub type FrameRef = crate::findings::FrameRef;

/// Flows in trouble kept for the findings of [`Summarize`].
pub const MAX_TROUBLED: usize = 10_000;

/// `netcap summary` as an [`Observer`]: folds every frame into a [`Summary`] and the
/// single-capture findings, every finished flow into the TCP health; the flows in
/// trouble (the first [`MAX_TROUBLED`]) are kept for the flow findings.
///
/// # Examples
/// ```
/// use netcap_core::analysis::{Analysis, Order};
/// use netcap_core::summary::Summarize;
///
/// let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/lab/flannel/server_underlay.pcap");
/// let mut summarize = Summarize::new(5);
/// let outcome = Analysis::new().file(file).order(Order::Files).keep_flows(false).run(&mut summarize)?;
/// let report = summarize.report(&outcome);
/// assert_eq!(report.frames, 12);
/// assert_eq!(report.findings[0].kind, "dropped_bad_outer_checksum");
/// # Ok::<(), netcap_core::analysis::AnalysisError<std::convert::Infallible>>(())
/// ```
#[derive(Debug)]
pub struct Summarize {
    summary: Summary,
    /// Points added to the summary so far (the run's point numbers, in order).
    points: usize,
    health: Health,
    single: SingleCapture,
    troubled: Vec<FlowRecord>,
}

impl Summarize {
    /// Keeps up to `first_frames` example frames per count.
    pub fn new(first_frames: usize) -> Self {
        Summarize { summary: Summary::new(first_frames), points: 0, health: Health::default(), single: SingleCapture::default(), troubled: Vec::new() }
    }

    /// The report, once the run is over: its flow table and RTT samples are the
    /// outcome's.
    pub fn report(&self, outcome: &Outcome) -> Report {
        let mut report = self.summary.report();
        if self.health.flows() > 0 {
            report.tcp = Some(self.health.report(outcome.table, &outcome.karn));
        }
        report.findings = self.single.findings(&outcome.point_names(), &|_, _| false);
        let more = flow_findings(&self.troubled, &report.findings);
        report.findings.extend(more);
        report
    }
}

impl Observer for Summarize {
    type Error = Infallible;

    fn frame(&mut self, event: &FrameEvent<'_>) -> Result<(), Infallible> {
        while let Some(p) = event.points.get(self.points) {
            self.summary.add_point(&p.capture);
            self.points += 1;
        }
        self.summary.add(event.point, &event.frame, event.packet);
        self.single.add(u32::try_from(event.point).unwrap_or(u32::MAX), &event.frame, event.packet);
        Ok(())
    }

    fn flow(&mut self, _points: &[PointInfo], flow: &FlowRecord) -> Result<(), Infallible> {
        self.health.add(flow);
        if flow.in_trouble() && self.troubled.len() < MAX_TROUBLED {
            self.troubled.push(flow.clone());
        }
        Ok(())
    }
}

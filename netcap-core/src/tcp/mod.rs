//! TCP analysis per capture point: flows, per-segment labels, RTT and SYN retries.
//!
//! Feed every decoded frame, in capture order per point, to [`Analyzer::segment`]; it
//! returns what it found about the frame's innermost TCP segment ([`SegmentInfo`]).
//! Flows that end (idle expiry, eviction, a new connection on the same ports) and, at
//! the end, every live flow come back as [`FlowRecord`]s from
//! [`Analyzer::take_finished`] and [`Analyzer::finish`], named after their capture
//! point once [`Analyzer::name_point`] names it.
//!
//! The rules, their order and where netcap departs from Wireshark 4.0.17 are in
//! `docs/tcp-analysis.md`; the comments below cite them by number (R1 … R14).
//!
//! # References
//! - RFC 9293 (TCP), RFC 7323 (window scale, timestamps), RFC 2018 / 2883 (SACK,
//!   D-SACK), RFC 6298 (RTO; Karn's algorithm, §3), RFC 5681 (duplicate ACKs, fast
//!   retransmit).
//! - Wireshark 4.0 `epan/dissectors/packet-tcp.c`, `tcp_analyze_sequence_number()`, and
//!   the User's Guide section "TCP Analysis".

pub mod health;
pub mod labels;
pub mod seq;
pub(crate) mod shards;
pub mod stats;
pub mod syn;

mod conn;

use serde::Serialize;

use crate::capture::Frame;
use crate::decode::{tcp_flags, LayerKind, Packet};
use crate::flow::table::{Exit, FlowLimits, FlowTable, TableStats};
use crate::flow::{FlowKey, FlowView};

pub use conn::{DirRtt, DirStats, FlowRecord, Negotiated, Outcome, RttReport, SynReport};
pub use labels::{Label, Labels};
pub use seq::Seq;

use conn::{Conn, Segment};
use stats::Samples;

/// How close in capture time two identical packets must be for the second to be a
/// `duplicate_capture` (1 ms). Capture artefacts — a VM's shared vNIC, a SPAN session
/// of both directions, a capture driver's own copy — repeat a packet within
/// microseconds; the sender's earliest resend of a lost segment is a tail loss probe
/// (at least 10 ms on Linux) or a retransmission timeout (200 ms), and a fast
/// retransmission comes after duplicate ACKs with a new IPv4 identification.
pub const DUPLICATE_WINDOW_NS: i64 = 1_000_000;

/// What tells one packet from another of the same flow and direction, from the decoded
/// headers: the IP header's checksum-covered fields that change per packet (IPv4
/// identification, TTL, total length and the header checksum, which covers the rest;
/// IPv6 traffic class, flow label, hop limit, payload length) and the TCP header's
/// (sequence and acknowledgement numbers, flags, window, payload length and the checksum,
/// which covers the options and the payload). Equal keys mean the same packet; mixed into
/// 64 bits with multiply-rotate steps. `None` without an IP header above the TCP one.
fn copy_key(packet: &Packet, tcp_index: usize, payload_len: u32) -> Option<u64> {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |h: u64, w: u64| (h.rotate_left(5) ^ w).wrapping_mul(K);
    let tcp = packet.layers.get(tcp_index)?;
    let LayerKind::Tcp { seq, ack, flags, window, .. } = tcp.kind else { return None };
    let ip_layer = packet.layers.get(tcp_index.checked_sub(1)?)?;
    let ip = match ip_layer.kind {
        LayerKind::Ipv4 { ip_id, ttl, total_len, .. } => {
            let csum = ip_layer.checksum.map_or(0, |v| v.stored);
            (u64::from(ip_id) << 48) | (u64::from(ttl) << 40) | (u64::from(total_len) << 24) | u64::from(csum)
        }
        LayerKind::Ipv6 { traffic_class, flow_label, hop_limit, payload_len, .. } => {
            (1 << 63) | (u64::from(traffic_class) << 48) | (u64::from(flow_label) << 24) | (u64::from(hop_limit) << 16) | u64::from(payload_len)
        }
        _ => return None,
    };
    let tcp_csum = tcp.checksum.map_or(0, |v| v.stored);
    let h = mix(mix(mix(0, ip), (u64::from(seq) << 32) | u64::from(ack)), (u64::from(flags) << 48) | (u64::from(window) << 32) | u64::from(payload_len));
    Some(mix(h, u64::from(tcp_csum)))
}

/// What the analysis says about one TCP segment (`tcp` in `netcap packets`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SegmentInfo {
    /// The flow's id (unique in one run, in order of first frame).
    pub flow: u64,
    /// Labels, Wireshark's names.
    pub analysis: Labels,
    /// This frame acknowledges exactly the end of the segment in frame `acks_frame`
    /// (the first transmission of it), sent `ack_rtt_ns` earlier (Wireshark's
    /// `tcp.analysis.ack_rtt` / `acks_frame`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ack_rtt_ns: Option<i64>,
    /// The frame whose segment this one acknowledges (see `ack_rtt_ns`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acks_frame: Option<u64>,
    /// Whether `ack_rtt_ns` is a Karn sample (no copy of the acknowledged range was
    /// retransmitted).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub karn: bool,
    /// Round trip from the TCP timestamp this frame echoes (RFC 7323 §4.3): the time
    /// since the other side first sent that TSval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ts_echo_rtt_ns: Option<i64>,
    /// Last SYN to the first ACK of the flow, once known (Wireshark's
    /// `tcp.analysis.initial_rtt`); on every later frame of the flow.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_rtt_ns: Option<i64>,
    /// For a `duplicate_ack`: its number (1, 2, …) and the frame it duplicates.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dupack_num: Option<u32>,
    /// For a `duplicate_ack`: the frame of this direction's last segment whose
    /// acknowledgement number moved (Wireshark's `tcp.analysis.duplicate_ack_frame`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dupack_frame: Option<u64>,
}

/// Capture points whose newest timestamp is tracked (for the SYN outcome at the end).
pub(crate) const MAX_TRACKED_POINTS: usize = 1 << 20;

/// How the TCP analysis runs: its limits ([`Analyzer::new`],
/// [`crate::analysis::Analysis::tcp_options`]). Not the options a TCP header carries
/// (MSS, SACK, timestamps): those are [`crate::decode::TcpOptions`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpAnalysisOptions {
    /// Flow table limits: most live flows and the idle timeout.
    pub limits: FlowLimits,
}

/// The name [`TcpAnalysisOptions`] had until two types shared it: the TCP header's
/// options keep the name `TcpOptions` ([`crate::decode::TcpOptions`]); kept here so that
/// code written against netcap-core 0.2 still builds.
#[deprecated(since = "0.2.0", note = "use netcap_core::tcp::TcpAnalysisOptions (decode::TcpOptions is the TCP header's options)")]
pub type TcpOptions = TcpAnalysisOptions;

/// TCP analysis over any number of capture points.
#[derive(Debug)]
pub struct Analyzer {
    table: FlowTable<Conn>,
    next_id: u64,
    finished: Vec<FlowRecord>,
    /// Newest timestamp seen per point: the capture's end when flows are finished.
    newest: Vec<i64>,
    /// Point names given with [`Analyzer::name_point`], by point number.
    names: Vec<String>,
    /// Segments not analysed: IP fragments.
    pub skipped_fragments: u64,
    /// Every Karn RTT sample of every flow (bounded reservoir).
    karn_all: Samples,
}

impl Analyzer {
    /// An analyzer without flows whose flow table has `opts.limits`.
    pub fn new(opts: TcpAnalysisOptions) -> Self {
        Analyzer { table: FlowTable::new(opts.limits), next_id: 0, finished: Vec::new(), newest: Vec::new(), names: Vec::new(), skipped_fragments: 0, karn_all: Samples::default() }
    }

    /// Names capture point `point` (the number passed to [`Analyzer::segment`]): every
    /// flow record of that point handed out after this call
    /// ([`Analyzer::take_finished`], [`Analyzer::finish`]) carries `name` as its
    /// [`FlowRecord::point`]; a point never named leaves it empty. Fed from a
    /// [`CaptureReader`](crate::capture::CaptureReader), name its points as they
    /// appear (`for p in reader.points() { analyzer.name_point(p.id.0, &p.name) }`;
    /// a name already given is not copied again). The engine
    /// ([`crate::analysis::Analysis`]) names its records itself. A point number
    /// beyond 2^20 is not named.
    pub fn name_point(&mut self, point: u32, name: &str) {
        let p = point as usize;
        if p >= MAX_TRACKED_POINTS {
            return;
        }
        if self.names.len() <= p {
            self.names.resize(p + 1, String::new());
        }
        if self.names[p] != name {
            self.names[p] = name.to_string();
        }
    }

    /// `flows` with the names of their points ([`Analyzer::name_point`]).
    fn named(&self, mut flows: Vec<FlowRecord>) -> Vec<FlowRecord> {
        for f in &mut flows {
            if let Some(name) = self.names.get(f.point_index as usize).filter(|n| !n.is_empty()) {
                f.point.clone_from(name);
            }
        }
        flows
    }

    /// Analyses the innermost TCP segment of one decoded frame seen at `point`.
    /// Returns `None` when the frame holds no TCP header (or only a fragment of one).
    pub fn segment(&mut self, point: u32, frame: &Frame<'_>, packet: &Packet) -> Option<SegmentInfo> {
        self.segment_of(point, frame, packet, FlowView::of(packet)?)
    }

    /// [`Analyzer::segment`] with the frame's flow view taken already (the engine takes
    /// it to choose the shard).
    pub(crate) fn segment_of(&mut self, point: u32, frame: &Frame<'_>, packet: &Packet, view: FlowView) -> Option<SegmentInfo> {
        let ts_ns = frame.ts_ns;
        if view.proto != 6 {
            return None;
        }
        let tcp_layer = packet.layers.get(view.layer)?;
        let LayerKind::Tcp { seq, ack, flags, window, options, payload_len, .. } = tcp_layer.kind else {
            return None;
        };
        if view.fragmented {
            self.skipped_fragments += 1;
            return None;
        }
        self.saw_point_until(point, ts_ns);

        // The payload runs to the end the IP header claims, but not past the frame's
        // original length: a frame cut by the snap length keeps the claimed length, a
        // frame whose IP length claims more than was on the wire carries only what is
        // there (as Wireshark's reported length).
        let payload_start = u64::from(tcp_layer.offset) + u64::from(tcp_layer.header_len);
        let on_wire = u64::from(frame.len.max(frame.caplen)).saturating_sub(payload_start);
        let len = payload_len.min(u32::try_from(on_wire).unwrap_or(u32::MAX));

        let seg = Segment {
            frame: frame.number,
            ts_ns,
            seq: Seq(seq),
            ack: Seq(ack),
            flags,
            window,
            len,
            wire_len: frame.len,
            options,
            // Only what R0 can call a copy: a segment with payload, SYN or FIN.
            digest: (len > 0 || flags & (tcp_flags::SYN | tcp_flags::FIN) != 0)
                .then(|| copy_key(packet, view.layer, len))
                .flatten(),
        };
        let (key, dir) = view.key(point);
        let finished = &mut self.finished;
        let newest = &self.newest;
        let mut gone = |k: FlowKey, c: Conn, why: Exit| {
            let end = newest.get(k.point as usize).copied().unwrap_or(i64::MIN);
            finished.push(c.finish(&k, why, end));
        };
        self.table.advance(ts_ns, &mut gone);

        let mut slot = self.table.find(&key);
        if slot.is_none() {
            // A direction on another path than the flow's first: join it to a flow of
            // the same endpoints that so far saw only the other direction.
            slot = self.table.pair(key, |c| c.only_from(dir.reverse()));
            if let Some(c) = slot.and_then(|i| self.table.peek(i)) {
                c.set_alias(dir, key.encap);
            }
        }
        // R1: a SYN with another ISN on a flow whose first sequence number in that
        // direction is known starts a new connection (`reused_ports`).
        let mut reused = false;
        if let Some(i) = slot {
            if self.table.peek(i).is_some_and(|c| c.is_new_connection(dir, &seg)) {
                reused = true;
                self.table.remove(i, Exit::Replaced, &mut gone);
                slot = None;
            }
        }
        let conn = match slot.and_then(|i| self.table.touch(i, ts_ns)) {
            Some(c) => c,
            None => {
                let id = self.next_id;
                self.next_id += 1;
                self.table.insert(key, ts_ns, Conn::new(id, ts_ns), &mut gone)
            }
        };
        let mut info = conn.segment(dir, &seg);
        if reused {
            info.analysis.set(Label::ReusedPorts);
        }
        if let (true, Some(rtt)) = (info.karn, info.ack_rtt_ns) {
            self.karn_all.add(rtt);
        }
        Some(info)
    }

    /// Whether [`Analyzer::segment`] analyses the segment of a frame with this view: a
    /// whole TCP header, not in an IP fragment. Such segments move their point's
    /// capture time on.
    pub(crate) fn analyses(view: &FlowView, packet: &Packet) -> bool {
        view.proto == 6 && !view.fragmented && matches!(packet.layers.get(view.layer).map(|l| &l.kind), Some(LayerKind::Tcp { .. }))
    }

    /// Flows that ended since the last call, in the order they ended.
    pub fn take_finished(&mut self) -> Vec<FlowRecord> {
        let flows = std::mem::take(&mut self.finished);
        self.named(flows)
    }

    /// Ends the analysis: every flow still live, after those already finished.
    pub fn finish(&mut self) -> Vec<FlowRecord> {
        let finished = &mut self.finished;
        let newest = &self.newest;
        self.table.drain(&mut |k: FlowKey, c: Conn, why| {
            let end = newest.get(k.point as usize).copied().unwrap_or(i64::MIN);
            finished.push(c.finish(&k, why, end));
        });
        let flows = std::mem::take(&mut self.finished);
        self.named(flows)
    }

    /// Raises the newest timestamp known at `point` to `ts_ns` (the capture's end as
    /// the flows of that point see it): a shard of the engine sees only its own frames
    /// and is told the point's newest time across all of them. Points are numbered
    /// densely by the caller; a number beyond the cap is not tracked (its flows then end
    /// at their own last frame), so a stray point number cannot allocate.
    pub(crate) fn saw_point_until(&mut self, point: u32, ts_ns: i64) {
        let p = point as usize;
        if p < MAX_TRACKED_POINTS {
            if self.newest.len() <= p {
                self.newest.resize(p + 1, i64::MIN);
            }
            self.newest[p] = self.newest[p].max(ts_ns);
        }
    }

    /// Moves capture time on to `ts_ns` without a frame: flows idle past the timeout
    /// finish ([`Analyzer::take_finished`]).
    pub(crate) fn advance(&mut self, ts_ns: i64) {
        let finished = &mut self.finished;
        let newest = &self.newest;
        self.table.advance(ts_ns, &mut |k: FlowKey, c: Conn, why| {
            let end = newest.get(k.point as usize).copied().unwrap_or(i64::MIN);
            finished.push(c.finish(&k, why, end));
        });
    }

    /// Every Karn-filtered RTT sample seen so far, all flows together.
    pub fn karn_samples(&self) -> &Samples {
        &self.karn_all
    }

    /// What happened to the flow table so far: flows created, expired, evicted and
    /// replaced, and the peak.
    pub fn table_stats(&self) -> TableStats {
        self.table.stats()
    }

    /// The flow table's limits in effect (a `max_flows` or `idle_timeout_ns` below 1
    /// raised to 1).
    pub fn limits(&self) -> FlowLimits {
        self.table.limits()
    }
}

#[cfg(test)]
mod tests;

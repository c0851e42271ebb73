//! One TCP connection's state at one capture point, and its final record.

use std::collections::VecDeque;

use serde::Serialize;

use super::labels::{Label, Labels};
use super::seq::{Seq, SeqRanges};
use super::stats::{Samples, Summary};
use super::syn::{classify, Schedule};
use super::SegmentInfo;
use crate::decode::{tcp_flags as F, TcpOptions};
use crate::flow::table::Exit;
use crate::flow::{Direction, EncapPath, Endpoint, FlowKey};

/// Wireshark's `TCP_MAX_UNACKED_SEGMENTS`: segments remembered per direction for
/// `ack_rtt` until they are acknowledged.
const MAX_UNACKED: usize = 10_000;
/// Holes (gaps before a `lost_segment`) remembered per direction.
const MAX_HOLES: usize = 16;
/// TSvals remembered per direction for timestamp-echo RTT samples.
const MAX_TSVALS: usize = 64;
/// Retransmitted ranges remembered per direction for D-SACK reclassification.
const MAX_RETRANS: usize = 64;
/// SYN offsets kept per connection (the attempt count stays exact).
const MAX_SYN_OFFSETS: usize = 32;
/// Wireshark's fast-retransmission window after the last duplicate ACK (20 ms).
const FAST_RETRANS_NS: i64 = 20_000_000;
/// Wireshark's out-of-order threshold without a handshake RTT (3 ms).
const OOO_DEFAULT_NS: i64 = 3_000_000;

/// The TCP fields of one frame the analysis reads.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Segment {
    pub frame: u64,
    pub ts_ns: i64,
    pub seq: Seq,
    pub ack: Seq,
    pub flags: u16,
    pub window: u16,
    /// Payload bytes by the IP header's length, at most what the frame held on the wire.
    pub len: u32,
    /// The frame's original length.
    pub wire_len: u32,
    pub options: TcpOptions,
    /// What tells this packet from another of its flow and direction (`copy_key`: the
    /// per-packet IP and TCP header fields and both checksums), for a segment with
    /// payload, SYN or FIN; `None` otherwise.
    pub digest: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Unacked {
    frame: u64,
    seq: Seq,
    nextseq: Seq,
    ts_ns: i64,
    retransmission: bool,
}

#[derive(Debug, Clone, Copy)]
struct Hole {
    start: Seq,
    end: Seq,
    /// When the segment that revealed the hole was seen, and its TSval.
    ts_ns: i64,
    tsval: Option<u32>,
}

/// A live direction's counters: those of [`DirStats`] without what is worked out when
/// the flow ends (throughput, the RTT summary), which would be dead weight in each of
/// the million flows a table can hold.
#[derive(Debug, Clone, Copy, Default)]
struct Counters {
    packets: u64,
    bytes: u64,
    payload_bytes: u64,
    data_segments: u64,
    retransmissions: u64,
    retransmitted_bytes: u64,
    fast_retransmissions: u64,
    spurious_retransmissions: u64,
    out_of_order: u64,
    lost_segments: u64,
    duplicate_acks: u64,
    zero_windows: u64,
    duplicate_captures: u64,
}

impl Counters {
    /// The record's counters, given the flow's duration in ns and the direction's RTT.
    fn stats(&self, duration_ns: i64, rtt: DirRtt) -> DirStats {
        let c = *self;
        DirStats {
            packets: c.packets,
            bytes: c.bytes,
            payload_bytes: c.payload_bytes,
            data_segments: c.data_segments,
            retransmissions: c.retransmissions,
            retransmitted_bytes: c.retransmitted_bytes,
            fast_retransmissions: c.fast_retransmissions,
            spurious_retransmissions: c.spurious_retransmissions,
            out_of_order: c.out_of_order,
            lost_segments: c.lost_segments,
            duplicate_acks: c.duplicate_acks,
            zero_windows: c.zero_windows,
            duplicate_captures: c.duplicate_captures,
            throughput_bps: (duration_ns > 0).then(|| c.payload_bytes as f64 * 8.0 * 1e9 / duration_ns as f64),
            rtt,
        }
    }
}

/// Per-direction counters: `c2s` and `s2c` of a flow record.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DirStats {
    /// Segments sent in this direction.
    pub packets: u64,
    /// Sum of the frames' original lengths.
    pub bytes: u64,
    /// TCP payload bytes (by the IP length), retransmissions included.
    pub payload_bytes: u64,
    /// Segments that carried payload, SYN or FIN (what can be retransmitted).
    pub data_segments: u64,
    /// Segments labelled `retransmission`, `fast_retransmission` or
    /// `spurious_retransmission` (the count the sender's kernel calls RetransSegs).
    pub retransmissions: u64,
    /// Payload bytes of those retransmissions.
    pub retransmitted_bytes: u64,
    /// Segments labelled `fast_retransmission` (a subset of `retransmissions`).
    pub fast_retransmissions: u64,
    /// Retransmissions of data already acknowledged or SACKed, plus those a D-SACK
    /// (RFC 2883) later reported as duplicates.
    pub spurious_retransmissions: u64,
    /// Segments labelled `out_of_order` (not counted as retransmissions).
    pub out_of_order: u64,
    /// Gaps in the sequence space (`lost_segment`: previous segment not captured).
    pub lost_segments: u64,
    /// Duplicate ACKs sent in this direction.
    pub duplicate_acks: u64,
    /// Segments advertising a zero window, sent in this direction.
    pub zero_windows: u64,
    /// Frames that were the same packet as one just before (`duplicate_capture`): the
    /// capture saw it twice. Not in any other count.
    pub duplicate_captures: u64,
    /// Payload bits per second over the flow's duration; null for a zero duration.
    pub throughput_bps: Option<f64>,
    /// The round trip of this direction's data: from a segment sent in this direction
    /// to the other side's ACK of it (or echo of its timestamp), as the capture point
    /// sees it — the part of the path beyond the point towards the receiver, and back.
    pub rtt: DirRtt,
}

/// The RTT samples of one direction's data (tcptrace's per-direction RTT).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct DirRtt {
    /// `ack_rtt` samples: this direction's segments to the ACK that covered them.
    pub ack_rtt: Summary,
    /// Those whose acknowledged range was never retransmitted (Karn).
    pub karn: Summary,
    /// Timestamp-echo samples: this direction's TSval to its first echo (RFC 7323).
    pub ts_echo: Summary,
}

/// The samples behind a [`DirRtt`] (or, for the whole flow, an [`RttReport`]).
#[derive(Debug, Default)]
struct DirSamples {
    ack_rtt: Samples,
    karn: Samples,
    ts_echo: Samples,
}

/// A flow's RTT samples: the flow's, and each direction's (by [`Direction::index`]).
/// Boxed, and made at the first sample: most flows of a scan or a flood have none, and
/// nine sets of samples would be a quarter of their size.
#[derive(Debug, Default)]
struct RttSamples {
    flow: DirSamples,
    dirs: [DirSamples; 2],
}

impl DirSamples {
    fn summary(&self) -> DirRtt {
        DirRtt { ack_rtt: self.ack_rtt.summary(), karn: self.karn.summary(), ts_echo: self.ts_echo.summary() }
    }
}

#[derive(Debug, Default)]
struct Dir {
    // Wireshark's per-direction state (0 means "not set", as in Wireshark).
    base_set: bool,
    base_seq: Seq,
    nextseq: Seq,
    nextseq_ts: i64,
    maxseqtobeacked: Seq,
    lastack: Seq,
    lastack_ts: i64,
    window: u16,
    /// -1 unknown, -2 not used, else the shift.
    win_scale: i8,
    dupacks: i32,
    lastnondupack: u64,
    last_labels: Labels,
    unacked: VecDeque<Unacked>,
    /// Each unacked segment starts at or after the end of the one before (no resend, no
    /// overlap): an ACK then removes a prefix and can only cut into the first remaining
    /// segment, so R14 stops at the first segment it keeps.
    unacked_ordered: bool,
    // netcap's own.
    seen: SeqRanges,
    holes: Vec<Hole>,
    /// This direction's data the other side reported in SACK blocks.
    sacked: SeqRanges,
    tsvals: VecDeque<(u32, i64, bool)>,
    retrans: VecDeque<(Seq, Seq, bool)>,
    syn_options: Option<TcpOptions>,
    /// The last segment's digest and capture time, and how many segments the other
    /// direction had sent by then.
    last_sent: Option<(u64, i64, u64)>,
    fin: bool,
    rst: bool,
    stats: Counters,
}

impl Dir {
    fn new() -> Self {
        Dir { win_scale: -1, unacked_ordered: true, ..Dir::default() }
    }
}

/// How a connection ended up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// SYN answered by RST, no SYN/ACK.
    Refused,
    /// SYNs unanswered, and the capture went on past the client's next retry time (or
    /// the flow expired): the client gave up.
    TimedOut,
    /// SYNs unanswered when the capture ended.
    Unanswered,
    /// Ended by a RST after the handshake (or mid-stream).
    Reset,
    /// FIN in both directions.
    Closed,
    /// Handshake seen, neither closed nor reset when the capture ended (ongoing).
    Established,
    /// No handshake seen, neither closed nor reset.
    MidStream,
}

impl Outcome {
    /// The snake_case name used in JSON and text output (`refused`, `timed_out`,
    /// `mid_stream`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Refused => "refused",
            Outcome::TimedOut => "timed_out",
            Outcome::Unanswered => "unanswered",
            Outcome::Reset => "reset",
            Outcome::Closed => "closed",
            Outcome::Established => "established",
            Outcome::MidStream => "mid_stream",
        }
    }

    /// The handshake failed.
    pub fn failed(self) -> bool {
        matches!(self, Outcome::Refused | Outcome::TimedOut | Outcome::Unanswered)
    }
}

/// SYN attempts of the connection.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SynReport {
    /// SYNs (without ACK) the client sent with the connection's ISN.
    pub attempts: u32,
    /// Each attempt's time after the first (the first is 0); at most 32 kept.
    pub offsets_ns: Vec<i64>,
    /// The backoff schedule the gaps between attempts follow.
    pub schedule: Schedule,
    /// `established`, `refused`, `timed_out`, `unanswered`, or null without a SYN.
    pub outcome: Option<Outcome>,
    /// First SYN to the SYN/ACK the client answered.
    pub connect_delay_ns: Option<i64>,
}

/// RTT statistics of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RttReport {
    /// Every `ack_rtt` sample of the flow, both directions pooled (each direction's:
    /// [`DirStats::rtt`]).
    pub ack_rtt: Summary,
    /// The `ack_rtt` samples whose acknowledged range was never retransmitted (Karn).
    pub karn: Summary,
    /// Timestamp-echo samples (RFC 7323).
    pub ts_echo: Summary,
    /// Last SYN before the SYN/ACK to the SYN/ACK.
    pub syn_synack_ns: Option<i64>,
    /// SYN/ACK to the client's ACK that completed the handshake.
    pub synack_ack_ns: Option<i64>,
    /// Wireshark's `initial_rtt`: the last SYN to the first ACK.
    pub initial_rtt_ns: Option<i64>,
}

/// A value per side.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Sides<T> {
    /// The client's value (from its SYN); `None` when absent or no SYN from it was seen.
    pub client: Option<T>,
    /// The server's value (from its SYN/ACK); `None` when absent or no SYN/ACK was seen.
    pub server: Option<T>,
}

/// Options the SYN and SYN/ACK carried.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Negotiated {
    /// Maximum segment size option of each side's SYN (the server's SYN/ACK), in bytes.
    pub mss: Sides<u16>,
    /// Window scale shift of each side's SYN (the server's SYN/ACK); `None`: that side
    /// offered no scaling.
    pub window_scale: Sides<u8>,
    /// Both SYNs offered SACK.
    pub sack_permitted: bool,
    /// Both SYNs carried timestamps.
    pub timestamps: bool,
}

/// Everything netcap knows about one flow when it ends (`netcap flows --format json`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowRecord {
    /// The flow's id: unique within the run, in order of first frame (the `flow` of its
    /// frames' [`SegmentInfo`]).
    pub id: u64,
    /// The capture point's name: in a run of the engine its
    /// [`PointInfo::name`](crate::analysis::PointInfo::name), from a lone
    /// [`Analyzer`](super::Analyzer) the name given with
    /// [`Analyzer::name_point`](super::Analyzer::name_point) (empty for a point never
    /// named).
    pub point: String,
    /// Index of the capture point, as passed to [`super::Analyzer::segment`].
    #[serde(skip)]
    pub point_index: u32,
    /// The SYN sender; else the receiver of a SYN/ACK; else the first sender.
    pub client: Endpoint,
    /// The other endpoint.
    pub server: Endpoint,
    /// Outer headers, outermost first, as a client → server frame carries them.
    pub encapsulation: EncapPath,
    /// Outer headers as a server → client frame carries them, when the two directions
    /// travel different paths (a VLAN tag one way only, a VNI per direction, mirrored
    /// traffic); null when the server's frames carry `encapsulation` mirrored.
    pub encapsulation_s2c: Option<EncapPath>,
    /// How the connection ended up.
    pub outcome: Outcome,
    /// Both the SYN and the SYN/ACK were seen.
    pub handshake: bool,
    /// Why the record was written: `end` of input, `expired` (idle), `evicted` (table
    /// full) or `replaced` (a new connection on the same ports).
    pub exit: Exit,
    /// Capture time of the flow's first frame, in ns since the Unix epoch.
    pub first_ts_ns: i64,
    /// Capture time of the flow's newest frame, in ns since the Unix epoch.
    pub last_ts_ns: i64,
    /// `last_ts_ns - first_ts_ns`, in ns.
    pub duration_ns: i64,
    /// Counters of the client to server direction.
    pub c2s: DirStats,
    /// Counters of the server to client direction.
    pub s2c: DirStats,
    /// The client's SYN attempts, their schedule and outcome.
    pub syn: SynReport,
    /// RTT samples of the flow and the handshake's split.
    pub rtt: RttReport,
    /// Options the SYN and SYN/ACK carried.
    pub negotiated: Negotiated,
}

impl FlowRecord {
    /// All retransmissions, both directions.
    pub fn retransmissions(&self) -> u64 {
        self.c2s.retransmissions + self.s2c.retransmissions
    }

    /// How much trouble the flow is in, for ordering: failed handshakes first, then
    /// resets, then SYN retries, retransmissions, lost segments and duplicate ACKs.
    pub fn trouble(&self) -> (u8, u64) {
        let class = if self.outcome.failed() {
            4
        } else if self.outcome == Outcome::Reset {
            3
        } else if self.syn.attempts > 1 {
            2
        } else if self.retransmissions() + self.c2s.lost_segments + self.s2c.lost_segments > 0 {
            1
        } else {
            0
        };
        let weight = self.retransmissions() * 4
            + u64::from(self.syn.attempts.saturating_sub(1)) * 8
            + self.c2s.lost_segments
            + self.s2c.lost_segments
            + self.c2s.duplicate_acks
            + self.s2c.duplicate_acks;
        (class, weight)
    }

    /// Whether the flow is in trouble: a failed handshake, a reset, SYN retries,
    /// retransmissions or lost segments (a [`FlowRecord::trouble`] class above 0).
    pub fn in_trouble(&self) -> bool {
        self.trouble().0 > 0
    }
}

#[derive(Debug)]
pub(crate) struct Conn {
    id: u64,
    first_ts: i64,
    last_ts: i64,
    dirs: [Dir; 2],
    client: Option<Direction>,
    /// The direction whose frames travel another path than the flow key's, and that
    /// path (as a frame from the key's `a` endpoint would carry it).
    alias: Option<(Direction, EncapPath)>,
    /// Direction of the SYN sender (also `client`).
    syn_dir: Option<Direction>,
    isn: Option<Seq>,
    syn_attempts: u32,
    syn_offsets: Vec<i64>,
    first_syn_ts: i64,
    last_syn_ts: i64,
    /// Wireshark's `ts_mru_syn` (0: none).
    ts_mru_syn: i64,
    first_rtt: Option<i64>,
    synack: Option<(i64, Seq)>,
    syn_at_synack: i64,
    established: bool,
    connect_delay: Option<i64>,
    syn_synack: Option<i64>,
    synack_ack: Option<i64>,
    refused: bool,
    /// None until the first RTT sample.
    rtt: Option<Box<RttSamples>>,
}

fn split(dirs: &mut [Dir; 2], d: Direction) -> (&mut Dir, &mut Dir) {
    let [a, b] = dirs;
    match d {
        Direction::AtoB => (a, b),
        Direction::BtoA => (b, a),
    }
}

impl Conn {
    pub(crate) fn new(id: u64, ts_ns: i64) -> Self {
        Conn {
            id,
            first_ts: ts_ns,
            last_ts: ts_ns,
            dirs: [Dir::new(), Dir::new()],
            client: None,
            alias: None,
            syn_dir: None,
            isn: None,
            syn_attempts: 0,
            syn_offsets: Vec::new(),
            first_syn_ts: 0,
            last_syn_ts: 0,
            ts_mru_syn: 0,
            first_rtt: None,
            synack: None,
            syn_at_synack: 0,
            established: false,
            connect_delay: None,
            syn_synack: None,
            synack_ack: None,
            refused: false,
            rtt: None,
        }
    }

    /// Whether every segment so far was sent in direction `d`.
    pub(crate) fn only_from(&self, d: Direction) -> bool {
        self.dirs[d.reverse().index()].stats.packets == 0 && self.dirs[d.index()].stats.packets > 0
    }

    /// Frames in direction `d` travel `path` (in the key's orientation), not the key's.
    pub(crate) fn set_alias(&mut self, d: Direction, path: EncapPath) {
        self.alias = Some((d, path));
    }

    /// R1: a SYN (without ACK) whose sequence number differs from the ISN this
    /// direction started with begins a new connection on the same key (Wireshark:
    /// `base_seq` set and different).
    pub(crate) fn is_new_connection(&self, d: Direction, s: &Segment) -> bool {
        let fwd = &self.dirs[d.index()];
        s.flags & (F::SYN | F::ACK) == F::SYN && fwd.base_set && s.seq != fwd.base_seq
    }

    /// Analyses one segment sent in direction `d`.
    pub(crate) fn segment(&mut self, d: Direction, s: &Segment) -> SegmentInfo {
        let ts = s.ts_ns;
        if ts > self.last_ts {
            self.last_ts = ts;
        }
        let syn = s.flags & F::SYN != 0;
        let ackf = s.flags & F::ACK != 0;
        let fin = s.flags & F::FIN != 0;
        let rst = s.flags & F::RST != 0;
        let sfr = s.flags & (F::SYN | F::FIN | F::RST) != 0;
        let seglen = s.len;
        let mut info = SegmentInfo { flow: self.id, ..SegmentInfo::default() };
        let mut l = Labels::default();

        // R0: the last segment of this direction again — one that carries payload, SYN or
        // FIN —, within the window, with nothing from the other side in between: a
        // second copy of one packet, not a second transmission. Such a segment is resent
        // only when the other side asks (duplicate ACKs) or a timer fires (10 ms at the
        // least), and a Linux resend carries a new IPv4 identification. Pure ACKs and
        // RSTs are left out: a burst of identical ones answering segments sent earlier (a
        // RST per segment after a reset, duplicate ACKs from a stack that sends
        // identification 0) cannot be told from copies. R0 changes nothing else.
        if let Some(digest) = s.digest.filter(|_| seglen > 0 || syn || fin) {
            let rev_sent = self.dirs[d.reverse().index()].stats.packets;
            let fwd = &mut self.dirs[d.index()];
            let copy = fwd.last_sent.is_some_and(|(dg, t, rev)| {
                dg == digest && rev == rev_sent && ts >= t && ts - t <= super::DUPLICATE_WINDOW_NS
            });
            if copy {
                fwd.stats.duplicate_captures += 1;
                info.analysis.set(Label::DuplicateCapture);
                return info;
            }
            fwd.last_sent = Some((digest, ts, rev_sent));
        }

        self.handshake_before(d, s);
        let ooo_thres = self.first_rtt.filter(|&r| r != 0).unwrap_or(OOO_DEFAULT_NS);

        let (fwd, rev) = split(&mut self.dirs, d);
        fwd.stats.packets += 1;
        fwd.stats.bytes += u64::from(s.wire_len);
        fwd.stats.payload_bytes += u64::from(seglen);
        if seglen > 0 || syn || fin {
            fwd.stats.data_segments += 1;
        }
        if syn {
            fwd.syn_options.get_or_insert(s.options);
        }
        if rst {
            fwd.rst = true;
        }
        if fin {
            fwd.fin = true;
        }

        // R1, same ISN: a SYN repeating this direction's ISN is the same connection. A
        // RST sent since may have carried a sequence number far from the data (RFC 9293
        // §3.10.7.3: the acknowledgement it answers), so the next expected sequence number
        // goes back to the highest in-order one (Wireshark, issue 17616).
        if s.flags & (F::SYN | F::ACK) == F::SYN && fwd.base_set && s.seq == fwd.base_seq {
            fwd.nextseq = fwd.maxseqtobeacked;
        }

        // Relative-sequence bases (Wireshark; R1 uses them).
        if !fwd.base_set {
            fwd.base_seq = if syn { s.seq } else { s.seq.plus(u32::MAX) };
            fwd.base_set = true;
        }
        if !rev.base_set && ackf {
            rev.base_seq = s.ack.plus(u32::MAX);
            rev.base_set = true;
        }
        window_scaling(fwd, rev, s);

        // R2 … R9: Wireshark's checks in its order.
        let mut finished_fwd = false;
        if seglen == 1 && s.seq == fwd.nextseq && rev.window == 0 {
            l.set(Label::ZeroWindowProbe); // R2
            finished_fwd = true;
        }
        if !finished_fwd {
            if s.window == 0 && !sfr {
                l.set(Label::ZeroWindow); // R3
            }
            if fwd.nextseq != Seq(0) && s.seq.gt(fwd.nextseq) && !rst {
                l.set(Label::LostSegment); // R4
                if fwd.holes.len() == MAX_HOLES {
                    fwd.holes.remove(0);
                }
                let tsval = s.options.timestamps.map(|t| t.0);
                fwd.holes.push(Hole { start: fwd.nextseq, end: s.seq, ts_ns: ts, tsval });
            }
            if seglen <= 1 && s.seq == fwd.nextseq.plus(u32::MAX) && !sfr {
                l.set(Label::KeepAlive); // R5
            }
            let same_place = s.seq == fwd.nextseq && s.ack == fwd.lastack && !sfr;
            if seglen == 0 && s.window != 0 && s.window != fwd.window && same_place {
                l.set(Label::WindowUpdate); // R6
            }
            if seglen > 0 && rev.win_scale != -1 && !sfr {
                let shift = u32::try_from(rev.win_scale.max(0)).unwrap_or(0);
                let edge = rev.lastack.plus(u32::from(rev.window).checked_shl(shift).unwrap_or(0));
                if s.seq.plus(seglen) == edge {
                    l.set(Label::WindowFull); // R7
                }
            }
            let repeat = seglen == 0 && s.window == fwd.window && same_place;
            if repeat && s.window != 0 && rev.last_labels.has(Label::KeepAlive) {
                l.set(Label::KeepAliveAck); // R8
            } else if repeat && s.window == 0 && rev.last_labels.has(Label::ZeroWindowProbe) {
                l.set(Label::ZeroWindowProbeAck); // R8
            } else if repeat && s.window != 0 {
                fwd.dupacks = if fwd.dupacks == -1 { 1 } else { fwd.dupacks + 1 }; // R9
                l.set(Label::DuplicateAck);
                info.dupack_num = u32::try_from(fwd.dupacks).ok();
                info.dupack_frame = Some(fwd.lastnondupack);
            }
        }
        if s.ack != fwd.lastack {
            fwd.lastnondupack = s.frame;
            fwd.dupacks = 0;
        }
        // R10: the ACK covers data of the other direction that was never seen.
        if rev.maxseqtobeacked != Seq(0) && s.ack.gt(rev.maxseqtobeacked) && ackf {
            if rev.maxseqtobeacked.0 > rev.nextseq.0 {
                rev.maxseqtobeacked = rev.nextseq;
                l.set(Label::AckLostSegment);
            } else {
                if rev.dupacks == 0 {
                    l.set(Label::AckLostSegment);
                }
                rev.dupacks = -1;
            }
        }

        // R11 … R13: the retransmission family.
        let synfin = u32::from(syn || fin);
        let end = s.seq.plus(seglen).plus(synfin);
        if (seglen > 0 || syn || fin) && !l.has(Label::KeepAlive) {
            let mut below = fwd.nextseq != Seq(0) && s.seq.lt(fwd.nextseq);
            if seglen > 1 && fwd.nextseq.plus(u32::MAX) == s.seq {
                below = false;
            }
            if seglen > 0 && rev.lastack != Seq(0) && s.seq.plus(seglen).le(rev.lastack) {
                l.set(Label::SpuriousRetransmission); // R11: already acknowledged
            } else if below {
                l.set(classify_below(fwd, rev, s, end, ooo_thres)); // R12, R13
            }
        }

        // Bookkeeping, as Wireshark does it after the checks.
        let zwp = l.has(Label::ZeroWindowProbe);
        if (seglen > 0 || syn || fin) && fwd.unacked.len() < MAX_UNACKED {
            if fwd.unacked.back().is_some_and(|b| s.seq.lt(b.nextseq)) {
                fwd.unacked_ordered = false;
            }
            fwd.unacked.push_back(Unacked {
                frame: s.frame,
                seq: s.seq,
                nextseq: end,
                ts_ns: ts,
                retransmission: l.is_retransmission() || l.has(Label::OutOfOrder),
            });
        }
        let nextseq = s.seq.plus(seglen).plus(synfin);
        if (nextseq.gt(fwd.nextseq) || fwd.nextseq == Seq(0)) && !zwp {
            fwd.nextseq = nextseq;
            fwd.nextseq_ts = ts;
        }
        if (s.seq == fwd.maxseqtobeacked || fwd.maxseqtobeacked == Seq(0)) && !zwp {
            fwd.maxseqtobeacked = fwd.nextseq;
        }
        fwd.window = s.window;
        fwd.lastack = s.ack;
        fwd.lastack_ts = ts;
        fwd.last_labels = l;
        if !zwp {
            fwd.seen.insert(s.seq, end);
            fwd.holes.retain(|h| !(s.seq.le(h.start) && h.end.le(end)));
        }
        if l.is_retransmission() || l.has(Label::OutOfOrder) {
            if fwd.retrans.len() == MAX_RETRANS {
                fwd.retrans.pop_front();
            }
            // The flag says a D-SACK must not count it (again) as spurious: already
            // spurious, or out of order (not a retransmission).
            let settled = l.has(Label::SpuriousRetransmission) || l.has(Label::OutOfOrder);
            fwd.retrans.push_back((s.seq, s.seq.plus(seglen), settled));
        }

        // Counters.
        if l.is_retransmission() {
            fwd.stats.retransmissions += 1;
            fwd.stats.retransmitted_bytes += u64::from(seglen);
        }
        let st = &mut fwd.stats;
        for (label, counter) in [
            (Label::FastRetransmission, &mut st.fast_retransmissions),
            (Label::SpuriousRetransmission, &mut st.spurious_retransmissions),
            (Label::OutOfOrder, &mut st.out_of_order),
            (Label::LostSegment, &mut st.lost_segments),
            (Label::DuplicateAck, &mut st.duplicate_acks),
            (Label::ZeroWindow, &mut st.zero_windows),
        ] {
            *counter += u64::from(l.has(label));
        }

        // R14: what this segment acknowledges: ack_rtt from the first transmission.
        let mut acked: Option<Unacked> = None;
        let mut acked_retransmitted = false;
        // Wireshark's walk: a segment whose end the ACK names exactly is acknowledged
        // (the oldest such copy gives the RTT); one the ACK cuts into keeps its rest;
        // one wholly before it is dropped.
        let mut step = |u: &mut Unacked| -> bool {
            if s.ack == u.nextseq {
                if acked.is_none() {
                    acked = Some(*u);
                }
                acked_retransmitted |= u.retransmission;
                false
            } else if s.ack.gt(u.seq) && s.ack.le(u.nextseq) {
                u.seq = s.ack;
                true
            } else {
                u.nextseq.gt(s.ack)
            }
        };
        if rev.unacked_ordered {
            while let Some(u) = rev.unacked.front_mut() {
                if step(u) {
                    break;
                }
                rev.unacked.pop_front();
            }
        } else {
            rev.unacked.retain_mut(step);
        }
        if rev.unacked.is_empty() {
            rev.unacked_ordered = true;
        }
        if let Some(u) = acked {
            let rtt = ts - u.ts_ns;
            info.acks_frame = Some(u.frame);
            info.ack_rtt_ns = Some(rtt);
            let samples = self.rtt.get_or_insert_with(Box::default);
            // The ACK covers the other direction's data: its round trip.
            let of_rev = &mut samples.dirs[d.reverse().index()];
            samples.flow.ack_rtt.add(rtt);
            of_rev.ack_rtt.add(rtt);
            // Karn: no sample when any copy of the acknowledged range was retransmitted.
            let karn = !acked_retransmitted && !rev.retrans.iter().any(|&(a, b, _)| a.lt(u.nextseq) && u.seq.lt(b.max(a.plus(1))));
            if karn {
                samples.flow.karn.add(rtt);
                of_rev.karn.add(rtt);
                info.karn = true;
            }
        }
        if ackf {
            sack_bookkeeping(rev, s);
            rev.sacked.forget_before(s.ack);
            if rev.nextseq != Seq(0) && s.ack.le(rev.nextseq) {
                rev.seen.forget_before(s.ack);
            }
        }
        // Timestamp echo (RFC 7323 §4.3): one sample per TSval, on its first echo.
        if let Some((tsval, tsecr)) = s.options.timestamps {
            // Kept in increasing TSval order (an older TSval, reordered, is not kept), so
            // the echo is found by binary search.
            if fwd.tsvals.back().is_none_or(|&(v, _, _)| Seq(tsval).gt(Seq(v))) {
                if fwd.tsvals.len() == MAX_TSVALS {
                    fwd.tsvals.pop_front();
                }
                fwd.tsvals.push_back((tsval, ts, false));
            }
            if ackf && tsecr != 0 {
                let at = rev.tsvals.partition_point(|e| Seq(e.0).lt(Seq(tsecr)));
                if let Some(e) = rev.tsvals.get_mut(at).filter(|e| e.0 == tsecr && !e.2) {
                    e.2 = true;
                    let rtt = ts - e.1;
                    let samples = self.rtt.get_or_insert_with(Box::default);
                    samples.flow.ts_echo.add(rtt);
                    samples.dirs[d.reverse().index()].ts_echo.add(rtt);
                    info.ts_echo_rtt_ns = Some(rtt);
                }
            }
        }

        self.handshake_after(d, s);
        info.initial_rtt_ns = self.first_rtt;
        info.analysis = l;
        info
    }

    /// SYN attempts and SYN/ACKs, before the segment is analysed.
    fn handshake_before(&mut self, d: Direction, s: &Segment) {
        let syn = s.flags & F::SYN != 0;
        let ackf = s.flags & F::ACK != 0;
        if syn && !ackf {
            if self.syn_dir.is_none() {
                self.syn_dir = Some(d);
                self.client = Some(d);
                self.isn = Some(s.seq);
                self.first_syn_ts = s.ts_ns;
            }
            if self.syn_dir == Some(d) && self.isn == Some(s.seq) {
                self.syn_attempts += 1;
                if self.syn_offsets.len() < MAX_SYN_OFFSETS {
                    self.syn_offsets.push(s.ts_ns - self.first_syn_ts);
                }
                self.last_syn_ts = s.ts_ns;
            }
        }
        if syn && ackf {
            if self.client.is_none() {
                self.client = Some(d.reverse());
            }
            if Some(d.reverse()) == self.client {
                self.synack = Some((s.ts_ns, s.seq));
                self.syn_at_synack = self.ts_mru_syn;
            }
        }
        if self.client.is_none() {
            self.client = Some(d);
        }
        if s.flags & F::RST != 0 && !self.established && self.synack.is_none() && self.syn_attempts > 0 && Some(d) != self.client
        {
            self.refused = true;
        }
    }

    /// Handshake completion and Wireshark's initial RTT, after the analysis.
    fn handshake_after(&mut self, d: Direction, s: &Segment) {
        let syn = s.flags & F::SYN != 0;
        if syn && s.flags & F::ACK == 0 {
            self.ts_mru_syn = s.ts_ns;
        }
        if s.flags & (F::SYN | F::ACK) == F::ACK && self.ts_mru_syn != 0 && self.first_rtt.is_none() {
            self.first_rtt = Some(s.ts_ns - self.ts_mru_syn);
        }
        if !self.established && s.flags & (F::SYN | F::ACK | F::RST) == F::ACK && Some(d) == self.client {
            if let Some((synack_ts, synack_seq)) = self.synack {
                if s.ack == synack_seq.plus(1) {
                    self.established = true;
                    if self.syn_attempts > 0 {
                        self.connect_delay = Some(synack_ts - self.first_syn_ts);
                        if self.syn_at_synack != 0 {
                            self.syn_synack = Some(synack_ts - self.syn_at_synack);
                        }
                    }
                    self.synack_ack = Some(s.ts_ns - synack_ts);
                }
            }
        }
    }

    /// The flow's record. `capture_end` is the newest timestamp seen at its point.
    pub(crate) fn finish(self, key: &FlowKey, exit: Exit, capture_end: i64) -> FlowRecord {
        let client_dir = self.client.unwrap_or(Direction::AtoB);
        // Each direction's path as its own frames carry it.
        let path_of = |d: Direction| {
            let p = match self.alias {
                Some((ad, p)) if ad == d => p,
                _ => key.encap,
            };
            match d {
                Direction::AtoB => p,
                Direction::BtoA => p.reversed(),
            }
        };
        let (client, server) = match client_dir {
            Direction::AtoB => (key.a, key.b),
            Direction::BtoA => (key.b, key.a),
        };
        let encapsulation = path_of(client_dir);
        let encapsulation_s2c = self.alias.map(|_| path_of(client_dir.reverse()));
        let [d0, d1] = self.dirs;
        let (c, sv) = match client_dir {
            Direction::AtoB => (d0, d1),
            Direction::BtoA => (d1, d0),
        };
        let duration = self.last_ts - self.first_ts;
        let syn_outcome = if self.syn_attempts == 0 {
            None
        } else if self.established || self.synack.is_some() {
            Some(Outcome::Established)
        } else if self.refused {
            Some(Outcome::Refused)
        } else {
            // The client gives up after its last RTO; the next one would be at least
            // twice the last gap (1 s after a single attempt).
            let last_gap = match self.syn_offsets.as_slice() {
                [.., a, b] => b - a,
                _ => 1_000_000_000,
            };
            let waited = capture_end.max(self.last_ts).saturating_sub(self.last_syn_ts);
            if matches!(exit, Exit::Expired | Exit::Evicted) || waited > last_gap.saturating_mul(2) {
                Some(Outcome::TimedOut)
            } else {
                Some(Outcome::Unanswered)
            }
        };
        let outcome = match syn_outcome {
            Some(o) if o.failed() => o,
            _ if c.rst || sv.rst => Outcome::Reset,
            _ if c.fin && sv.fin => Outcome::Closed,
            Some(Outcome::Established) => Outcome::Established,
            _ => Outcome::MidStream,
        };
        let none = RttSamples::default();
        let rtt = self.rtt.as_deref().unwrap_or(&none);
        let c2s = c.stats.stats(duration, rtt.dirs[client_dir.index()].summary());
        let s2c = sv.stats.stats(duration, rtt.dirs[client_dir.reverse().index()].summary());
        let (co, so) = (c.syn_options.unwrap_or_default(), sv.syn_options.unwrap_or_default());
        let both = c.syn_options.is_some() && sv.syn_options.is_some();
        FlowRecord {
            id: self.id,
            point: String::new(),
            point_index: key.point,
            client,
            server,
            encapsulation,
            encapsulation_s2c,
            outcome,
            handshake: self.syn_attempts > 0 && self.synack.is_some(),
            exit,
            first_ts_ns: self.first_ts,
            last_ts_ns: self.last_ts,
            duration_ns: duration,
            c2s,
            s2c,
            syn: SynReport {
                attempts: self.syn_attempts,
                schedule: classify(&self.syn_offsets),
                offsets_ns: self.syn_offsets,
                outcome: syn_outcome,
                connect_delay_ns: self.connect_delay,
            },
            rtt: RttReport {
                ack_rtt: rtt.flow.ack_rtt.summary(),
                karn: rtt.flow.karn.summary(),
                ts_echo: rtt.flow.ts_echo.summary(),
                syn_synack_ns: self.syn_synack,
                synack_ack_ns: self.synack_ack,
                initial_rtt_ns: self.first_rtt,
            },
            negotiated: Negotiated {
                mss: Sides { client: co.mss, server: so.mss },
                window_scale: Sides { client: co.window_scale, server: so.window_scale },
                sack_permitted: both && co.sack_permitted && so.sack_permitted,
                timestamps: both && co.timestamps.is_some() && so.timestamps.is_some(),
            },
        }
    }
}

/// R12 / R13: a segment that starts below the highest sequence number sent so far.
///
/// If any of its sequence space was already seen in this direction at this point it is
/// a retransmission: fast when the other side sent ≥ 2 duplicate ACKs for exactly its
/// start within the last 20 ms (Wireshark's rule), spurious when the receiver already
/// SACKed all of it, else plain. Space below the other side's last ACK counts as seen:
/// `seen` forgets what was acknowledged, and nothing unsent can be acknowledged (a SYN or
/// FIN sent again after its ACK, which R11 leaves to this rule, is a retransmission, as
/// in Wireshark). If none of it was seen, it fills a hole: reordering
/// upstream (`out_of_order`) or a retransmission of a segment lost before this point.
/// TCP timestamps decide when present (a TSval newer than the segment that revealed the
/// hole means it was sent after it: a retransmission; older means reordered);
/// otherwise ≥ 2 duplicate ACKs asking for it make it a fast retransmission, and the
/// time since the hole appeared decides: less than the handshake RTT (3 ms without one)
/// is `out_of_order`, as in Wireshark.
fn classify_below(fwd: &Dir, rev: &Dir, s: &Segment, end: Seq, ooo_thres: i64) -> Label {
    let asked = rev.dupacks >= 2 && rev.lastack == s.seq;
    let below_ack = rev.lastack != Seq(0) && s.seq.lt(rev.lastack);
    if below_ack || fwd.seen.overlaps(s.seq, end) {
        if asked && s.ts_ns - rev.lastack_ts < FAST_RETRANS_NS {
            return Label::FastRetransmission;
        }
        if s.len > 0 && rev.sacked.covers(s.seq, s.seq.plus(s.len)) {
            return Label::SpuriousRetransmission;
        }
        return Label::Retransmission;
    }
    let hole = fwd.holes.iter().rev().find(|h| h.start.le(s.seq) && s.seq.lt(h.end));
    if let (Some(h), Some((tsval, _))) = (hole, s.options.timestamps) {
        if let Some(reveal) = h.tsval {
            let d = Seq(tsval).diff(Seq(reveal));
            if d > 0 {
                return if asked { Label::FastRetransmission } else { Label::Retransmission };
            }
            if d < 0 {
                return Label::OutOfOrder;
            }
        }
    }
    if asked {
        return Label::FastRetransmission;
    }
    let since = s.ts_ns - hole.map_or(fwd.nextseq_ts, |h| h.ts_ns);
    if since < ooo_thres {
        Label::OutOfOrder
    } else {
        Label::Retransmission
    }
}

/// Records SACK blocks the segment carries about the other direction's data, and
/// reclassifies a retransmission a D-SACK (RFC 2883 §4: the first block below the
/// cumulative ACK, or inside the second block) reports as a duplicate.
fn sack_bookkeeping(rev: &mut Dir, s: &Segment) {
    let blocks = &s.options.sack;
    for (i, &(l, r)) in blocks.iter().enumerate() {
        let (l, r) = (Seq(l), Seq(r));
        let dsack = i == 0
            && (l.lt(s.ack) || blocks.get(1).is_some_and(|&(l2, r2)| Seq(l2).le(l) && r.le(Seq(r2))));
        if dsack {
            if let Some(e) = rev.retrans.iter_mut().rev().find(|e| !e.2 && e.0.lt(r) && l.lt(e.1)) {
                e.2 = true;
                rev.stats.spurious_retransmissions += 1;
            }
        } else {
            rev.sacked.insert(l, r);
        }
    }
}

/// Wireshark's window-scale bookkeeping (`verify_tcp_window_scaling`).
fn window_scaling(fwd: &mut Dir, rev: &mut Dir, s: &Segment) {
    if s.flags & F::SYN == 0 {
        return;
    }
    if let Some(ws) = s.options.window_scale {
        fwd.win_scale = i8::try_from(ws.min(14)).unwrap_or(14);
    }
    if fwd.win_scale == -1 {
        fwd.win_scale = -2;
        rev.win_scale = -2;
    } else if s.flags & F::ACK != 0 && rev.win_scale == -2 {
        fwd.win_scale = -2;
    }
}

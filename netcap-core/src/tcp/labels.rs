//! Per-segment analysis labels, named as Wireshark names its `tcp.analysis.*` fields.

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;

/// A set of [`Label`]s, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Labels(u32);

/// One label. At most one of the retransmission family (`retransmission`,
/// `fast_retransmission`, `spurious_retransmission`, `out_of_order`) is set per segment.
/// The set grows (`duplicate_capture` came in 0.2): match with a wildcard arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[non_exhaustive]
pub enum Label {
    /// `retransmission`: a segment with payload, SYN or FIN resending sequence space
    /// already sent (seen here, or lost before this point), neither fast nor spurious
    /// (R12, R13).
    Retransmission,
    /// `fast_retransmission`: a retransmission the other side asked for with at least two
    /// duplicate ACKs for exactly its start (R13, Wireshark's rule).
    FastRetransmission,
    /// `spurious_retransmission`: payload the other side had already acknowledged (R11)
    /// or SACKed (R13).
    SpuriousRetransmission,
    /// `out_of_order`: a segment that fills a hole at this point and was reordered
    /// upstream, not sent again (R13: TCP timestamps, else less than the handshake RTT
    /// since the hole appeared).
    OutOfOrder,
    /// `lost_segment`: the segment starts beyond `nextseq`, so the data before it was not
    /// captured (R4).
    LostSegment,
    /// `ack_lost_segment`: an ACK for data of the other direction that was never seen
    /// (R10).
    AckLostSegment,
    /// `duplicate_ack`: no payload, at `nextseq`, the same window (not 0) and
    /// acknowledgement number as this direction's last segment, no SYN, FIN or RST (R9).
    DuplicateAck,
    /// `zero_window`: advertises a window of 0, without SYN, FIN or RST (R3).
    ZeroWindow,
    /// `zero_window_probe`: 1 byte at `nextseq` while the other side's window is 0 (R2).
    ZeroWindowProbe,
    /// `zero_window_probe_ack`: an unchanged ACK with window 0 answering a zero-window
    /// probe (R8).
    ZeroWindowProbeAck,
    /// `window_full`: payload reaching exactly the edge of the other side's advertised
    /// window (R7).
    WindowFull,
    /// `window_update`: no payload, at `nextseq`, the same acknowledgement number, only
    /// the window changed (and not to 0) (R6).
    WindowUpdate,
    /// `keep_alive`: 0 or 1 byte at `nextseq - 1`, without SYN, FIN or RST (R5).
    KeepAlive,
    /// `keep_alive_ack`: an unchanged ACK with a non-zero window answering a keep-alive
    /// (R8).
    KeepAliveAck,
    /// `reused_ports`: a SYN with another initial sequence number on a key in use, which
    /// starts a new connection (R1).
    ReusedPorts,
    /// `duplicate_capture`: netcap's own, not Wireshark's. A segment with payload, SYN or
    /// FIN that is the same IP packet — IP and TCP headers byte for byte, IPv4
    /// identification, TTL and TCP checksum included — as the last one this direction
    /// of the flow sent, at most
    /// [`DUPLICATE_WINDOW_NS`](crate::tcp::DUPLICATE_WINDOW_NS) later, with nothing
    /// from the other direction in between: the capture saw one packet twice (a VM's
    /// shared vNIC, a SPAN of both directions, a capture driver's copy). It takes no
    /// other label, moves no sequence state and is counted in `duplicate_captures`,
    /// never as a retransmission.
    DuplicateCapture,
}

impl Label {
    /// Every label, in bit order: bit `n` of [`Labels::bits`] is `ALL[n]`.
    pub const ALL: [Label; 16] = [
        Label::Retransmission,
        Label::FastRetransmission,
        Label::SpuriousRetransmission,
        Label::OutOfOrder,
        Label::LostSegment,
        Label::AckLostSegment,
        Label::DuplicateAck,
        Label::ZeroWindow,
        Label::ZeroWindowProbe,
        Label::ZeroWindowProbeAck,
        Label::WindowFull,
        Label::WindowUpdate,
        Label::KeepAlive,
        Label::KeepAliveAck,
        Label::ReusedPorts,
        Label::DuplicateCapture,
    ];

    /// The name in JSON and text output (Wireshark's field name without the prefix).
    pub fn name(self) -> &'static str {
        match self {
            Label::Retransmission => "retransmission",
            Label::FastRetransmission => "fast_retransmission",
            Label::SpuriousRetransmission => "spurious_retransmission",
            Label::OutOfOrder => "out_of_order",
            Label::LostSegment => "lost_segment",
            Label::AckLostSegment => "ack_lost_segment",
            Label::DuplicateAck => "duplicate_ack",
            Label::ZeroWindow => "zero_window",
            Label::ZeroWindowProbe => "zero_window_probe",
            Label::ZeroWindowProbeAck => "zero_window_probe_ack",
            Label::WindowFull => "window_full",
            Label::WindowUpdate => "window_update",
            Label::KeepAlive => "keep_alive",
            Label::KeepAliveAck => "keep_alive_ack",
            Label::ReusedPorts => "reused_ports",
            Label::DuplicateCapture => "duplicate_capture",
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

impl std::fmt::Display for Label {
    /// The label's name, as JSON, Parquet and `netcap packets` write it:
    /// `retransmission`, `fast_retransmission`, `duplicate_ack`, … ([`Label::name`]).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl Labels {
    /// Adds `l` to the set.
    pub fn set(&mut self, l: Label) {
        self.0 |= l.bit();
    }

    /// Whether `l` is in the set.
    pub fn has(self, l: Label) -> bool {
        self.0 & l.bit() != 0
    }

    /// Whether no label is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Whether the segment is a retransmission of any kind (not `out_of_order`).
    pub fn is_retransmission(self) -> bool {
        self.has(Label::Retransmission) || self.has(Label::FastRetransmission) || self.has(Label::SpuriousRetransmission)
    }

    /// The set as bits: bit `n` is the `n`-th label of [`Label::ALL`].
    pub fn bits(self) -> u32 {
        self.0
    }

    /// The set of `bits` ([`Labels::bits`]); bits that name no label are dropped.
    pub fn from_bits(bits: u32) -> Self {
        Labels(bits & ((1 << Label::ALL.len()) - 1))
    }

    /// The labels set, in [`Label::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Label> {
        Label::ALL.into_iter().filter(move |l| self.has(*l))
    }
}

impl Serialize for Labels {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        for l in self.iter() {
            seq.serialize_element(l.name())?;
        }
        seq.end()
    }
}

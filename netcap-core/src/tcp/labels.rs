//! Per-segment analysis labels, named as Wireshark names its `tcp.analysis.*` fields.

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;

/// A set of [`Label`]s, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Labels(u32);

/// One label. At most one of the retransmission family (`retransmission`,
/// `fast_retransmission`, `spurious_retransmission`, `out_of_order`) is set per segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Label {
    Retransmission,
    FastRetransmission,
    SpuriousRetransmission,
    OutOfOrder,
    LostSegment,
    AckLostSegment,
    DuplicateAck,
    ZeroWindow,
    ZeroWindowProbe,
    ZeroWindowProbeAck,
    WindowFull,
    WindowUpdate,
    KeepAlive,
    KeepAliveAck,
    ReusedPorts,
}

impl Label {
    pub const ALL: [Label; 15] = [
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
        }
    }

    fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

impl Labels {
    pub fn set(&mut self, l: Label) {
        self.0 |= l.bit();
    }

    pub fn has(self, l: Label) -> bool {
        self.0 & l.bit() != 0
    }

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

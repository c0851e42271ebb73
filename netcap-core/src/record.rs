//! One decoded frame as a serialisable record: the line `netcap packets --format jsonl`
//! prints (every field in `docs/output.md`).

use serde::Serialize;

use crate::capture::{Frame, LinkType};
use crate::decode::{Drop, Layer, Packet, Stop};
use crate::tcp::SegmentInfo;

/// A frame with its decode, borrowed from the reader and the decoder.
#[derive(Debug, Clone, Serialize)]
pub struct PacketRecord<'a> {
    /// The capture point's name.
    pub point: &'a str,
    /// 1-based number of the frame in its file, as tshark numbers it.
    pub frame: u64,
    /// Capture time, nanoseconds since the Unix epoch (UTC); `None` for a pcapng Simple
    /// Packet Block, which carries no timestamp.
    pub ts_ns: Option<i64>,
    /// Bytes captured (the length of the frame's data).
    pub caplen: u32,
    /// Bytes on the wire (the record's original length).
    pub len: u32,
    /// Link type of the frame's capture point.
    pub link_type: LinkType,
    /// Outermost first.
    pub layers: &'a [Layer],
    /// Whether a Linux receiver would accept the frame ([`Packet::receiver_accepts`]).
    pub receiver_accepts: bool,
    /// Why a Linux receiver drops the frame, when it does.
    pub drop: Option<Drop>,
    /// Where and why decoding stopped, or null.
    pub stop: Option<Stop>,
    /// TCP analysis of the innermost TCP segment (`netcap packets`; null without TCP or
    /// when the caller did not analyse).
    pub tcp: Option<SegmentInfo>,
}

impl<'a> PacketRecord<'a> {
    /// The record of `frame`, decoded as `packet`, at the point named `point`; `tcp` is
    /// `None` until the caller sets it.
    pub fn new(point: &'a str, frame: &Frame<'_>, packet: &'a Packet) -> Self {
        PacketRecord {
            point,
            frame: frame.number,
            ts_ns: frame.has_timestamp.then_some(frame.ts_ns),
            caplen: frame.caplen,
            len: frame.len,
            link_type: frame.link_type,
            layers: &packet.layers,
            receiver_accepts: packet.receiver_accepts(),
            drop: packet.drop,
            stop: packet.stop,
            tcp: None,
        }
    }
}

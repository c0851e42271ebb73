//! Findings: named diagnoses with their evidence frames, the answer netcap gives.
//!
//! Every finding is a [`Finding`]: a `kind`, a severity, a sentence, the points and
//! flow it is about, the frames that prove it ([`FrameRef`]: point and frame number,
//! as tshark numbers them), evidence values and a hint. Three sources make them:
//! - [`single`]: what one capture point is enough for — frames a Linux receiver drops
//!   for a bad checksum (`dropped_bad_outer_checksum`, `dropped_bad_checksum`) and
//!   TX-offload artefacts (`offload_artifact`);
//! - [`flows`]: what the TCP flow records say — `handshake_failure`,
//!   `syn_retry_delay`, `retransmission_storm`;
//! - the correlation of several points ([`crate::correlate`]): packets seen at one
//!   point and missing from the next — `dropped_bad_outer_checksum`,
//!   `dropped_bad_checksum`, `mtu_drop`, `lost_between` (built here, in `loss`).
//!
//! `docs/correlation.md` lists every kind with its evidence fields, and every source a
//! hint cites ([`references`]).

pub mod flows;
pub mod hosts;
pub(crate) mod loss;
pub mod references;
pub mod single;

use serde::Serialize;

use crate::decode::{LayerKind, Packet};
use crate::flow::{Endpoint, FlowView};

pub use flows::flow_findings;
pub use single::SingleCapture;

/// A frame named by its capture point and its 1-based number in its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FrameRef {
    /// The capture point's name.
    pub point: String,
    /// 1-based number of the frame in its file, as tshark numbers it.
    pub frame: u64,
}

/// A named diagnosis with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// `dropped_bad_outer_checksum`, `mtu_drop`, `syn_retry_delay`, … (module docs).
    pub kind: &'static str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// One sentence for people.
    pub summary: String,
    /// The points it is about: one, or the two a packet was lost between.
    pub points: Vec<String>,
    /// `client:port > server:port` (empty when the finding is about a point).
    pub flow: String,
    /// Per packet, every point and frame where it was seen, in time order.
    pub frames: Vec<Vec<FrameRef>>,
    /// Values that back the sentence (fields per kind in docs/correlation.md).
    pub evidence: serde_json::Value,
    /// What to check or do next.
    pub hint: String,
    /// 1-based numbers of the findings this one is caused by (`syn_retry_delay`).
    pub related: Vec<usize>,
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `client:port > server:port` from one frame's innermost transport header: the SYN
/// sender first for a SYN, else the higher (ephemeral) port's side.
pub(crate) fn frame_flow(packet: &Packet) -> Option<String> {
    let v = FlowView::of(packet)?;
    let flags = match packet.layers.get(v.layer)?.kind {
        LayerKind::Tcp { flags, .. } => Some(flags),
        _ => None,
    };
    Some(flow_text(v.src, v.dst, flags))
}

/// `10.244.1.2:55406 > 10.244.2.3:80`, from the SYN sender when the packet is a SYN,
/// else from the higher port's side (the ephemeral one) to the other.
pub(crate) fn flow_text(src: Endpoint, dst: Endpoint, tcp_flags: Option<u16>) -> String {
    use crate::decode::tcp_flags::{ACK, SYN};
    let client_first = match tcp_flags {
        Some(f) if f & (SYN | ACK) == (SYN | ACK) => false,
        Some(f) if f & SYN != 0 => true,
        _ => src.port > dst.port,
    };
    if client_first {
        format!("{src} > {dst}")
    } else {
        format!("{dst} > {src}")
    }
}


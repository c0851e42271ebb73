//! Findings about packets seen at one point and missing from the next one on their
//! path: why they were lost, from what the last point that saw them says.

use crate::checksum::Status;

use super::{plural, Finding, FrameRef};
use super::references::outer_checksum_hint;

/// What the last point that saw a lost packet says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Cause {
    /// A Linux receiver drops it for its outer UDP checksum (UdpInCsumErrors).
    OuterChecksum,
    /// A Linux receiver drops it for another checksum.
    Checksum,
    /// Nothing in the packet explains the loss.
    Unexplained,
}

/// The lost packets of one (cause, flow, from, to).
#[derive(Debug)]
pub(crate) struct Lost<'a> {
    pub cause: Cause,
    pub flow: &'a str,
    /// The last point that saw them, and the next one on the path.
    pub from: String,
    pub to: String,
    pub count: u64,
    /// Per example packet, every sighting in time order.
    pub frames: Vec<Vec<FrameRef>>,
    /// The examples' outer UDP checksums at `from` (status, stored, expected).
    pub outer_udp: Vec<(Status, u16, Option<u16>)>,
    /// Why a receiver drops the examples: (layer, depth, counter).
    pub drops: Vec<(&'static str, u8, &'static str)>,
    /// The examples' innermost IP lengths; the smallest of all the lost packets.
    pub sizes: &'a [u32],
    pub min_size: u32,
    /// The largest innermost IP packet `to` ever saw (0: none).
    pub largest_downstream: u32,
}

impl Lost<'_> {
    /// Every lost packet is larger than anything the downstream point ever saw (which
    /// saw something): an MTU drop rather than random loss.
    fn too_big(&self) -> bool {
        self.largest_downstream > 0 && self.min_size > self.largest_downstream
    }

    /// The finding: `dropped_bad_outer_checksum`, `dropped_bad_checksum`, `mtu_drop` or
    /// `lost_between`.
    pub(crate) fn finding(self) -> Finding {
        let n = usize::try_from(self.count).unwrap_or(usize::MAX);
        let flow = self.flow;
        let (a, b) = (self.from.clone(), self.to.clone());
        let points = vec![self.from.clone(), self.to.clone()];
        match self.cause {
            Cause::OuterChecksum => {
                let values: Vec<String> = self
                    .outer_udp
                    .iter()
                    .map(|(_, st, ex)| format!("0x{st:04x}, expected {}", ex.map_or("?".into(), |e| format!("0x{e:04x}"))))
                    .collect();
                Finding {
                    kind: "dropped_bad_outer_checksum",
                    severity: "error",
                    summary: format!(
                        "{n} packet{} of {flow} {} seen on {a} and missing from {b}: the outer UDP checksum is wrong ({}), so the receiving kernel drops {} before decapsulation (UdpInCsumErrors).",
                        plural(n),
                        if n == 1 { "was" } else { "were" },
                        values.join("; "),
                        if n == 1 { "it" } else { "them" }
                    ),
                    points,
                    flow: flow.to_string(),
                    frames: self.frames,
                    evidence: serde_json::json!({
                        "outer_udp_checksums": self.outer_udp.iter().map(|(st, stored, expected)| serde_json::json!({"status": st.as_str(), "stored": stored, "expected": expected})).collect::<Vec<_>>(),
                        "counter": "UdpInCsumErrors",
                        "lost": n,
                    }),
                    hint: outer_checksum_hint(),
                    related: Vec::new(),
                }
            }
            Cause::Checksum => {
                let why: Vec<String> =
                    self.drops.iter().map(|(l, d, c)| format!("bad {l} checksum at depth {d} ({c})")).collect();
                Finding {
                    kind: "dropped_bad_checksum",
                    severity: "error",
                    summary: format!(
                        "{n} packet{} of {flow} seen on {a} and missing from {b}: {}; a Linux receiver drops such packets.",
                        plural(n),
                        why.first().cloned().unwrap_or_default()
                    ),
                    points,
                    flow: flow.to_string(),
                    frames: self.frames,
                    evidence: serde_json::json!({ "drops": why, "lost": n }),
                    hint: "A checksum that is wrong on the wire: look for the device that rewrote the packet (NAT, a mangling rule, a NIC offload) between the sender and this point.".to_string(),
                    related: Vec::new(),
                }
            }
            Cause::Unexplained if self.too_big() => {
                let biggest_after = self.largest_downstream;
                let smallest = self.min_size;
                Finding {
                    kind: "mtu_drop",
                    severity: "error",
                    summary: format!(
                        "{n} packet{} of {flow} seen on {a} never reached {b}: each was at least {smallest} bytes, and nothing larger than {biggest_after} bytes ever reached {b} — an MTU on the way is smaller than the packets.",
                        plural(n)
                    ),
                    points,
                    flow: flow.to_string(),
                    frames: self.frames,
                    evidence: serde_json::json!({ "lost": n, "ip_lengths": self.sizes, "largest_seen_downstream": biggest_after }),
                    hint: "An overlay adds its headers (VXLAN: 50 bytes) to every packet: the underlay MTU must exceed the overlay MTU by that much, or the pods' MTU must be lowered (flannel / calico `mtu` settings). Check `ip link` MTUs on both sides, that ICMP \"fragmentation needed\" / \"packet too big\" is not filtered (PMTUD), or clamp the TCP MSS.".to_string(),
                    related: Vec::new(),
                }
            }
            Cause::Unexplained => Finding {
                kind: "lost_between",
                severity: "warning",
                summary: format!("{n} packet{} of {flow} seen on {a} never reached {b}.", plural(n)),
                points,
                flow: flow.to_string(),
                frames: self.frames,
                evidence: serde_json::json!({ "lost": n }),
                hint: "Nothing in the packets explains the loss: check the drop counters between the two points (ip -s link, nstat, tc -s qdisc, nft list counters, ethtool -S).".to_string(),
                related: Vec::new(),
            },
        }
    }
}

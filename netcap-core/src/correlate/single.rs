//! Findings that need only one capture: frames a receiver drops for a bad checksum
//! (the flannel signature on a single underlay capture), TX-offload artefacts, and the
//! TCP flows' failed handshakes, retransmission storms and SYN-retry delays.
//!
//! [`SingleCapture`] folds frames in memory bounded by the number of (point, flow,
//! failing layer) groups ([`MAX_GROUPS`]) and 16 example frames per group, so
//! `netcap summary` can report these findings while streaming.

use std::collections::BTreeMap;

use crate::capture::Frame;
use crate::checksum::Status;
use crate::decode::{LayerKind, Packet};
use crate::flow::{Endpoint, FlowView};
use crate::summary::FrameRef;
use crate::tcp::{FlowRecord, Outcome};

use super::{plural, Finding, HINT_OUTER};

/// Most (point, flow, layer) groups of dropped frames kept; further groups are counted.
pub const MAX_GROUPS: usize = 1024;
/// Example frames kept per group.
const EXAMPLES: usize = 16;
/// A direction retransmitting at least this share of its data segments (and at least
/// [`STORM_MIN`] of them) is a `retransmission_storm`.
pub const STORM_RATE: f64 = 0.05;
pub const STORM_MIN: u64 = 10;

#[derive(Debug, Default)]
struct DropGroup {
    count: u64,
    counter: &'static str,
    frames: Vec<u64>,
    /// Outer UDP checksum values of the examples: (stored, expected).
    values: Vec<(u16, Option<u16>)>,
}

/// Folds frames for the single-capture findings.
#[derive(Debug, Default)]
pub struct SingleCapture {
    drops: BTreeMap<(u32, String, &'static str, u8), DropGroup>,
    partial: BTreeMap<u32, (u64, Vec<u64>)>,
    /// Drop groups not kept past [`MAX_GROUPS`].
    pub groups_dropped: u64,
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

impl SingleCapture {
    pub fn add(&mut self, point: u32, frame: &Frame<'_>, packet: &Packet) {
        if let Some(d) = packet.drop {
            let flow = frame_flow(packet).unwrap_or_else(|| "(no transport header)".to_string());
            let key = (point, flow, d.layer, d.depth);
            let full = self.drops.len() >= MAX_GROUPS;
            match self.drops.get_mut(&key) {
                Some(g) => g.add(frame.number, packet),
                None if full => self.groups_dropped += 1,
                None => {
                    let mut g = DropGroup { counter: d.counter, ..DropGroup::default() };
                    g.add(frame.number, packet);
                    self.drops.insert(key, g);
                }
            }
        }
        if packet.layers.iter().any(|l| l.checksum.is_some_and(|v| v.status == Status::Partial)) {
            let e = self.partial.entry(point).or_default();
            e.0 += 1;
            if e.1.len() < EXAMPLES {
                e.1.push(frame.number);
            }
        }
    }

    /// The findings. `explained(point, frame)` says a frame is already part of a
    /// finding located between two points (then its group reports only the rest).
    pub fn findings(&self, names: &[String], explained: &dyn Fn(&str, u64) -> bool) -> Vec<Finding> {
        let name = |p: u32| names.get(p as usize).cloned().unwrap_or_default();
        let mut out = Vec::new();
        for ((point, flow, layer, depth), g) in &self.drops {
            let pname = name(*point);
            let frames: Vec<u64> = g.frames.iter().copied().filter(|&f| !explained(&pname, f)).collect();
            if frames.is_empty() && g.count as usize <= g.frames.len() {
                continue;
            }
            let n = g.count - (g.frames.len() - frames.len()) as u64;
            let refs: Vec<Vec<FrameRef>> = frames.iter().map(|&f| vec![FrameRef { point: pname.clone(), frame: f }]).collect();
            let outer = *layer == "udp" && *depth == 0;
            let values: Vec<String> = g
                .values
                .iter()
                .map(|(st, ex)| format!("0x{st:04x}, expected {}", ex.map_or("?".into(), |e| format!("0x{e:04x}"))))
                .collect();
            out.push(if outer {
                Finding {
                    kind: "dropped_bad_outer_checksum",
                    severity: "error",
                    summary: format!(
                        "{n} frame{} of {flow} on {pname} carr{} a wrong outer UDP checksum ({}): a Linux receiver drops {} before decapsulation ({}).",
                        plural(n as usize),
                        if n == 1 { "ies" } else { "y" },
                        values.join("; "),
                        if n == 1 { "it" } else { "them" },
                        g.counter
                    ),
                    points: vec![pname],
                    flow: flow.clone(),
                    frames: refs,
                    evidence: serde_json::json!({
                        "outer_udp_checksums": g.values.iter().map(|(s, e)| serde_json::json!({"status": "bad", "stored": s, "expected": e})).collect::<Vec<_>>(),
                        "counter": g.counter,
                        "frames": n,
                    }),
                    hint: HINT_OUTER.to_string(),
                    related: Vec::new(),
                }
            } else {
                Finding {
                    kind: "dropped_bad_checksum",
                    severity: "error",
                    summary: format!(
                        "{n} frame{} of {flow} on {pname} carr{} a bad {layer} checksum at depth {depth}: a Linux receiver drops {} ({}).",
                        plural(n as usize),
                        if n == 1 { "ies" } else { "y" },
                        if n == 1 { "it" } else { "them" },
                        g.counter
                    ),
                    points: vec![pname],
                    flow: flow.clone(),
                    frames: refs,
                    evidence: serde_json::json!({ "layer": layer, "depth": depth, "counter": g.counter, "frames": n }),
                    hint: "A checksum that is wrong on the wire: look for what rewrote the packet (NAT, a mangling rule, a NIC offload) between the sender and this point. A capture on the sending host itself shows offload artefacts as `partial`, not `bad`.".to_string(),
                    related: Vec::new(),
                }
            });
        }
        for (point, (n, frames)) in &self.partial {
            let pname = name(*point);
            out.push(Finding {
                kind: "offload_artifact",
                severity: "info",
                summary: format!(
                    "{n} frame{} on {pname} carry only the pseudo-header checksum: the capture was taken on a host that sends or forwards them before the checksum was completed (TX checksum offload; GRO-merged frames on their way to be re-segmented). Not a fault.",
                    plural(*n as usize)
                ),
                points: vec![pname.clone()],
                flow: String::new(),
                frames: frames.iter().map(|&f| vec![FrameRef { point: pname.clone(), frame: f }]).collect(),
                evidence: serde_json::json!({ "frames": n }),
                hint: "Nothing to fix. To see the final checksums, capture on the receiving side or after the NIC (a SPAN port, the peer).".to_string(),
                related: Vec::new(),
            });
        }
        out
    }
}

impl DropGroup {
    fn add(&mut self, frame: u64, packet: &Packet) {
        self.count += 1;
        if self.frames.len() < EXAMPLES {
            self.frames.push(frame);
            let v = packet.layers.iter().find_map(|l| match (l.depth, &l.kind, l.checksum) {
                (0, LayerKind::Udp { .. }, Some(v)) if v.status == Status::Bad => Some((v.stored, v.expected)),
                _ => None,
            });
            if let Some(v) = v {
                self.values.push(v);
            }
        }
    }
}

/// Findings from the TCP flow records: failed handshakes, retransmission storms, SYN
/// retries — each linked (`related`) to the findings in `prior` about the same flow.
/// A connection seen at several points is reported once (from the point that saw the
/// most SYN attempts, or the most packets).
pub fn flow_findings(flows: &[FlowRecord], prior: &[Finding]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut by_conn: BTreeMap<(Endpoint, Endpoint), &FlowRecord> = BTreeMap::new();
    for f in flows {
        let e = by_conn.entry((f.client, f.server)).or_insert(f);
        let better = (f.syn.attempts, f.c2s.packets + f.s2c.packets, std::cmp::Reverse(f.id))
            > (e.syn.attempts, e.c2s.packets + e.s2c.packets, std::cmp::Reverse(e.id));
        if better {
            *e = f;
        }
    }
    let mut conns: Vec<&FlowRecord> = by_conn.into_values().collect();
    conns.sort_by_key(|f| f.id);
    let related = |flow: &str| -> Vec<usize> {
        prior.iter().enumerate().filter(|(_, x)| x.flow == flow).map(|(i, _)| i + 1).collect()
    };
    let refs = |r: &[usize]| r.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(", ");
    for f in conns {
        let flow = format!("{} > {}", f.client, f.server);
        let rel = related(&flow);
        let because = if rel.is_empty() { String::new() } else { format!(" See finding{} {}.", plural(rel.len()), refs(&rel)) };
        let offs: Vec<String> = f.syn.offsets_ns.iter().map(|o| format!("{:.3} s", *o as f64 / 1e9)).collect();
        if f.outcome.failed() {
            let what = match f.outcome {
                Outcome::Refused => "refused (the server answered the SYN with RST)",
                Outcome::TimedOut => "timed out (no answer to any SYN; the client gave up)",
                _ => "unanswered when the capture ended",
            };
            out.push(Finding {
                kind: "handshake_failure",
                severity: "error",
                summary: format!("{flow}: the connection was {what}; {} SYN attempt{} at {}.{because}", f.syn.attempts, plural(f.syn.attempts as usize), offs.join(", ")),
                points: vec![f.point.clone()],
                flow: flow.clone(),
                frames: Vec::new(),
                evidence: serde_json::json!({ "outcome": f.outcome, "attempts": f.syn.attempts, "offsets_ns": f.syn.offsets_ns, "schedule": f.syn.schedule }),
                hint: match f.outcome {
                    Outcome::Refused => "Nothing listens on the port, or a firewall rejects with RST: check the service and its endpoints.".to_string(),
                    _ => "The SYNs were lost or dropped on the way (firewall DROP, a routing hole, a checksum the receiver rejects): capture further along the path and run `netcap correlate`.".to_string(),
                },
                related: rel.clone(),
            });
        } else if f.syn.attempts > 1 {
            let delay = f.syn.connect_delay_ns;
            out.push(Finding {
                kind: "syn_retry_delay",
                severity: "warning",
                summary: match delay {
                    Some(d) => format!(
                        "{flow} connected after {:.3} s: {} SYN attempts (at {}).{}",
                        d as f64 / 1e9,
                        f.syn.attempts,
                        offs.join(", "),
                        if rel.is_empty() { String::new() } else { format!(" The lost attempts are in finding{} {}.", plural(rel.len()), refs(&rel)) }
                    ),
                    None => format!("{flow}: {} SYN attempts (at {}).{because}", f.syn.attempts, offs.join(", ")),
                },
                points: vec![f.point.clone()],
                flow: flow.clone(),
                frames: Vec::new(),
                evidence: serde_json::json!({
                    "attempts": f.syn.attempts,
                    "offsets_ns": f.syn.offsets_ns,
                    "schedule": f.syn.schedule,
                    "connect_delay_ns": delay,
                }),
                hint: "Each lost SYN costs the client its retransmission timeout (Linux: 1 s, doubling). Find why the first attempts were lost (the related findings).".to_string(),
                related: rel.clone(),
            });
        }
        for (dir, d) in [("client → server", &f.c2s), ("server → client", &f.s2c)] {
            let rate = if d.data_segments > 0 { d.retransmissions as f64 / d.data_segments as f64 } else { 0.0 };
            if d.retransmissions >= STORM_MIN && rate >= STORM_RATE {
                out.push(Finding {
                    kind: "retransmission_storm",
                    severity: "warning",
                    summary: format!(
                        "{flow}: {} of {} data segments {dir} were retransmissions ({:.1} %) at {}.{because}",
                        d.retransmissions,
                        d.data_segments,
                        rate * 100.0,
                        f.point
                    ),
                    points: vec![f.point.clone()],
                    flow: flow.clone(),
                    frames: Vec::new(),
                    evidence: serde_json::json!({ "direction": dir, "retransmissions": d.retransmissions, "data_segments": d.data_segments, "lost_segments": d.lost_segments, "duplicate_acks": d.duplicate_acks }),
                    hint: "Sustained loss on the path: compare captures along it (`netcap correlate`) and the interface and qdisc drop counters.".to_string(),
                    related: rel.clone(),
                });
            }
        }
    }
    out
}

//! Findings one capture point is enough for: frames a receiver drops for a bad checksum
//! (the flannel signature on a single underlay capture) and TX-offload artefacts.
//!
//! [`SingleCapture`] folds frames in memory bounded by the number of (point, flow,
//! failing layer) groups ([`MAX_GROUPS`]) and 16 example frames per group, so
//! `netcap summary` can report these findings while streaming.

use std::collections::BTreeMap;

use crate::capture::Frame;
use crate::checksum::Status;
use crate::decode::{LayerKind, Packet};

use super::{frame_flow, plural, Finding, FrameRef};
use super::references::outer_checksum_hint;

/// Most (point, flow, layer) groups of dropped frames kept; further groups are counted.
pub const MAX_GROUPS: usize = 1024;
/// Example frames kept per group.
const EXAMPLES: usize = 16;
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

impl SingleCapture {
    /// Folds one decoded frame of point `point` (an index into the names later given to
    /// [`SingleCapture::findings`]): a frame a Linux receiver drops joins its (point,
    /// flow, layer, depth) group (a new group past [`MAX_GROUPS`] is only counted), a
    /// frame with a `partial` checksum its point's offload count.
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
        if packet.own_layers().iter().any(|l| l.checksum.is_some_and(|v| v.status == Status::Partial)) {
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
                    hint: outer_checksum_hint(),
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

//! Findings from the TCP flow records: failed handshakes, SYN retries that delayed a
//! connection, retransmission storms.

use std::collections::HashMap;

use crate::flow::Endpoint;
use crate::tcp::{FlowRecord, Outcome};

use super::{plural, Finding};

/// A direction retransmitting at least this share of its data segments (and at least
/// [`STORM_MIN`] of them) is a `retransmission_storm`.
pub const STORM_RATE: f64 = 0.05;
/// The fewest retransmissions of a `retransmission_storm`.
pub const STORM_MIN: u64 = 10;

/// Findings from the TCP flow records: failed handshakes, retransmission storms, SYN
/// retries — each linked (`related`) to the findings in `prior` about the same flow.
/// A connection seen at several points is reported once (from the point that saw the
/// most SYN attempts, or the most packets).
pub fn flow_findings(flows: &[FlowRecord], prior: &[Finding]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut by_conn: HashMap<(Endpoint, Endpoint), &FlowRecord> = HashMap::new();
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
    // The prior findings' numbers by flow, each in order.
    let mut numbers: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, x) in prior.iter().enumerate() {
        numbers.entry(x.flow.as_str()).or_default().push(i + 1);
    }
    let related = |flow: &str| -> Vec<usize> { numbers.get(flow).cloned().unwrap_or_default() };
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

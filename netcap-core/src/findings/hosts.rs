//! What a node's own kernel counted, beside what its packets show: the counters of a
//! capture bundle ([`crate::bundle`]) cited in the findings about the node's points.
//!
//! | finding | counters (nstat's names) | host |
//! |---|---|---|
//! | `dropped_bad_outer_checksum` | `UdpInCsumErrors`, `Udp6InCsumErrors` | the receiving point's (the finding's last point) |
//! | `dropped_bad_checksum` | `IpExtInCsumErrors`, `TcpInCsumErrors`, `UdpInCsumErrors`, `Udp6InCsumErrors`, `IcmpInCsumErrors`, `Icmp6InCsumErrors` | the receiving point's |
//! | `syn_retry_delay` | `TcpExtTCPSynRetrans` | each of the finding's points' |
//!
//! A counter the bundle does not have is not cited. The counters are the node's
//! namespace's since it was created, read when the capture ended: the sentence says so.
//!
//! The findings whose cause lies in checksum offload, segmentation offload or the
//! path's MTU (`dropped_bad_outer_checksum`, `dropped_bad_checksum`,
//! `offload_artifact`, `mtu_drop`) also name the system each of their points' capture
//! was written on, when the capture records a release (a pcapng `if_os` or `shb_os`
//! with a digit: dumpcap's `Linux 6.1.0-18-amd64`, not a bare `linux`): how a kernel
//! and its drivers offload is what such a finding turns on ([`cite_systems`]).

use std::sync::Arc;

use crate::analysis::PointInfo;
use crate::bundle::HostFacts;

use super::Finding;

/// The counters a finding of `kind` cites, and whether only its last point's host.
fn counters_of(kind: &str) -> Option<(&'static [&'static str], bool)> {
    match kind {
        "dropped_bad_outer_checksum" => Some((&["UdpInCsumErrors", "Udp6InCsumErrors"], true)),
        "dropped_bad_checksum" => Some((
            &["IpExtInCsumErrors", "TcpInCsumErrors", "UdpInCsumErrors", "Udp6InCsumErrors", "IcmpInCsumErrors", "Icmp6InCsumErrors"],
            true,
        )),
        "syn_retry_delay" => Some((&["TcpExtTCPSynRetrans"], false)),
        _ => None,
    }
}

/// Adds to each finding about a bundle's point the node's counters that bear on it: a
/// sentence after its summary and `evidence.host_counters`
/// (`[{host, counter, value, source}]`).
pub fn cite_counters(findings: &mut [Finding], points: &[PointInfo], hosts: &[Arc<HostFacts>]) {
    if hosts.is_empty() {
        return;
    }
    let by_name = point_index(points);
    let host_of = |point: &str| -> Option<&Arc<HostFacts>> {
        let host = by_name.get(point)?.host.as_deref()?;
        hosts.iter().find(|h| h.host == host)
    };
    for f in findings {
        let Some((names, last_only)) = counters_of(f.kind) else { continue };
        let chosen: Vec<&str> = if last_only { f.points.last().map(String::as_str).into_iter().collect() } else { f.points.iter().map(String::as_str).collect() };
        let mut seen: Vec<&Arc<HostFacts>> = Vec::new();
        let mut cited = Vec::new();
        let mut sentences = Vec::new();
        for point in chosen {
            let Some(h) = host_of(point) else { continue };
            if seen.iter().any(|s| Arc::ptr_eq(s, h)) {
                continue;
            }
            seen.push(h);
            let values: Vec<(&str, u64)> = names.iter().filter_map(|n| Some((*n, h.counter(n)?))).collect();
            if values.is_empty() {
                continue;
            }
            for (n, v) in &values {
                cited.push(serde_json::json!({ "host": h.host, "counter": n, "value": v, "source": h.source }));
            }
            let list: Vec<String> = values.iter().map(|(n, v)| format!("{n} {v}")).collect();
            // A pod's SYNs are its own namespace's: a node bundle cannot count them.
            let pod = if f.kind == "syn_retry_delay" && values.iter().all(|(_, v)| *v == 0) {
                " The client may be a pod: its retransmissions count in the pod's own network namespace, which a node's bundle does not copy."
            } else {
                ""
            };
            sentences.push(format!(
                "{}'s own kernel counted {} (its bundle's /proc/net, since its network namespace was created, read when the capture ended).{pod}",
                h.host,
                list.join(", ")
            ));
        }
        if !cited.is_empty() {
            cite(f, &sentences, "host_counters", cited);
        }
    }
}

/// The points by name (the first of a name, as a search from the start finds it).
fn point_index(points: &[PointInfo]) -> std::collections::HashMap<&str, &PointInfo> {
    points.iter().rev().map(|p| (p.name.as_str(), p)).collect()
}

/// Adds `sentences` after `f`'s summary and `cited` as `evidence.<key>`.
fn cite(f: &mut Finding, sentences: &[String], key: &str, cited: Vec<serde_json::Value>) {
    f.summary = format!("{} {}", f.summary, sentences.join(" "));
    if let serde_json::Value::Object(map) = &mut f.evidence {
        map.insert(key.to_string(), serde_json::Value::Array(cited));
    } else {
        f.evidence = serde_json::json!({ key: cited });
    }
}

/// The findings [`cite_systems`] adds the capture's system to.
const SYSTEM_BOUND: [&str; 4] = ["dropped_bad_outer_checksum", "dropped_bad_checksum", "offload_artifact", "mtu_drop"];

/// Adds to each finding about offload or the MTU ([module docs](self)) the system its
/// points' captures were written on: a sentence after its summary and
/// `evidence.capture_systems` (`[{point, os, application}]`).
pub fn cite_systems(findings: &mut [Finding], points: &[PointInfo]) {
    let by_name = point_index(points);
    for f in findings.iter_mut().filter(|f| SYSTEM_BOUND.contains(&f.kind)) {
        let mut cited = Vec::new();
        let mut by_os: Vec<(&str, Vec<&str>)> = Vec::new();
        for name in &f.points {
            let Some(p) = by_name.get(name.as_str()) else { continue };
            let Some(os) = p.os.as_deref().filter(|o| o.bytes().any(|b| b.is_ascii_digit())) else { continue };
            cited.push(serde_json::json!({ "point": p.name, "os": os, "application": p.application }));
            match by_os.iter_mut().find(|(o, _)| *o == os) {
                Some((_, names)) => names.push(&p.name),
                None => by_os.push((os, vec![&p.name])),
            }
        }
        if cited.is_empty() {
            continue;
        }
        let sentences: Vec<String> = by_os.iter().map(|(os, names)| format!("{} captured on {os} (as the capture records it).", names.join(", "))).collect();
        cite(f, &sentences, "capture_systems", cited);
    }
}

//! What the correlation reports, and its layout: paths, pairs, per-packet rows,
//! notes, and the findings built from the lost packets, the single-capture groups and
//! the TCP flow records.

use serde::Serialize;

use crate::findings::loss::Lost;
use crate::findings::{self, plural, Finding, FrameRef};
use crate::tcp::FlowRecord;

use super::fingerprint::SUPERFRAME_BYTES;
use super::pairs::PairAcc;
use super::Correlator;

/// One packet on its direction's path ([`Correlator::take_packet_paths`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PacketPath {
    /// The packet's number among the rows of the run (0-based, in the order accounted:
    /// first sightings, batch by batch).
    pub packet: u64,
    /// `10.244.1.2:55406 > 10.244.2.3:80`, as in findings.
    pub flow: String,
    /// Every point of the path, upstream first.
    pub hops: Vec<Hop>,
}

/// One point of a [`PacketPath`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hop {
    /// The point's number, as passed to [`Correlator::add`].
    pub point: u32,
    /// Where the point saw the packet; `None`: it did not.
    pub seen: Option<HopSeen>,
}

/// A sighting in a [`Hop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HopSeen {
    /// The frame's number in the point's file (1-based, as tshark numbers it).
    pub frame: u64,
    /// With the point's clock offset applied.
    pub ts_ns: i64,
    /// `fingerprint`, or `bytes` when the point saw the packet's TCP bytes re-segmented.
    pub by: &'static str,
}

/// One-way delay between two points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DelayReport {
    /// Shortest delay of the matched packets (downstream time minus upstream time, clock
    /// offsets applied), in ns; exact; `None` without a matched packet.
    pub min: Option<i64>,
    /// Median delay (nearest rank; exact up to 1024 samples, then over a reservoir of
    /// that size), in ns; `None` without a matched packet.
    pub p50: Option<i64>,
    /// 99th percentile delay (nearest rank, as `p50`), in ns; `None` without a matched
    /// packet.
    pub p99: Option<i64>,
    /// Longest delay, in ns; exact; `None` without a matched packet.
    pub max: Option<i64>,
}

/// Counts for one pair of adjacent points (upstream `from`, downstream `to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairReport {
    /// Name of the upstream point.
    pub from: String,
    /// Name of the downstream point.
    pub to: String,
    /// Packets seen at both points (byte-range sightings of re-segmented TCP included).
    pub matched: u64,
    /// Packets whose last sighting on their path was at `from`: lost between the two
    /// points.
    pub lost: u64,
    /// Packets seen at `to` but not at `from` (a capture started late, or a capture
    /// drop).
    pub appeared: u64,
    /// Extra sightings of a packet at a point that had already seen it; all of a packet's
    /// duplicates are counted on the first pair of its path.
    pub duplicated: u64,
    /// Packets that reached the downstream point before one that left the upstream
    /// point earlier (counted on the later-leaving one).
    pub reordered: u64,
    /// One-way delay of the matched packets, `to` minus `from`.
    pub delay_ns: DelayReport,
}

/// One packet: where it was seen on its path, and where not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PacketRow {
    /// The packet's flow, `client:port > server:port` as in findings
    /// (`10.244.1.2:55406 > 10.244.2.3:80`).
    pub flow: String,
    /// Path order.
    pub seen: Vec<SeenRow>,
    /// Points of its path that did not see it.
    pub missing: Vec<String>,
}

/// One sighting in a [`PacketRow`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeenRow {
    /// Name of the point that saw the packet.
    pub point: String,
    /// The frame's number in the point's file (1-based, as tshark numbers it).
    pub frame: u64,
    /// Capture time, in ns since the Unix epoch, with the point's clock offset applied.
    pub ts_ns: i64,
    /// `fingerprint`, or `bytes` when the point saw the packet's TCP bytes re-segmented.
    pub by: &'static str,
}

/// The points a direction's packets cross, upstream first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathReport {
    /// Inner source and destination address.
    pub direction: String,
    /// Names of the points the direction's packets cross, upstream first.
    pub points: Vec<String>,
}

/// What [`Correlator::finish`] reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[derive(Default)]
pub struct Report {
    /// The inferred path of each direction.
    pub paths: Vec<PathReport>,
    /// Each pair of adjacent points on the paths, with its counts and delays, in path
    /// order: each path's hops upstream first, the paths in their order. The counts are
    /// of packets on the wire: a TSO/GSO/GRO super-frame counts once per segment it
    /// carries, so a point holding super-frames has fewer frames than packets matched.
    pub pairs: Vec<PairReport>,
    /// The findings: lost packets located between two points first, then the
    /// single-capture findings those do not cover, then those from the TCP flow records.
    pub findings: Vec<Finding>,
    /// Distinct packets (fingerprints within the window) kept.
    pub packet_count: u64,
    /// Every packet, in order of first sighting (only when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packets: Option<Vec<PacketRow>>,
    /// Packets not kept past `max_packets`.
    pub truncated: u64,
    /// What limits the report's reliability: points holding super-frames, NAT,
    /// directions seen at more points than a path keeps, packets seen at more than
    /// [`super::MAX_SIGHTINGS`] points.
    pub notes: Vec<String>,
    /// Sightings not matched because their packet was seen at more than
    /// [`super::MAX_SIGHTINGS`] points already.
    pub sightings_dropped: u64,
}

impl Correlator {
    /// The report. `flows` are the TCP flow records of the same frames (for the SYN
    /// retries); `names` the points' names by index.
    pub fn finish(mut self, names: &[String], flows: &[FlowRecord]) -> Report {
        self.flush();
        let name = |p: u32| names.get(p as usize).cloned().unwrap_or_default();
        let findings = self.findings(names, flows);
        let notes = self
            .per_point
            .iter()
            .map(|a| a.superframes)
            .enumerate()
            .filter(|&(_, n)| n > 0)
            .map(|(p, n)| {
                format!(
                    "{} holds {n} TSO/GSO/GRO super-frames (IP packets over {SUPERFRAME_BYTES} bytes): their TCP bytes are matched to the segments at other points by sequence range and IPv4 identification (IPv6: TCP timestamp); UDP and other super-frames are not matched",
                    name(p as u32)
                )
            })
            .chain(self.nat_sides.iter().map(|((a, b), &n)| {
                let list = |v: &[u32]| v.iter().map(|&p| name(p)).collect::<Vec<_>>().join(" + ");
                format!(
                    "NAT between {} and {}: {n} packet{} seen with other addresses or ports on each side, matched without them",
                    list(a),
                    list(b),
                    plural(n as usize)
                )
            }))
            .chain(self.wide.first.map(|((a, b), n)| {
                let most = self.opts.max_path_points;
                let count = self.wide.count;
                format!(
                    "{count} direction{} seen at more than {most} capture points: each path keeps the {most} that saw the most of its packets, the others are not on it (the first, {a} > {b}, was seen at {n}); --max-path-points raises the limit",
                    plural(count as usize)
                )
            }))
            .chain((self.sightings_dropped > 0).then(|| {
                format!(
                    "{} sighting{} of packets seen at more than {} capture points {} not matched",
                    self.sightings_dropped,
                    plural(self.sightings_dropped as usize),
                    super::MAX_SIGHTINGS,
                    if self.sightings_dropped == 1 { "was" } else { "were" }
                )
            }))
            .collect();
        let rows = self.opts.list_packets.then(|| {
            self.rows
                .iter()
                .map(|r| PacketRow {
                    flow: r.flow.clone(),
                    seen: r
                        .hops
                        .iter()
                        .filter_map(|h| h.seen.map(|s| SeenRow { point: name(h.point), frame: s.frame, ts_ns: s.ts_ns, by: s.by }))
                        .collect(),
                    missing: r.hops.iter().filter(|h| h.seen.is_none()).map(|h| name(h.point)).collect(),
                })
                .collect()
        });
        let mut paths: Vec<PathReport> = self
            .paths
            .iter()
            .map(|(&(a, b), pts)| PathReport { direction: format!("{a} > {b}"), points: pts.iter().map(|&p| name(p)).collect() })
            .collect();
        paths.sort_by(|x, y| x.direction.cmp(&y.direction));
        Report {
            pairs: self
                .pairs_in_path_order()
                .into_iter()
                .map(|((a, b), acc)| PairReport {
                    from: name(a),
                    to: name(b),
                    matched: acc.matched,
                    lost: acc.lost,
                    appeared: acc.appeared,
                    duplicated: acc.duplicated,
                    reordered: acc.reordered,
                    delay_ns: DelayReport {
                        min: acc.delays.quantile(0),
                        p50: acc.delays.quantile(50),
                        p99: acc.delays.quantile(99),
                        max: acc.delays.quantile(100),
                    },
                })
                .collect(),
            paths,
            findings,
            packet_count: self.created,
            packets: rows,
            truncated: self.truncated,
            notes,
            sightings_dropped: self.sightings_dropped,
        }
    }


    /// The pairs as the paths run: each path's hops upstream first, the paths in the
    /// order of their directions' names (as reported); pairs on no path (none, as
    /// pairs are made from paths) last, by point number.
    fn pairs_in_path_order(&self) -> Vec<((u32, u32), &PairAcc)> {
        let mut directions: Vec<(String, &Vec<u32>)> =
            self.paths.iter().map(|(&(a, b), pts)| (format!("{a} > {b}"), pts)).collect();
        directions.sort_by(|x, y| x.0.cmp(&y.0));
        let mut out = Vec::with_capacity(self.pairs.len());
        let mut done = std::collections::HashSet::new();
        for (_, pts) in directions {
            for hop in pts.windows(2) {
                let key = (hop[0], hop[1]);
                if let Some(acc) = self.pairs.get(&key) {
                    if done.insert(key) {
                        out.push((key, acc));
                    }
                }
            }
        }
        out.extend(self.pairs.iter().filter(|(k, _)| !done.contains(*k)).map(|(&k, acc)| (k, acc)));
        out
    }

    fn findings(&self, names: &[String], flows: &[FlowRecord]) -> Vec<Finding> {
        let name = |p: u32| names.get(p as usize).cloned().unwrap_or_default();
        let mut out = Vec::new();
        for ((cause, flow, from, to), g) in &self.groups {
            let frames: Vec<Vec<FrameRef>> = g
                .examples
                .iter()
                .map(|seen| seen.iter().map(|&(pt, frame)| FrameRef { point: name(pt), frame }).collect())
                .collect();
            let lost = Lost {
                cause: *cause,
                flow,
                from: name(*from),
                to: name(*to),
                count: g.count,
                frames,
                outer_udp: g.at_from.iter().filter_map(|s| s.outer_udp).collect(),
                drops: g.at_from.iter().filter_map(|s| s.drop).collect(),
                sizes: &g.sizes,
                min_size: g.min_size,
                largest_downstream: self.largest(*to),
            };
            out.push(lost.finding());
        }
        // Single-capture findings for what the pairs did not locate, then the flows'.
        let located: rustc_hash::FxHashSet<(&str, u64)> =
            out.iter().flat_map(|f| f.frames.iter().flatten().map(|r| (r.point.as_str(), r.frame))).collect();
        let explained = |point: &str, frame: u64| located.contains(&(point, frame));
        out.extend(self.single.findings(names, &explained));
        let mut more = findings::flow_findings(flows, &out);
        self.past_the_last_point(&mut more, names, flows);
        out.extend(more);
        out
    }

    /// A handshake that failed unanswered although the last capture point on the SYNs'
    /// path saw every SYN the client sent, and no answer: nothing was lost between the
    /// points, so the SYNs died at or after the last one — on the receiving host or
    /// past it. The finding says so, names that point, and points at the host rather
    /// than at more captures.
    fn past_the_last_point(&self, found: &mut [Finding], names: &[String], flows: &[FlowRecord]) {
        if names.len() < 2 {
            return;
        }
        // Only connections whose SYNs' path crosses more than one point are looked at.
        let on_a_path = |f: &&FlowRecord| {
            f.outcome.failed()
                && f.outcome != crate::tcp::Outcome::Refused
                && self.paths.get(&(f.client.ip, f.server.ip)).is_some_and(|p| p.len() > 1)
        };
        let mut by_conn: std::collections::HashMap<String, Vec<&FlowRecord>> = std::collections::HashMap::new();
        for f in flows.iter().filter(on_a_path) {
            by_conn.entry(format!("{} > {}", f.client, f.server)).or_default().push(f);
        }
        if by_conn.is_empty() {
            return;
        }
        for finding in found.iter_mut().filter(|f| f.kind == "handshake_failure") {
            let Some(conn) = by_conn.get(&finding.flow) else { continue };
            let Some(path) = self.paths.get(&(conn[0].client.ip, conn[0].server.ip)).filter(|p| p.len() > 1) else { continue };
            let Some(&last) = path.last() else { continue };
            let most = conn.iter().map(|f| f.syn.attempts).max().unwrap_or(0);
            let Some(there) = conn.iter().find(|f| f.point_index == last) else { continue };
            if there.syn.attempts < most || there.s2c.packets > 0 {
                if !finding.related.is_empty() {
                    finding.hint = "The SYNs were lost on the way: the related findings say between which capture points, and why.".to_string();
                }
                continue;
            }
            let point = names.get(last as usize).cloned().unwrap_or_default();
            let every = if most == 1 { "The SYN".to_string() } else { format!("All {most} SYNs") };
            finding.summary = format!(
                "{} {every} reached {point}, the last capture point on their path, and no answer came back: they died at or after {point}.",
                finding.summary
            );
            finding.points = vec![point.clone()];
            if let Some(e) = finding.evidence.as_object_mut() {
                e.insert("died_at_or_after".to_string(), serde_json::json!(point));
            }
            finding.hint = format!(
                "Look at the receiving host behind {point}: an input firewall rule that drops (nft list ruleset, iptables -S, a NetworkPolicy), reverse-path filtering (rp_filter), a full listen queue (nstat TcpExtListenDrops), or the route on. A port without a listener would have answered with RST. To see further, capture inside the receiver (the pod's interface) or on the next hop."
            );
        }
    }
}

//! Correlation across capture points: the same packet seen at several points, where it
//! was lost, and why.
//!
//! Feed every decoded frame of every point, in capture-time order across points, to
//! [`Correlator::add`], then call [`Correlator::finish`] with the TCP flow records for the
//! [`Report`]: the path of each direction, per pair of adjacent points the matched,
//! lost, appeared, duplicated and reordered packets and the one-way delay, and the
//! **findings** — named diagnoses with their evidence frames. [`clock`] estimates clock
//! offsets between hosts; [`single`] has the findings one capture is enough for.
//!
//! # Matching
//! A packet is identified by a fingerprint of its **innermost IP packet** built from
//! fields no forwarding hop changes: addresses, IPv4 identification, fragment fields,
//! IP payload length, IPv6 flow label; TCP ports, sequence and acknowledgement numbers,
//! flags, payload length and timestamp option; UDP ports and length; ICMP type, code and
//! identifier. Never TTL / hop limit, checksums or outer headers. Sightings with one
//! fingerprint within [`CorrelateOptions::window_ns`] of the first are one packet; a
//! second sighting at the same point is a duplicate. A second fingerprint without
//! addresses and ports matches packets across a NAT; TCP bytes re-segmented by
//! TSO/GSO/GRO are matched by sequence range.
//!
//! # Paths
//! Per direction (inner source → destination address) the points that saw its packets
//! are ordered by loss asymmetry, then by their timing in both directions (the rules
//! are in docs/correlation.md, "Paths"). A packet seen at a point and at none of the points
//! after it on the path was lost between the last point that saw it and the next.
//!
//! # Memory
//! Packets are open for the window, then accounted in batches
//! ([`CorrelateOptions::batch`]) and dropped, keeping one window of context: memory
//! follows two windows of traffic, not the file size (docs/correlation.md).

pub mod clock;
pub mod single;

use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

use rustc_hash::{FxHashMap, FxHasher};
use serde::Serialize;

use crate::capture::Frame;
use crate::checksum::Status;
use crate::decode::{LayerKind, Packet};
use crate::flow::Endpoint;
use crate::summary::FrameRef;
use crate::tcp::stats::{percentile, Samples};
use crate::tcp::FlowRecord;

/// Options of the correlation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrelateOptions {
    /// Sightings of one fingerprint within this time of the first are one packet
    /// (default 1 s: far above any one-way delay inside a cluster or across a
    /// continent, and a retransmission never repeats a fingerprint: it carries a new IP
    /// identification). Memory holds about two windows of traffic.
    pub window_ns: i64,
    /// Most packets held at once — open, waiting to be accounted, or kept as context
    /// (default 4 194 304, about 2 GiB at worst); past it new packets are counted but
    /// not kept (`truncated`).
    pub max_packets: usize,
    /// List every packet in the report (`netcap correlate --packets`).
    pub list_packets: bool,
    /// Match UDP and ICMP across NAT too (TCP always is): `netcap correlate --nat`.
    pub nat: bool,
    /// Expired packets accounted at once (default 65 536): memory holds the open
    /// packets (one window), one batch and a window of context before it.
    pub batch: usize,
}

impl Default for CorrelateOptions {
    fn default() -> Self {
        CorrelateOptions { window_ns: 1_000_000_000, max_packets: 1 << 22, list_packets: false, nat: false, batch: 1 << 16 }
    }
}

/// One sighting of a packet at a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sighting {
    #[serde(skip)]
    pub point: u32,
    pub frame: u64,
    pub ts_ns: i64,
    /// The outer UDP checksum verdict and values, when the frame carried one that was
    /// not good (the flannel signature is `bad` with stored 0xffff).
    #[serde(skip)]
    pub outer_udp: Option<(Status, u16, Option<u16>)>,
    /// Why a Linux receiver drops the frame (layer, depth, counter), if it would.
    #[serde(skip)]
    pub drop: Option<(&'static str, u8, &'static str)>,
    /// Seen with other addresses or ports than the packet's first sighting (NAT).
    #[serde(skip)]
    pub translated: bool,
}

/// The innermost IP packet's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Identity {
    src: Endpoint,
    dst: Endpoint,
    proto: u8,
    tcp_flags: Option<u16>,
    /// TCP payload: first sequence number and length (0 without payload).
    tcp_data: Option<(u32, u32)>,
    /// IPv4 identification (TSO/GSO segments count up from the super-frame's; a GRO
    /// merge keeps the first segment's).
    ip_id: Option<u16>,
    /// TCP TSval (TSO/GSO segments repeat the super-frame's).
    tsval: Option<u32>,
    /// The innermost IP packet's length in bytes (0: unknown, an IPv4 TSO frame).
    ip_len: u32,
}

#[derive(Debug, Clone)]
struct PacketState {
    fp: u64,
    nat_fp: u64,
    id: Identity,
    first_ts: i64,
    sightings: Vec<Sighting>,
    duplicates: u32,
}

/// Correlates sightings across points.
#[derive(Debug)]
pub struct Correlator {
    opts: CorrelateOptions,
    offsets: Vec<i64>,
    /// Open packets by fingerprint → global packet number.
    pending: FxHashMap<u64, usize>,
    /// The packets held: global numbers `base ..`; those before `done` are accounted
    /// and kept only as context for byte-range matching of their neighbours.
    packets: std::collections::VecDeque<PacketState>,
    base: usize,
    done: usize,
    /// Global numbers of the packets still open, oldest first.
    open: std::collections::VecDeque<usize>,
    /// Packets created.
    created: u64,
    truncated: u64,
    /// Paths learned so far, per direction.
    paths: HashMap<(IpAddr, IpAddr), Vec<u32>>,
    /// Packets of directions without a path yet, with their byte-range sightings.
    deferred: Vec<(PacketState, Vec<Sighting>)>,
    pairs: BTreeMap<(u32, u32), PairAcc>,
    groups: BTreeMap<(u8, String, u32, u32), GroupAcc>,
    rows: Vec<PacketPath>,
    /// Rows made so far (the next row's `packet` number).
    row_count: u64,
    /// Per point: packet sizes seen.
    per_point: Vec<PointAcc>,
    /// Frames a receiver drops, offload artefacts: the single-capture findings.
    single: single::SingleCapture,
    /// Open packets by NAT fingerprint.
    nat_pending: FxHashMap<u64, usize>,
    /// A packet was matched across a NAT: NAT matching is on for every protocol.
    nat_seen: bool,
    /// Packets matched across a NAT, by the points on either side (the side with the
    /// lowest point number first).
    nat_sides: BTreeMap<(Vec<u32>, Vec<u32>), u64>,
}

/// The fingerprint of a frame's innermost IP packet and its inner source and
/// destination addresses (what [`clock::ClockEstimator`] needs).
pub fn packet_key(packet: &Packet, data: &[u8]) -> Option<(u64, IpAddr, IpAddr)> {
    fingerprints(packet, data).map(|(fp, _, id)| (fp, id.src.ip, id.dst.ip))
}

/// The full fingerprint, the NAT fingerprint (without addresses, ports and the ICMP
/// identifier, which NAT rewrites), and the identity of a frame's innermost IP packet.
fn fingerprints(packet: &Packet, data: &[u8]) -> Option<(u64, u64, Identity)> {
    let layers = &packet.layers;
    let ip = layers.iter().rposition(|l| matches!(l.kind, LayerKind::Ipv4 { .. } | LayerKind::Ipv6 { .. }))?;
    // `n` hashes what survives NAT; `h` adds addresses, ports and the ICMP identifier.
    let mut n = FxHasher::default();
    let (src, dst, proto, ipv4_id, ip_len) = match layers[ip].kind {
        LayerKind::Ipv4 { src, dst, ip_id, total_len, more_fragments, frag_offset, proto, .. } => {
            (ip_id, total_len, more_fragments, frag_offset, proto.0).hash(&mut n);
            (IpAddr::V4(src), IpAddr::V4(dst), proto.0, Some(ip_id), u32::from(total_len))
        }
        LayerKind::Ipv6 { src, dst, flow_label, payload_len, proto, fragment, .. } => {
            (flow_label, payload_len, fragment, proto.0).hash(&mut n);
            (IpAddr::V6(src), IpAddr::V6(dst), proto.0, None, u32::from(payload_len) + 40)
        }
        _ => return None,
    };
    let (mut sport, mut dport, mut flags, mut tcp_data, mut tsval, mut icmp_id) = (0, 0, None, None, None, None);
    if let Some(t) = layers.get(ip + 1) {
        match t.kind {
            LayerKind::Tcp { src_port, dst_port, seq, ack, flags: f, payload_len, options, .. } => {
                (seq, ack, f, payload_len, options.timestamps).hash(&mut n);
                (sport, dport, flags) = (src_port, dst_port, Some(f));
                tcp_data = (payload_len > 0).then_some((seq, payload_len));
                tsval = options.timestamps.map(|t| t.0);
            }
            LayerKind::Udp { src_port, dst_port, length, .. } => {
                length.hash(&mut n);
                (sport, dport) = (src_port, dst_port);
            }
            LayerKind::Icmp { icmp_type, code } | LayerKind::Icmpv6 { icmp_type, code } => {
                (icmp_type, code).hash(&mut n);
                // Identifier and sequence number of echo messages (bytes 4..8).
                let start = t.offset as usize + 4;
                icmp_id = data.get(start..start + 4);
            }
            _ => {}
        }
    }
    let nat = n.finish();
    let mut h = FxHasher::default();
    (nat, src, dst, sport, dport, icmp_id).hash(&mut h);
    let id = Identity {
        src: Endpoint { ip: src, port: sport },
        dst: Endpoint { ip: dst, port: dport },
        proto,
        tcp_flags: flags,
        tcp_data,
        ip_id: ipv4_id,
        tsval,
        ip_len,
    };
    Some((h.finish(), nat, id))
}

impl Correlator {
    /// `offsets[p]` is added to point p's timestamps (0 for points not listed).
    pub fn new(opts: CorrelateOptions, offsets: Vec<i64>) -> Self {
        Correlator {
            opts,
            offsets,
            pending: FxHashMap::default(),
            packets: Default::default(),
            base: 0,
            done: 0,
            open: Default::default(),
            created: 0,
            truncated: 0,
            paths: HashMap::new(),
            deferred: Vec::new(),
            pairs: BTreeMap::new(),
            groups: BTreeMap::new(),
            rows: Vec::new(),
            row_count: 0,
            per_point: Vec::new(),
            single: single::SingleCapture::default(),
            nat_pending: FxHashMap::default(),
            nat_seen: false,
            nat_sides: BTreeMap::new(),
        }
    }

    /// One decoded frame seen at `point`. Frames must come in capture-time order across
    /// points (after the clock offsets), within the window.
    pub fn add(&mut self, point: u32, frame: &Frame<'_>, packet: &Packet) {
        self.single.add(point, frame, packet);
        let Some((fp, nat, id)) = fingerprints(packet, frame.data) else { return };
        let p = point as usize;
        if p < MAX_POINTS {
            if self.per_point.len() <= p {
                self.per_point.resize(p + 1, PointAcc::default());
            }
            let acc = &mut self.per_point[p];
            acc.largest = acc.largest.max(id.ip_len);
            acc.superframes += u64::from(id.is_superframe());
        }
        let ts = frame.ts_ns.saturating_add(self.offsets.get(point as usize).copied().unwrap_or(0));
        self.expire(ts);
        let drop = packet.drop.map(|d| (d.layer, d.depth, d.counter));
        // The outer UDP checksum is evidence only for frames a receiver drops.
        let outer_udp = drop.and_then(|_| {
            packet.layers.iter().find_map(|l| match (l.depth, &l.kind, l.checksum) {
                (0, LayerKind::Udp { .. }, Some(v)) if v.status != Status::Good => Some((v.status, v.stored, v.expected)),
                _ => None,
            })
        });
        let s = Sighting { point, frame: frame.number, ts_ns: ts, outer_udp, drop, translated: false };
        if let Some(p) = self.pending.get(&fp).and_then(|&g| self.packets.get_mut(g - self.base)) {
            if p.sightings.iter().any(|x| x.point == point) {
                p.duplicates += 1;
            } else {
                let translated = (p.id.src, p.id.dst) != (id.src, id.dst);
                p.sightings.push(Sighting { translated, ..s });
            }
            return;
        }
        // NAT: the same packet with other addresses or ports at another point. TCP's
        // sequence and acknowledgement numbers make the match certain enough on their
        // own; other protocols once a TCP packet was matched across a NAT (NAT mode
        // turns itself on), or with `nat` set.
        if id.tcp_flags.is_some() || self.opts.nat || self.nat_seen {
            if let Some((g, p)) =
                self.nat_pending.get(&nat).and_then(|&g| Some((g, self.packets.get_mut(g - self.base)?)))
            {
                let translated = (p.id.src, p.id.dst) != (id.src, id.dst);
                if translated && !p.sightings.iter().any(|x| x.point == point) {
                    p.sightings.push(Sighting { translated: true, ..s });
                    self.nat_seen = true;
                    self.pending.insert(fp, g);
                    return;
                }
            }
        }
        if self.packets.len() >= self.opts.max_packets {
            self.truncated += 1;
            return;
        }
        self.packets.push_back(PacketState { fp, nat_fp: nat, id, first_ts: ts, sightings: vec![s], duplicates: 0 });
        self.created += 1;
        let g = self.base + self.packets.len() - 1;
        self.pending.insert(fp, g);
        self.nat_pending.insert(nat, g);
        self.open.push_back(g);
    }

    fn expire(&mut self, now: i64) {
        while let Some(&g) = self.open.front() {
            let Some(p) = self.packets.get(g - self.base) else { break };
            if now.saturating_sub(p.first_ts) <= self.opts.window_ns {
                break;
            }
            self.pending.remove(&p.fp);
            self.nat_pending.remove(&p.nat_fp);
            self.open.pop_front();
        }
        // Account the expired packets in batches; memory then holds the open packets,
        // one batch and a window of context.
        let expired = self.open.front().copied().unwrap_or(self.base + self.packets.len());
        if expired - self.done >= self.opts.batch.max(1) {
            self.process(expired, false);
        }
    }

    /// Accounts the packets `done .. upto` (global numbers): their byte-range
    /// sightings, the paths of new directions, the pairs, the lost packets and the rows.
    /// Packets of a direction without a path yet wait (up to [`MAX_DEFERRED`]) until
    /// the end.
    fn process(&mut self, upto: usize, last: bool) {
        let covered = self.byte_range_sightings(self.done, upto);
        let batch: Vec<usize> = (self.done..upto).collect();
        // Learn the paths of directions first seen in this batch: every packet's
        // sightings (point, time), by direction.
        let mut evidence: Evidence = HashMap::new();
        {
            let mut note = |p: &PacketState, extra: &[Sighting]| {
                let dir = (p.id.src.ip, p.id.dst.ip);
                if self.paths.contains_key(&dir) {
                    return;
                }
                let seen: Vec<(u32, i64)> = p.sightings.iter().chain(extra).map(|s| (s.point, s.ts_ns)).collect();
                evidence.entry(dir).or_default().push(seen);
            };
            for &g in &batch {
                if let Some(p) = self.packets.get(g - self.base) {
                    note(p, covered.get(&g).map_or(&[][..], Vec::as_slice));
                }
            }
            if last {
                for (p, extra) in &self.deferred {
                    note(p, extra);
                }
            }
        }
        self.learn_paths(&evidence);
        let mut now = if last { std::mem::take(&mut self.deferred) } else { Vec::new() };
        for &g in &batch {
            let Some(p) = self.packets.get(g - self.base) else { continue };
            let extra = covered.get(&g).cloned().unwrap_or_default();
            if self.paths.contains_key(&(p.id.src.ip, p.id.dst.ip)) || last {
                now.push((p.clone(), extra));
            } else if self.deferred.len() < MAX_DEFERRED {
                self.deferred.push((p.clone(), extra));
            } else {
                self.truncated += 1;
            }
        }
        for (p, extra) in &now {
            self.account(p, extra);
        }
        self.done = upto;
        // Keep a window of context before the next batch for byte-range matching.
        let next_first = self.packets.get(self.done - self.base).map_or(i64::MAX, |p| p.first_ts);
        let cutoff = next_first.saturating_sub(self.opts.window_ns);
        while self.base < self.done && self.packets.front().is_some_and(|p| p.first_ts < cutoff) {
            self.packets.pop_front();
            self.base += 1;
        }
    }

    /// Paths for the directions in `evidence` (per packet, its sightings).
    ///
    /// For two points A and B of a direction, the evidence that A is upstream of B:
    /// - loss: packets seen at A but not at B, against those seen at B but not at A.
    ///   Packets are lost downstream, so a clear asymmetry (one count at least twice
    ///   the other plus 2) decides;
    /// - else time: the median of `t_B − t_A` over the packets both saw, plus the median
    ///   of `t_A − t_B` over the opposite direction's packets (both directions of a
    ///   connection cross the points in opposite orders, so their timings add up, and a
    ///   zero-delay link whose two captures differ by jitter is ordered consistently).
    ///
    /// Each point's rank is the number of points it is upstream of (Copeland); ties go to
    /// the earlier median time after a packet's first sighting.
    fn learn_paths(&mut self, evidence: &Evidence) {
        let mut dirs: Vec<(IpAddr, IpAddr)> = evidence.keys().copied().collect();
        dirs.sort_unstable();
        for (x, y) in dirs {
            if self.paths.contains_key(&(x, y)) {
                continue;
            }
            let fwd = &evidence[&(x, y)];
            let rev = evidence.get(&(y, x));
            let mut points: Vec<u32> = fwd.iter().flatten().map(|s| s.0).collect();
            points.sort_unstable();
            points.dedup();
            // Pairwise: missing counts and time differences.
            let diff = |packets: &[Vec<(u32, i64)>], a: u32, b: u32| -> Option<i64> {
                let mut d: Vec<i64> = packets
                    .iter()
                    .filter_map(|p| {
                        let ta = p.iter().find(|s| s.0 == a)?.1;
                        let tb = p.iter().find(|s| s.0 == b)?.1;
                        Some(tb.saturating_sub(ta))
                    })
                    .collect();
                d.sort_unstable();
                percentile(&d, 50)
            };
            let only = |a: u32, b: u32| {
                fwd.iter().filter(|p| p.iter().any(|s| s.0 == a) && !p.iter().any(|s| s.0 == b)).count()
            };
            let upstream = |a: u32, b: u32| -> std::cmp::Ordering {
                let (nab, nba) = (only(a, b), only(b, a));
                if nab >= 2 * nba + 2 {
                    return std::cmp::Ordering::Less;
                }
                if nba >= 2 * nab + 2 {
                    return std::cmp::Ordering::Greater;
                }
                // Positive when b sees the packets after a.
                let t = diff(fwd, a, b).unwrap_or(0).saturating_add(rev.and_then(|r| diff(r, b, a)).unwrap_or(0));
                0.cmp(&t)
            };
            let place = |a: u32| {
                let mut d: Vec<i64> = fwd
                    .iter()
                    .filter_map(|p| {
                        let first = p.iter().map(|s| s.1).min()?;
                        Some(p.iter().find(|s| s.0 == a)?.1.saturating_sub(first))
                    })
                    .collect();
                d.sort_unstable();
                percentile(&d, 50).unwrap_or(0)
            };
            let mut ranked: Vec<(usize, i64, u32)> = points
                .iter()
                .map(|&a| {
                    let wins = points.iter().filter(|&&b| b != a && upstream(a, b) == std::cmp::Ordering::Less).count();
                    (wins, place(a), a)
                })
                .collect();
            ranked.sort_by(|l, r| r.0.cmp(&l.0).then(l.1.cmp(&r.1)).then(l.2.cmp(&r.2)));
            self.paths.insert((x, y), ranked.into_iter().map(|(_, _, p)| p).collect());
        }
    }

    /// One packet on its path: pairs, lost, duplicates, its row, its NAT sides.
    fn account(&mut self, p: &PacketState, extra: &[Sighting]) {
        if p.sightings.iter().any(|s| s.translated) {
            let side = |t: bool| {
                let mut v: Vec<u32> = p.sightings.iter().filter(|s| s.translated == t).map(|s| s.point).collect();
                v.sort_unstable();
                v
            };
            let (a, b) = (side(false), side(true));
            let key = if a.first() <= b.first() { (a, b) } else { (b, a) };
            *self.nat_sides.entry(key).or_default() += 1;
        }
        let Some(path) = self.paths.get(&(p.id.src.ip, p.id.dst.ip)) else { return };
        let at = |pt: u32| p.sightings.iter().chain(extra).find(|s| s.point == pt);
        let last = path.iter().rposition(|&pt| at(pt).is_some());
        if self.opts.list_packets {
            let hops = path
                .iter()
                .map(|&pt| {
                    let by = if p.sightings.iter().any(|s| s.point == pt) { "fingerprint" } else { "bytes" };
                    Hop { point: pt, seen: at(pt).map(|s| HopSeen { frame: s.frame, ts_ns: s.ts_ns, by }) }
                })
                .collect();
            self.rows.push(PacketPath { packet: self.row_count, flow: flow_label(&p.id), hops });
            self.row_count += 1;
        }
        for w in path.windows(2) {
            let (a, b) = (w[0], w[1]);
            let acc = self.pairs.entry((a, b)).or_default();
            match (at(a), at(b)) {
                (Some(x), Some(y)) => {
                    acc.matched += 1;
                    acc.delays.add(y.ts_ns.saturating_sub(x.ts_ns));
                    // Packets come in the order of their first sighting: one that
                    // reaches `b` before a packet that left `a` earlier was overtaken.
                    if y.ts_ns < acc.latest_down && x.ts_ns >= acc.latest_up {
                        acc.reordered += 1;
                    }
                    acc.latest_down = acc.latest_down.max(y.ts_ns);
                    acc.latest_up = acc.latest_up.max(x.ts_ns);
                }
                (None, Some(_)) => acc.appeared += 1,
                _ => {}
            }
        }
        if let Some(l) = last {
            if let Some(&to) = path.get(l + 1) {
                let from = path[l];
                self.pairs.entry((from, to)).or_default().lost += 1;
                let at_from = p.sightings.iter().find(|s| s.point == from).copied();
                let kind = match at_from.and_then(|s| s.drop) {
                    Some(("udp", 0, _)) => 0,
                    Some(_) => 1,
                    None => 2,
                };
                let g = self.groups.entry((kind, flow_label(&p.id), from, to)).or_default();
                g.count += 1;
                g.min_size = if g.count == 1 { p.id.ip_len } else { g.min_size.min(p.id.ip_len) };
                if g.examples.len() < GROUP_EXAMPLES {
                    let mut s = p.sightings.clone();
                    s.sort_by_key(|x| x.ts_ns);
                    g.examples.push(s.iter().map(|x| (x.point, x.frame)).collect());
                    g.at_from.extend(at_from);
                    g.sizes.push(p.id.ip_len);
                }
            }
        }
        if p.duplicates > 0 {
            if let Some(&pt) = path.first() {
                let acc = self.pairs.entry((pt, *path.get(1).unwrap_or(&pt))).or_default();
                acc.duplicated += u64::from(p.duplicates);
            }
        }
    }

    /// Ends the input: accounts every packet still held, so that
    /// [`Correlator::take_packet_paths`] returns the last rows. [`Correlator::finish`]
    /// does it too; calling both is harmless. No frame may be added after it.
    pub fn flush(&mut self) {
        self.expire(i64::MAX);
        let end = self.base + self.packets.len();
        if self.done < end || !self.deferred.is_empty() {
            self.process(end, true);
        }
    }

    /// With [`CorrelateOptions::list_packets`]: the packets accounted since the last
    /// call, each with its path, point by point. The rows taken here are not in the
    /// [`Report`]'s `packets`; a caller that writes them as they come (Parquet export)
    /// keeps memory bounded by one batch instead of the whole capture.
    pub fn take_packet_paths(&mut self) -> Vec<PacketPath> {
        std::mem::take(&mut self.rows)
    }

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
            paths,
            pairs: self
                .pairs
                .iter()
                .map(|(&(a, b), acc)| PairReport {
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
            findings,
            packet_count: self.created,
            packets: rows,
            truncated: self.truncated,
            notes,
        }
    }

    /// TCP data seen at a point under another segmentation: a TSO/GSO super-frame
    /// captured before the NIC and the wire-size segments after it, or GRO-merged frames
    /// after a receiver and the segments before it, carry the same bytes with other
    /// fingerprints. For every TCP packet with payload and every point that saw data of
    /// the same flow and direction but not the packet's fingerprint, the point's
    /// segments within the window are searched: if they cover the packet's bytes, the
    /// packet counts as seen there (at the time of the first covering segment).
    /// For the packets `from .. upto` (global numbers), against every packet held.
    fn byte_range_sightings(&self, from: usize, upto: usize) -> FxHashMap<usize, Vec<Sighting>> {
        // (src, dst, point) → (relative start, end, ts, frame), relative to the first
        // data sequence number seen for (src, dst).
        let mut base: FxHashMap<(Endpoint, Endpoint), u32> = FxHashMap::default();
        let mut ranges: FxHashMap<(Endpoint, Endpoint, u32), Vec<Seg>> = FxHashMap::default();
        let mut points_of: FxHashMap<(Endpoint, Endpoint), Vec<u32>> = FxHashMap::default();
        for p in &self.packets {
            let Some((seq, len)) = p.id.tcp_data else { continue };
            let b = *base.entry((p.id.src, p.id.dst)).or_insert(seq);
            let start = u64::from(seq.wrapping_sub(b));
            for s in &p.sightings {
                let seg = Seg { start, end: start + u64::from(len), ts: s.ts_ns, frame: s.frame, ip_id: p.id.ip_id, tsval: p.id.tsval };
                ranges.entry((p.id.src, p.id.dst, s.point)).or_default().push(seg);
                let pts = points_of.entry((p.id.src, p.id.dst)).or_default();
                if !pts.contains(&s.point) {
                    pts.push(s.point);
                }
            }
        }
        for v in ranges.values_mut() {
            v.sort_unstable_by_key(|g| (g.start, g.end, g.ts));
        }
        let mut out: FxHashMap<usize, Vec<Sighting>> = FxHashMap::default();
        for i in from..upto {
            let Some(p) = self.packets.get(i.wrapping_sub(self.base)) else { continue };
            let Some((seq, len)) = p.id.tcp_data else { continue };
            let Some(path) = points_of.get(&(p.id.src, p.id.dst)) else { continue };
            let b = base.get(&(p.id.src, p.id.dst)).copied().unwrap_or(seq);
            let (start, end) = (u64::from(seq.wrapping_sub(b)), u64::from(seq.wrapping_sub(b)) + u64::from(len));
            for &pt in path.iter() {
                if p.sightings.iter().any(|s| s.point == pt) {
                    continue;
                }
                let Some(v) = ranges.get(&(p.id.src, p.id.dst, pt)) else { continue };
                // The segments that cover [start, end) without a gap, in order, within
                // the window, and that are this transmission re-segmented rather than a
                // retransmission of its bytes.
                let mut reach = start;
                let mut cover: Vec<&Seg> = Vec::new();
                let from = v.partition_point(|r| r.end <= start);
                for r in &v[from..] {
                    if r.start > reach || reach >= end {
                        break;
                    }
                    let apart = r.ts.saturating_sub(p.first_ts).unsigned_abs();
                    if apart > self.opts.window_ns.unsigned_abs() || !same_transmission(p, start, end, r) {
                        continue;
                    }
                    reach = reach.max(r.end);
                    cover.push(r);
                }
                if let (true, Some(first)) = (reach >= end, cover.first()) {
                    out.entry(i).or_default().push(Sighting {
                        point: pt,
                        frame: first.frame,
                        ts_ns: first.ts,
                        outer_udp: None,
                        drop: None,
                        translated: false,
                    });
                }
            }
        }
        out
    }

    /// The largest innermost IP packet `point` saw (0: none).
    fn largest(&self, point: u32) -> u32 {
        self.per_point.get(point as usize).map_or(0, |a| a.largest)
    }

    /// Every lost packet of the group is larger than anything the downstream point
    /// ever saw (which saw something): an MTU drop rather than random loss.
    fn too_big(&self, g: &GroupAcc, to: u32) -> bool {
        let biggest_after = self.largest(to);
        biggest_after > 0 && g.min_size > biggest_after
    }

    fn findings(&self, names: &[String], flows: &[FlowRecord]) -> Vec<Finding> {
        let name = |p: u32| names.get(p as usize).cloned().unwrap_or_default();
        let mut out = Vec::new();
        for ((kind, flow, from, to), g) in &self.groups {
            let frames: Vec<Vec<FrameRef>> = g
                .examples
                .iter()
                .map(|seen| seen.iter().map(|&(pt, frame)| FrameRef { point: name(pt), frame }).collect())
                .collect();
            let at_from: Vec<&Sighting> = g.at_from.iter().collect();
            let n = usize::try_from(g.count).unwrap_or(usize::MAX);
            let (a, b) = (name(*from), name(*to));
            let f = match kind {
                0 => {
                    let values: Vec<String> = at_from
                        .iter()
                        .filter_map(|s| s.outer_udp)
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
                        points: vec![a.clone(), b.clone()],
                        flow: flow.clone(),
                        frames,
                        evidence: serde_json::json!({
                            "outer_udp_checksums": at_from.iter().filter_map(|s| s.outer_udp).map(|(st, stored, expected)| serde_json::json!({"status": st.as_str(), "stored": stored, "expected": expected})).collect::<Vec<_>>(),
                            "counter": "UdpInCsumErrors",
                            "lost": n,
                        }),
                        hint: HINT_OUTER.to_string(),
                        related: Vec::new(),
                    }
                }
                1 => {
                    let why: Vec<String> = at_from
                        .iter()
                        .filter_map(|s| s.drop)
                        .map(|(l, d, c)| format!("bad {l} checksum at depth {d} ({c})"))
                        .collect();
                    Finding {
                        kind: "dropped_bad_checksum",
                        severity: "error",
                        summary: format!(
                            "{n} packet{} of {flow} seen on {a} and missing from {b}: {}; a Linux receiver drops such packets.",
                            plural(n),
                            why.first().cloned().unwrap_or_default()
                        ),
                        points: vec![a.clone(), b.clone()],
                        flow: flow.clone(),
                        frames,
                        evidence: serde_json::json!({ "drops": why, "lost": n }),
                        hint: "A checksum that is wrong on the wire: look for the device that rewrote the packet (NAT, a mangling rule, a NIC offload) between the sender and this point.".to_string(),
                        related: Vec::new(),
                    }
                }
                _ if self.too_big(g, *to) => {
                    let biggest_after = self.largest(*to);
                    let sizes = &g.sizes;
                    let smallest = g.min_size;
                    Finding {
                        kind: "mtu_drop",
                        severity: "error",
                        summary: format!(
                            "{n} packet{} of {flow} seen on {a} never reached {b}: each was at least {smallest} bytes, and nothing larger than {biggest_after} bytes ever reached {b} — an MTU on the way is smaller than the packets.",
                            plural(n)
                        ),
                        points: vec![a.clone(), b.clone()],
                        flow: flow.clone(),
                        frames,
                        evidence: serde_json::json!({ "lost": n, "ip_lengths": sizes, "largest_seen_downstream": biggest_after }),
                        hint: "An overlay adds its headers (VXLAN: 50 bytes) to every packet: the underlay MTU must exceed the overlay MTU by that much, or the pods' MTU must be lowered (flannel / calico `mtu` settings). Check `ip link` MTUs on both sides, that ICMP \"fragmentation needed\" / \"packet too big\" is not filtered (PMTUD), or clamp the TCP MSS.".to_string(),
                        related: Vec::new(),
                    }
                }
                _ => Finding {
                    kind: "lost_between",
                    severity: "warning",
                    summary: format!("{n} packet{} of {flow} seen on {a} never reached {b}.", plural(n)),
                    points: vec![a.clone(), b.clone()],
                    flow: flow.clone(),
                    frames,
                    evidence: serde_json::json!({ "lost": n }),
                    hint: "Nothing in the packets explains the loss: check the drop counters between the two points (ip -s link, nstat, tc -s qdisc, nft list counters, ethtool -S).".to_string(),
                    related: Vec::new(),
                },
            };
            out.push(f);
        }
        // Single-capture findings for what the pairs did not locate, then the flows'.
        let located: Vec<(String, u64)> =
            out.iter().flat_map(|f| f.frames.iter().flatten().map(|r| (r.point.clone(), r.frame))).collect();
        let explained = |point: &str, frame: u64| located.iter().any(|(p, f)| p == point && *f == frame);
        out.extend(self.single.findings(names, &explained));
        let more = single::flow_findings(flows, &out);
        out.extend(more);
        out
    }
}

/// Points whose packet sizes are kept (the caller numbers points densely).
const MAX_POINTS: usize = 1 << 20;

/// Per point: the largest innermost IP packet (for `mtu_drop`) and the TSO/GSO/GRO
/// super-frames (for the notes).
#[derive(Debug, Default, Clone, Copy)]
struct PointAcc {
    largest: u32,
    superframes: u64,
}

/// The largest IP packet of a standard Ethernet MTU. A capture of a jumbo-frame network
/// is flagged too: the note then over-warns, it never hides a super-frame.
const SUPERFRAME_BYTES: u32 = 1500;

impl Identity {
    /// The packet is larger than an Ethernet MTU allows, or is an IPv4 TSO frame with
    /// total length 0: a TSO/GSO/GRO super-frame captured before segmentation or after
    /// merging.
    fn is_superframe(&self) -> bool {
        self.ip_len == 0 || self.ip_len > SUPERFRAME_BYTES
    }
}

/// A TCP data segment at one point, in bytes relative to its direction's first.
#[derive(Debug, Clone, Copy)]
struct Seg {
    start: u64,
    end: u64,
    ts: i64,
    frame: u64,
    ip_id: Option<u16>,
    tsval: Option<u32>,
}

/// Whether segment `r` carries bytes of packet `p` (`[start, end)`)
/// from the same transmission, cut or merged differently, not a retransmission of them.
///
/// IPv4: TSO/GSO give the segments of a super-frame consecutive identifications from
/// the super-frame's, and GRO keeps the first segment's, so with `Δid` the
/// identification distance and `Δseq` the byte distance from the earlier-starting of
/// the two: `Δid = 0` when they start together, else `Δseq` is `Δid` whole segments
/// (`Δseq % Δid == 0`, each at least as long as the later one). A retransmission has a
/// new identification and fails. IPv6 has none: the TCP TSval must be equal (segments
/// of one super-frame repeat it); without timestamps nothing is matched.
fn same_transmission(p: &PacketState, start: u64, end: u64, r: &Seg) -> bool {
    match (p.id.ip_id, r.ip_id) {
        (Some(a), Some(b)) => {
            let (early_id, late_id, dseq, late_len) =
                if r.start <= start { (b, a, start - r.start, end - start) } else { (a, b, r.start - start, r.end - r.start) };
            let did = u64::from(late_id.wrapping_sub(early_id));
            if dseq == 0 {
                did == 0
            } else {
                did > 0 && did <= 64 && dseq % did == 0 && dseq / did >= late_len
            }
        }
        _ => p.id.tsval.is_some() && p.id.tsval == r.tsval,
    }
}

pub(crate) fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// `10.244.1.2:55406 > 10.244.2.3:80`, from the SYN sender when the packet is a SYN,
/// else from the lower port's peer (the ephemeral side) to the other.
fn flow_label(id: &Identity) -> String {
    single::flow_text(id.src, id.dst, id.tcp_flags)
}

pub(crate) const HINT_OUTER: &str = "A wrong outer UDP checksum on VXLAN is the known TX-checksum-offload bug of VXLAN devices combined with NAT (flannel issue 1266, calico issue 3145; kernel fix \"netfilter: nat: never update the UDP checksum when it's 0\"). Work around it with `ethtool -K flannel.1 tx-checksum-ip-generic off` (or `vxlan.calico`) on the sending node, or upgrade the kernel.";

#[derive(Debug)]
struct PairAcc {
    matched: u64,
    lost: u64,
    appeared: u64,
    duplicated: u64,
    reordered: u64,
    delays: Samples,
    /// Latest times seen at the upstream and downstream point, for reordering.
    latest_up: i64,
    latest_down: i64,
}

impl Default for PairAcc {
    fn default() -> Self {
        PairAcc {
            matched: 0,
            lost: 0,
            appeared: 0,
            duplicated: 0,
            reordered: 0,
            delays: Samples::default(),
            latest_up: i64::MIN,
            latest_down: i64::MIN,
        }
    }
}

/// Lost packets of one (kind, flow, from, to): counted, the first kept as examples.
#[derive(Debug, Default)]
struct GroupAcc {
    count: u64,
    min_size: u32,
    /// Per example packet: (point, frame) of every sighting, in time order.
    examples: Vec<Vec<(u32, u64)>>,
    /// The examples' sightings at the last point that saw them.
    at_from: Vec<Sighting>,
    sizes: Vec<u32>,
}

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
    pub frame: u64,
    /// With the point's clock offset applied.
    pub ts_ns: i64,
    /// `fingerprint`, or `bytes` when the point saw the packet's TCP bytes re-segmented.
    pub by: &'static str,
}

/// Per direction (inner source, destination address), each packet's sightings as
/// (point, time): what paths are learned from.
type Evidence = HashMap<(IpAddr, IpAddr), Vec<Vec<(u32, i64)>>>;

/// Packets of directions without a path kept until the end.
const MAX_DEFERRED: usize = 1 << 16;
/// Example packets kept per lost-packet finding.
const GROUP_EXAMPLES: usize = 64;

/// One-way delay between two points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DelayReport {
    pub min: Option<i64>,
    pub p50: Option<i64>,
    pub p99: Option<i64>,
    pub max: Option<i64>,
}

/// Counts for one pair of adjacent points (upstream `from`, downstream `to`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PairReport {
    pub from: String,
    pub to: String,
    pub matched: u64,
    pub lost: u64,
    pub appeared: u64,
    pub duplicated: u64,
    /// Packets that reached the downstream point before one that left the upstream
    /// point earlier (counted on the later-leaving one).
    pub reordered: u64,
    pub delay_ns: DelayReport,
}

/// One packet: where it was seen on its path, and where not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PacketRow {
    pub flow: String,
    /// Path order.
    pub seen: Vec<SeenRow>,
    /// Points of its path that did not see it.
    pub missing: Vec<String>,
}

/// One sighting in a [`PacketRow`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeenRow {
    pub point: String,
    pub frame: u64,
    pub ts_ns: i64,
    /// `fingerprint`, or `bytes` when the point saw the packet's TCP bytes re-segmented.
    pub by: &'static str,
}

/// A named diagnosis with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub kind: &'static str,
    pub severity: &'static str,
    pub summary: String,
    pub points: Vec<String>,
    pub flow: String,
    /// Per packet, every point and frame where it was seen, in time order.
    pub frames: Vec<Vec<FrameRef>>,
    pub evidence: serde_json::Value,
    pub hint: String,
    /// 1-based numbers of the findings this one is caused by (`syn_retry_delay`).
    pub related: Vec<usize>,
}

/// The points a direction's packets cross, upstream first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathReport {
    /// Inner source and destination address.
    pub direction: String,
    pub points: Vec<String>,
}

/// What [`Correlator::finish`] reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// The inferred path of each direction.
    pub paths: Vec<PathReport>,
    pub pairs: Vec<PairReport>,
    pub findings: Vec<Finding>,
    /// Distinct packets (fingerprints within the window) kept.
    pub packet_count: u64,
    /// Every packet, in order of first sighting (only when asked for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packets: Option<Vec<PacketRow>>,
    /// Packets not kept past `max_packets`.
    pub truncated: u64,
    /// What limits the report's reliability (points holding super-frames).
    pub notes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::capture::{LinkType, PointId};
    use crate::decode::{tcp_flags, IpNumber, Layer, TcpOptions};

    fn layer(depth: u8, kind: LayerKind) -> Layer {
        Layer { depth, offset: 0, header_len: 20, kind, checksum: None }
    }

    fn ipv4(src: [u8; 4], dst: [u8; 4], ttl: u8, ip_id: u16, proto: IpNumber) -> LayerKind {
        LayerKind::Ipv4 {
            src: Ipv4Addr::from(src),
            dst: Ipv4Addr::from(dst),
            tos: 0,
            total_len: 60,
            ip_id,
            dont_fragment: true,
            more_fragments: false,
            frag_offset: 0,
            ttl,
            proto,
        }
    }

    fn tcp(seq: u32) -> LayerKind {
        LayerKind::Tcp {
            src_port: 40000,
            dst_port: 80,
            seq,
            ack: 0,
            flags: tcp_flags::SYN,
            window: 64240,
            urgent: 0,
            options: TcpOptions::default(),
            payload_len: 0,
        }
    }

    /// The pod's SYN, and the same SYN one hop later inside VXLAN on the underlay.
    fn pod(ip_id: u16, ttl: u8) -> Packet {
        Packet { layers: vec![layer(0, ipv4([10, 0, 1, 2], [10, 0, 2, 3], ttl, ip_id, IpNumber::TCP)), layer(0, tcp(7))], stop: None, drop: None }
    }

    fn underlay(ip_id: u16, ttl: u8, outer_id: u16) -> Packet {
        let outer = ipv4([192, 168, 0, 1], [192, 168, 0, 2], 64, outer_id, IpNumber::UDP);
        let udp = LayerKind::Udp { src_port: 5555, dst_port: 8472, length: 90, payload_len: 82 };
        let mut p = pod(ip_id, ttl);
        p.layers = vec![
            layer(0, outer),
            layer(0, udp),
            layer(0, LayerKind::Vxlan { flags: 8, vni: 1 }),
            layer(1, ipv4([10, 0, 1, 2], [10, 0, 2, 3], ttl, ip_id, IpNumber::TCP)),
            layer(1, tcp(7)),
        ];
        p
    }

    fn frame(number: u64, point: u32, ts_ns: i64) -> Frame<'static> {
        Frame { number, point: PointId(point), link_type: LinkType(1), ts_ns, has_timestamp: true, caplen: 0, len: 0, offset: 0, data: &[] }
    }

    fn data_packet(ip_id: Option<u16>, tsval: Option<u32>) -> PacketState {
        let ep = |port| Endpoint { ip: IpAddr::V4(Ipv4Addr::LOCALHOST), port };
        let id = Identity { src: ep(1), dst: ep(2), proto: 6, tcp_flags: None, tcp_data: Some((0, 0)), ip_id, tsval, ip_len: 0 };
        PacketState { fp: 0, nat_fp: 0, id, first_ts: 0, sightings: Vec::new(), duplicates: 0 }
    }

    fn seg(start: u64, end: u64, ip_id: Option<u16>, tsval: Option<u32>) -> Seg {
        Seg { start, end, ts: 0, frame: 1, ip_id, tsval }
    }

    #[test]
    fn re_segmented_bytes_match_and_retransmitted_bytes_do_not() {
        // A 4344-byte TSO super-frame (IP ID 100) and its three 1448-byte segments
        // (IDs 100, 101, 102) at another point.
        let sup = data_packet(Some(100), None);
        assert!(same_transmission(&sup, 0, 4344, &seg(0, 1448, Some(100), None)));
        assert!(same_transmission(&sup, 0, 4344, &seg(1448, 2896, Some(101), None)));
        assert!(same_transmission(&sup, 0, 4344, &seg(2896, 4344, Some(102), None)));
        // The second segment seen against the super-frame.
        let second = data_packet(Some(101), None);
        assert!(same_transmission(&second, 1448, 2896, &seg(0, 4344, Some(100), None)));
        // A retransmission of a segment's bytes carries a new identification.
        let lost = data_packet(Some(500), None);
        assert!(!same_transmission(&lost, 1448, 2896, &seg(1448, 2896, Some(507), None)));
        assert!(!same_transmission(&lost, 1448, 2896, &seg(0, 4344, Some(480), None)));
        // IPv6: equal TSvals or nothing.
        let v6 = data_packet(None, Some(9));
        assert!(same_transmission(&v6, 0, 100, &seg(0, 50, None, Some(9))));
        assert!(!same_transmission(&v6, 0, 100, &seg(0, 50, None, Some(10))));
        assert!(!same_transmission(&data_packet(None, None), 0, 100, &seg(0, 50, None, None)));
    }

    /// The same packet with another innermost IPv4 total length.
    fn sized(mut p: Packet, len: u16) -> Packet {
        if let Some(l) = p.layers.iter_mut().rev().find(|l| matches!(l.kind, LayerKind::Ipv4 { .. })) {
            if let LayerKind::Ipv4 { total_len, .. } = &mut l.kind {
                *total_len = len;
            }
        }
        p
    }

    #[test]
    fn packets_larger_than_anything_downstream_saw_are_an_mtu_drop() {
        let names: Vec<String> = ["pod", "underlay", "peer"].iter().map(|s| s.to_string()).collect();
        let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
        // Small packets cross all three points; two 1500-byte packets stop at "underlay".
        for (k, len) in [(1u16, 60u16), (2, 1500), (3, 1500), (4, 1400)] {
            let t = i64::from(k) * 10_000;
            c.add(0, &frame(u64::from(k), 0, t), &sized(pod(k, 64), len));
            c.add(1, &frame(u64::from(k), 1, t + 1_000), &sized(underlay(k, 63, 100 + k), len));
            if len < 1500 {
                c.add(2, &frame(u64::from(k), 2, t + 2_000), &sized(pod(k, 62), len));
            }
        }
        let r = c.finish(&names, &[]);
        assert_eq!(r.findings.len(), 1);
        let f = &r.findings[0];
        assert_eq!((f.kind, f.points.clone()), ("mtu_drop", vec!["underlay".to_string(), "peer".to_string()]));
        assert_eq!(f.evidence["largest_seen_downstream"], 1400);
        assert_eq!(f.evidence["ip_lengths"], serde_json::json!([1500, 1500]));
    }

    /// The pod's SYN after SNAT to 192.168.0.1:61000.
    fn snat(ip_id: u16) -> Packet {
        let mut p = pod(ip_id, 63);
        p.layers[0] = layer(0, ipv4([192, 168, 0, 1], [10, 0, 2, 3], 63, ip_id, IpNumber::TCP));
        if let LayerKind::Tcp { src_port, .. } = &mut p.layers[1].kind {
            *src_port = 61000;
        }
        p
    }

    #[test]
    fn tcp_packets_match_across_a_nat_and_the_report_says_so() {
        let names: Vec<String> = ["inside", "outside"].iter().map(|s| s.to_string()).collect();
        let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
        c.add(0, &frame(1, 0, 1_000), &pod(7, 64));
        c.add(1, &frame(1, 1, 2_000), &snat(7));
        c.add(0, &frame(2, 0, 3_000), &pod(8, 64));
        let r = c.finish(&names, &[]);
        assert_eq!(r.packet_count, 2);
        let hop = r.pairs.iter().find(|p| p.from == "inside" && p.to == "outside").unwrap();
        assert_eq!((hop.matched, hop.lost), (1, 1));
        assert!(r.notes.iter().any(|n| n.starts_with("NAT between inside and outside: 1 packet seen")), "{:?}", r.notes);
        // Another IP ID is another packet, NAT or not.
        let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
        c.add(0, &frame(1, 0, 1_000), &pod(7, 64));
        c.add(1, &frame(1, 1, 2_000), &snat(9));
        assert_eq!(c.finish(&names, &[]).packet_count, 2);
    }

    #[test]
    fn a_packet_that_overtakes_another_is_counted_as_reordered() {
        let names: Vec<String> = ["a", "b"].iter().map(|s| s.to_string()).collect();
        let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
        c.add(0, &frame(1, 0, 1_000), &pod(1, 64));
        c.add(0, &frame(2, 0, 2_000), &pod(2, 64));
        c.add(1, &frame(1, 1, 3_000), &pod(2, 63));
        c.add(1, &frame(2, 1, 4_000), &pod(1, 63));
        let r = c.finish(&names, &[]);
        let hop = r.pairs.iter().find(|p| p.from == "a" && p.to == "b").unwrap();
        assert_eq!((hop.matched, hop.reordered, hop.lost), (2, 1, 0));
    }

    #[test]
    fn ttl_and_outer_headers_do_not_change_the_fingerprint() {
        let a = fingerprints(&pod(100, 64), &[]).unwrap().0;
        let b = fingerprints(&underlay(100, 63, 999), &[]).unwrap().0;
        let c = fingerprints(&underlay(100, 63, 1000), &[]).unwrap().0;
        assert_eq!((a, a), (b, c));
        assert_ne!(a, fingerprints(&pod(101, 64), &[]).unwrap().0, "another IP ID is another packet");
    }

    #[test]
    fn a_packet_missing_downstream_is_lost_between_its_last_point_and_the_next() {
        let names: Vec<String> = ["pod", "underlay", "peer"].iter().map(|s| s.to_string()).collect();
        let mut c = Correlator::new(CorrelateOptions::default(), Vec::new());
        // Packet 1 (IP ID 1) reaches all three points; packet 2 stops after "underlay";
        // packet 3 is seen twice at "pod".
        c.add(0, &frame(1, 0, 1_000), &pod(1, 64));
        c.add(1, &frame(1, 1, 2_000), &underlay(1, 63, 50));
        c.add(2, &frame(1, 2, 3_000), &pod(1, 62));
        c.add(0, &frame(2, 0, 10_000), &pod(2, 64));
        c.add(1, &frame(2, 1, 11_000), &underlay(2, 63, 51));
        c.add(0, &frame(3, 0, 20_000), &pod(3, 64));
        c.add(0, &frame(4, 0, 20_500), &pod(3, 64));
        c.add(1, &frame(3, 1, 21_000), &underlay(3, 63, 52));
        c.add(2, &frame(2, 2, 22_000), &pod(3, 62));
        let r = c.finish(&names, &[]);
        assert_eq!(r.packet_count, 3);
        let pair = |a: &str, b: &str| r.pairs.iter().find(|p| p.from == a && p.to == b).cloned().unwrap();
        let first = pair("pod", "underlay");
        assert_eq!((first.matched, first.lost, first.duplicated), (3, 0, 1));
        assert_eq!((first.delay_ns.min, first.delay_ns.max), (Some(1_000), Some(1_000)));
        let second = pair("underlay", "peer");
        assert_eq!((second.matched, second.lost), (2, 1));
        assert_eq!(r.findings.len(), 1);
        let f = &r.findings[0];
        assert_eq!((f.kind, f.points.clone()), ("lost_between", vec!["underlay".to_string(), "peer".to_string()]));
        assert_eq!(f.flow, "10.0.1.2:40000 > 10.0.2.3:80");
        let seen: Vec<(String, u64)> = f.frames[0].iter().map(|x| (x.point.clone(), x.frame)).collect();
        assert_eq!(seen, [("pod".to_string(), 2), ("underlay".to_string(), 2)]);
    }
}

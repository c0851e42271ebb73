//! Correlation across capture points: the same packet seen at several points, where it
//! was lost, and why.
//!
//! Feed every decoded frame of every point, in capture-time order across points, to
//! [`Correlator::add`], then call [`Correlator::finish`] with the TCP flow records for the
//! [`Report`]: the path of each direction, per pair of adjacent points the matched,
//! lost, appeared, duplicated and reordered packets and the one-way delay, and the
//! **findings** — named diagnoses with their evidence frames. [`clock`] estimates clock
//! offsets between hosts; [`crate::findings::single`] has the findings one capture is
//! enough for.
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
mod fingerprint;
mod pairs;
mod paths;
mod report;
mod resegment;

use std::collections::BTreeMap;
use std::net::IpAddr;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::capture::Frame;
use crate::checksum::Status;
use crate::decode::{LayerKind, Packet};
use crate::findings::loss::Cause;
use crate::findings::SingleCapture;
use crate::CaptureKeyed;

pub use fingerprint::packet_key;

/// Moved to [`crate::findings::Finding`]; kept here so that code written against
/// netcap-core 0.1 still builds.
#[deprecated(since = "0.1.0", note = "use netcap_core::findings::Finding")]
pub type Finding = crate::findings::Finding;

/// Moved to [`crate::findings`] (`single` and `flows`); kept here so that code written
/// against netcap-core 0.1 still builds.
#[deprecated(since = "0.1.0", note = "use netcap_core::findings")]
pub mod single {
    pub use crate::findings::flows::{flow_findings, STORM_MIN, STORM_RATE};
    pub use crate::findings::single::{SingleCapture, MAX_GROUPS};
}
pub(crate) use fingerprint::{fingerprints, Keys};
pub use report::{DelayReport, Hop, HopSeen, PacketPath, PacketRow, PairReport, PathReport, Report, SeenRow};

use fingerprint::Identity;
use pairs::{GroupAcc, PairAcc, PointAcc, MAX_POINTS};
use paths::Evidence;

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
    /// Most points on one direction's path (default [`MAX_PATH_POINTS`]): a direction
    /// seen at more keeps those that saw the most of its packets, and the report says
    /// so in its notes (`netcap correlate --max-path-points`). Learning a path compares
    /// its points two by two, so this bounds that work per packet.
    pub max_path_points: usize,
}

/// Default of [`CorrelateOptions::max_path_points`]: far more points than a packet
/// crosses in a cluster (a pod's veth, a bridge, a node's uplink, the same on the other
/// node), few enough that a capture of 65 536 interfaces seeing one broadcast stays
/// quick.
pub const MAX_PATH_POINTS: usize = 64;

/// Most sightings kept per packet (one per point): a packet seen at more points has
/// the others counted in [`Report::sightings_dropped`], not matched.
pub const MAX_SIGHTINGS: usize = 256;

impl Default for CorrelateOptions {
    fn default() -> Self {
        CorrelateOptions {
            window_ns: 1_000_000_000,
            max_packets: 1 << 22,
            list_packets: false,
            nat: false,
            batch: 1 << 16,
            max_path_points: MAX_PATH_POINTS,
        }
    }
}

/// One sighting of a packet at a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sighting {
    /// The point's number, as passed to [`Correlator::add`].
    #[serde(skip)]
    pub point: u32,
    /// The frame's number in its file.
    pub frame: u64,
    /// Its capture time, the point's clock offset added.
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

#[derive(Debug, Clone)]
struct PacketState {
    fp: u64,
    nat_fp: u64,
    id: Identity,
    first_ts: i64,
    /// At most [`MAX_SIGHTINGS`], one per point; added to with [`PacketState::see`].
    sightings: Vec<Sighting>,
    /// The points of `sightings`, sorted, once there are more than [`SCANNED_SIGHTINGS`]
    /// (empty before): whether a packet seen at hundreds of points was seen at one more
    /// is then a binary search, not a walk over all of them for every frame.
    seen_at: Vec<u32>,
    duplicates: u32,
}

/// Sightings of a packet searched one by one; past them, through its sorted points.
const SCANNED_SIGHTINGS: usize = 16;

impl PacketState {
    fn new(fp: u64, nat_fp: u64, id: Identity, first_ts: i64, first: Sighting) -> Self {
        PacketState { fp, nat_fp, id, first_ts, sightings: vec![first], seen_at: Vec::new(), duplicates: 0 }
    }

    /// Whether the packet was seen at `point`.
    fn seen_at(&self, point: u32) -> bool {
        if self.seen_at.is_empty() {
            self.sightings.iter().any(|x| x.point == point)
        } else {
            self.seen_at.binary_search(&point).is_ok()
        }
    }

    /// Adds a sighting at a point that has not seen the packet.
    fn see(&mut self, s: Sighting) {
        self.sightings.push(s);
        if !self.seen_at.is_empty() {
            if let Err(i) = self.seen_at.binary_search(&s.point) {
                self.seen_at.insert(i, s.point);
            }
        } else if self.sightings.len() > SCANNED_SIGHTINGS {
            self.seen_at = self.sightings.iter().map(|x| x.point).collect();
            self.seen_at.sort_unstable();
            self.seen_at.dedup();
        }
    }
}

/// Correlates sightings across points.
#[derive(Debug)]
pub struct Correlator {
    opts: CorrelateOptions,
    offsets: Vec<i64>,
    /// Open packets by fingerprint → global packet number.
    pending: CaptureKeyed<u64, usize>,
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
    paths: CaptureKeyed<(IpAddr, IpAddr), Vec<u32>>,
    /// Packets of directions without a path yet, with their byte-range sightings.
    deferred: Vec<(PacketState, Vec<Sighting>)>,
    pairs: BTreeMap<(u32, u32), PairAcc>,
    groups: BTreeMap<(Cause, String, u32, u32), GroupAcc>,
    rows: Vec<PacketPath>,
    /// Rows made so far (the next row's `packet` number).
    row_count: u64,
    /// Per point: packet sizes seen.
    per_point: Vec<PointAcc>,
    /// Frames a receiver drops, offload artefacts: the single-capture findings.
    single: SingleCapture,
    /// Open packets by NAT fingerprint.
    nat_pending: CaptureKeyed<u64, usize>,
    /// A packet was matched across a NAT: NAT matching is on for every protocol.
    nat_seen: bool,
    /// Packets matched across a NAT, by the points on either side (the side with the
    /// lowest point number first).
    nat_sides: BTreeMap<(Vec<u32>, Vec<u32>), u64>,
    /// Directions seen at more than `max_path_points` points.
    wide: Wide,
    /// Sightings past [`MAX_SIGHTINGS`] of their packet, not kept.
    sightings_dropped: u64,
}

/// Directions seen at more points than a path keeps: how many, the first of them and
/// its number of points.
#[derive(Debug, Default)]
struct Wide {
    count: u64,
    first: Option<((IpAddr, IpAddr), usize)>,
}

impl Correlator {
    /// `offsets[p]` is added to point p's timestamps (0 for points not listed).
    pub fn new(opts: CorrelateOptions, offsets: Vec<i64>) -> Self {
        Correlator {
            opts,
            offsets,
            pending: CaptureKeyed::default(),
            packets: Default::default(),
            base: 0,
            done: 0,
            open: Default::default(),
            created: 0,
            truncated: 0,
            paths: CaptureKeyed::default(),
            deferred: Vec::new(),
            pairs: BTreeMap::new(),
            groups: BTreeMap::new(),
            rows: Vec::new(),
            row_count: 0,
            per_point: Vec::new(),
            single: SingleCapture::default(),
            nat_pending: CaptureKeyed::default(),
            nat_seen: false,
            nat_sides: BTreeMap::new(),
            wide: Wide::default(),
            sightings_dropped: 0,
        }
    }

    /// One decoded frame seen at `point`. Frames must come in capture-time order across
    /// points (after the clock offsets), within the window.
    pub fn add(&mut self, point: u32, frame: &Frame<'_>, packet: &Packet) {
        self.add_keyed(point, frame, packet, fingerprints(packet, frame.data));
    }

    /// [`Correlator::add`] with the frame's fingerprints computed already (the engine
    /// computes them on its thread pool).
    pub(crate) fn add_keyed(&mut self, point: u32, frame: &Frame<'_>, packet: &Packet, keys: Option<Keys>) {
        self.single.add(point, frame, packet);
        let Some((fp, nat, id)) = keys else { return };
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
            if p.seen_at(point) {
                p.duplicates += 1;
            } else if p.sightings.len() >= MAX_SIGHTINGS {
                self.sightings_dropped += 1;
            } else {
                let translated = (p.id.src, p.id.dst) != (id.src, id.dst);
                p.see(Sighting { translated, ..s });
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
                if translated && p.sightings.len() < MAX_SIGHTINGS && !p.seen_at(point) {
                    p.see(Sighting { translated: true, ..s });
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
        self.packets.push_back(PacketState::new(fp, nat, id, ts, s));
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
        // With one point so far, every packet was seen where it could be: no bytes to
        // match elsewhere.
        let covered = if self.per_point.len() > 1 { self.byte_range_sightings(self.done, upto) } else { FxHashMap::default() };
        let batch: Vec<usize> = (self.done..upto).collect();
        // Learn the paths of directions first seen in this batch: every packet's
        // sightings (point, time), by direction.
        let mut evidence: Evidence = CaptureKeyed::default();
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
        // Deferred packets first (at the end), then the batch in order.
        let deferred = if last { std::mem::take(&mut self.deferred) } else { Vec::new() };
        for (p, extra) in &deferred {
            self.account(p, extra);
        }
        // Accounting does not touch the packets held: lent out meanwhile, not copied.
        let packets = std::mem::take(&mut self.packets);
        for &g in &batch {
            let Some(p) = packets.get(g - self.base) else { continue };
            let extra = covered.get(&g).map_or(&[][..], Vec::as_slice);
            if self.paths.contains_key(&(p.id.src.ip, p.id.dst.ip)) || last {
                self.account(p, extra);
            } else if self.deferred.len() < MAX_DEFERRED {
                self.deferred.push((p.clone(), extra.to_vec()));
            } else {
                self.truncated += 1;
            }
        }
        self.packets = packets;
        self.done = upto;
        // Keep a window of context before the next batch for byte-range matching.
        let next_first = self.packets.get(self.done - self.base).map_or(i64::MAX, |p| p.first_ts);
        let cutoff = next_first.saturating_sub(self.opts.window_ns);
        while self.base < self.done && self.packets.front().is_some_and(|p| p.first_ts < cutoff) {
            self.packets.pop_front();
            self.base += 1;
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

}

/// Packets of directions without a path kept until the end.
const MAX_DEFERRED: usize = 1 << 16;

#[cfg(test)]
mod tests;

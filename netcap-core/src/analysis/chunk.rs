//! A chunk of frames in the run's order, and the work done on a chunk before the
//! observer sees it: decoding and checksum verdicts (in parallel, frame by frame), the
//! TCP analysis (in parallel, shard by shard).

use std::sync::atomic::AtomicBool;
#[cfg(target_os = "linux")]
use std::sync::Arc;

use rayon::prelude::*;

use crate::capture::{Frame, LinkType, PointId};
#[cfg(target_os = "linux")]
use crate::capture::mapped::Mapping;
use crate::correlate::{fingerprints, Keys};
use crate::decode::{Decoder, Packet};
use crate::tcp::shards::{self, Done, Job, Shards, SHARDS};
use crate::tcp::{Analyzer, FlowRecord, SegmentInfo};

use super::select::{NotApplicable, Selector};

/// Frames per chunk at most.
pub(crate) const CHUNK_FRAMES: usize = 2048;
/// Bytes of frame data per chunk at most (beyond one frame).
pub(crate) const CHUNK_BYTES: usize = 4 << 20;

/// The mapping of each input that is memory-mapped (`None`: streamed).
#[cfg(target_os = "linux")]
pub(crate) type Maps = Vec<Option<Arc<Mapping>>>;
#[cfg(not(target_os = "linux"))]
pub(crate) type Maps = Vec<Option<()>>;

/// One frame of a chunk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Slot {
    pub input: u32,
    /// The run's point number.
    pub point: u32,
    pub number: u64,
    /// With the point's clock offset.
    pub ts_ns: i64,
    pub has_timestamp: bool,
    pub caplen: u32,
    pub len: u32,
    pub offset: u64,
    pub link_type: LinkType,
    /// Where the frame's bytes are in the input (decompressed).
    pub data_offset: u64,
    /// Where they are in the chunk's arena; `None`: in the input's mapping at
    /// `data_offset`.
    pub arena: Option<usize>,
    /// Whether the input is a regular, uncompressed file: the bytes can be read again
    /// at `data_offset`.
    pub seekable: bool,
    /// Whether the file (or pcapng section) is big-endian (for the filter).
    pub big_endian: bool,
    /// The bytes libpcap would hand a filter at most: the interface's snapshot length
    /// (0 or too large: the link type's largest), to which libpcap cuts a longer record.
    pub filter_snaplen: u32,
}

impl Slot {
    /// The frame, with `data` its bytes.
    fn frame<'a>(&self, data: &'a [u8]) -> Frame<'a> {
        Frame {
            number: self.number,
            point: PointId(self.point),
            link_type: self.link_type,
            ts_ns: self.ts_ns,
            has_timestamp: self.has_timestamp,
            caplen: self.caplen,
            len: self.len,
            offset: self.offset,
            data,
        }
    }
}

/// Frames on their way to the observer.
#[derive(Debug, Default)]
pub(crate) struct Chunk {
    pub slots: Vec<Slot>,
    /// Bytes of the frames of streamed inputs.
    pub arena: Vec<u8>,
    pub packets: Vec<Packet>,
    /// Per slot: its TCP shard and what the analysis says (flow ids of the shard).
    pub shards: Vec<Option<u8>>,
    pub segments: Vec<Option<SegmentInfo>>,
    /// Per slot: the correlator's fingerprints (a time-ordered run).
    pub keys: Vec<Option<Keys>>,
    /// Flows that ended: (slot, shard, record), by slot then shard; slot `usize::MAX`
    /// at the chunk's end.
    pub finished: Vec<(usize, u8, FlowRecord)>,
    /// Link types the filter does not apply to, first met in this chunk.
    pub notes: Vec<NotApplicable>,
    /// Per slot: whether the selection keeps the frame.
    keep: Vec<bool>,
    /// Frames read into the chunk, before the selection.
    read: usize,
    dones: Vec<Done>,
}

impl Chunk {
    pub fn clear(&mut self) {
        self.slots.clear();
        self.arena.clear();
        self.finished.clear();
        self.notes.clear();
        self.read = 0;
    }

    /// Whether no frame was read into the chunk: the feed is dry. (The selection may
    /// leave a chunk of frames read with none to deliver.)
    pub fn is_dry(&self) -> bool {
        self.read == 0
    }

    /// Marks the frames filled so far as read.
    pub fn filled(&mut self) {
        self.read = self.slots.len();
    }

    pub fn is_full(&self) -> bool {
        self.slots.len() >= CHUNK_FRAMES || self.arena.len() >= CHUNK_BYTES
    }

    /// The frame of slot `i`.
    pub fn frame<'a>(&'a self, i: usize, maps: &'a Maps) -> Option<Frame<'a>> {
        let s = self.slots.get(i)?;
        Some(s.frame(data(s, &self.arena, maps)))
    }

    /// Applies the filters and the count, decodes every frame kept (and takes its
    /// fingerprints for the correlator when `fingerprint`) and runs the TCP analysis of
    /// the chunk; in parallel on the current rayon pool when `parallel`. Frames the
    /// selection leaves out are removed from the chunk before the TCP analysis; once
    /// the count is reached, `enough` is set.
    #[allow(clippy::too_many_arguments)]
    pub fn analyse(
        &mut self,
        decoder: &Decoder,
        tcp: &mut Shards,
        selector: &mut Selector,
        enough: &AtomicBool,
        maps: &Maps,
        fingerprint: bool,
        parallel: bool,
    ) {
        let Chunk { slots, arena, packets, shards: routes, segments, keys, finished, notes, keep, dones, read: _ } = self;
        if selector.filters() {
            selector.prepare(slots.iter().map(|s| (s.input, s.number, s.offset, s.link_type, s.big_endian)), notes);
        }
        let n = slots.len();
        if packets.len() < n {
            packets.resize_with(n, Packet::default);
        }
        keys.clear();
        keys.resize(n, None);
        keep.clear();
        keep.resize(n, true);
        let select = &*selector;
        let decode = |(((s, p), k), kept): (((&Slot, &mut Packet), &mut Option<Keys>), &mut bool)| {
            let bytes = data(s, arena, maps);
            let seen = bytes.get(..s.filter_snaplen as usize).unwrap_or(bytes);
            if !select.outer_keeps(s.link_type, s.big_endian, seen, s.len) {
                *kept = false;
                return;
            }
            decoder.decode_into(s.link_type, bytes, p);
            if !select.inner_keeps(p, bytes, s.len) {
                *kept = false;
                return;
            }
            if fingerprint {
                *k = fingerprints(p, bytes);
            }
        };
        if parallel {
            slots.par_iter().zip(packets.par_iter_mut()).zip(keys.par_iter_mut()).zip(keep.par_iter_mut()).for_each(decode);
        } else {
            slots.iter().zip(packets.iter_mut()).zip(keys.iter_mut()).zip(keep.iter_mut()).for_each(decode);
        }
        // The frames kept move to the front, in order, up to the count.
        let passed = keep.iter().filter(|&&k| k).count();
        let take = selector.take(passed, enough);
        if take < n {
            let kept = keep.iter().enumerate().filter(|(_, &k)| k).map(|(i, _)| i).take(take);
            for (to, from) in kept.enumerate() {
                slots.swap(to, from);
                packets.swap(to, from);
                keys.swap(to, from);
            }
            slots.truncate(take);
            keys.truncate(take);
        }
        let n = slots.len();
        // Map the pages the next chunks will be read from, here on the pool, not on the
        // thread that reads the records.
        #[cfg(target_os = "linux")]
        {
            let mut ends: Vec<(u32, u64)> = Vec::new();
            for s in slots.iter().filter(|s| s.arena.is_none()) {
                let end = s.data_offset.saturating_add(u64::from(s.caplen));
                match ends.iter_mut().find(|(i, _)| *i == s.input) {
                    Some(e) => e.1 = e.1.max(end),
                    None => ends.push((s.input, end)),
                }
            }
            for (input, end) in ends {
                if let Some(Some(map)) = maps.get(input as usize) {
                    map.prefetch(usize::try_from(end).unwrap_or(usize::MAX), 3 * CHUNK_BYTES);
                }
            }
        }
        routes.clear();
        let mut jobs: Vec<Vec<Job<'_>>> = (0..SHARDS).map(|_| Vec::new()).collect();
        for (i, (s, packet)) in slots.iter().zip(packets.iter()).enumerate() {
            let route = shards::route(packet, s.point);
            routes.push(route.map(|r| r.0));
            let Some((r, view)) = route else { continue };
            let point_newest = if Analyzer::analyses(&view, packet) {
                tcp.saw(s.point, s.ts_ns)
            } else {
                tcp.newest.get(s.point as usize).copied().unwrap_or(i64::MIN)
            };
            let Some(list) = jobs.get_mut(usize::from(r)) else { continue };
            list.push(Job { slot: i, point: s.point, point_newest, frame: s.frame(data(s, arena, maps)), packet, view });
        }
        // Capture time moves on with the analysed segments, as in one analyzer.
        let chunk_end = jobs.iter().flatten().map(|j| j.point_newest).max().unwrap_or(i64::MIN);
        dones.resize_with(SHARDS, Done::default);
        let run = |((a, j), d): ((&mut Analyzer, &Vec<Job<'_>>), &mut Done)| Shards::run(a, j, chunk_end, d);
        if parallel {
            tcp.analyzers.par_iter_mut().zip(jobs.par_iter()).zip(dones.par_iter_mut()).for_each(run);
        } else {
            tcp.analyzers.iter_mut().zip(jobs.iter()).zip(dones.iter_mut()).for_each(run);
        }
        segments.clear();
        segments.resize(n, None);
        finished.clear();
        for (shard, d) in dones.iter_mut().enumerate() {
            for &(slot, info) in &d.segments {
                if let Some(x) = segments.get_mut(slot) {
                    *x = info;
                }
            }
            finished.extend(d.finished.drain(..).map(|(slot, f)| (slot, shard as u8, f)));
        }
        // By slot, then shard; a stable sort keeps each shard's own order.
        finished.sort_by_key(|(slot, shard, _)| (*slot, *shard));
    }
}

/// The bytes of a slot's frame.
fn data<'a>(s: &Slot, arena: &'a [u8], maps: &'a Maps) -> &'a [u8] {
    let len = s.caplen as usize;
    match s.arena {
        Some(start) => arena.get(start..start.saturating_add(len)).unwrap_or(&[]),
        None => {
            #[cfg(target_os = "linux")]
            {
                let Some(Some(map)) = maps.get(s.input as usize) else { return &[] };
                let start = usize::try_from(s.data_offset).unwrap_or(usize::MAX);
                map.bytes().get(start..start.saturating_add(len)).unwrap_or(&[])
            }
            #[cfg(not(target_os = "linux"))]
            {
                let _ = maps;
                &[]
            }
        }
    }
}

//! The TCP analysis of the engine, split over a fixed number of shards by connection so
//! that shards run in parallel.
//!
//! A frame goes to the shard of its connection's (point, protocol, endpoints) — not its
//! encapsulation path, so that the two directions of a connection that travel
//! different paths meet in one shard ([`crate::flow::table::FlowTable::pair`]). Each
//! shard is an [`Analyzer`] that sees its frames in capture order; its flow ids are its
//! own, and the engine renumbers them in the order of each flow's first frame across
//! all shards, which gives the ids a single analyzer gives. The number of shards is
//! fixed ([`SHARDS`]), never the number of threads: results do not depend on how many
//! threads run them.
//!
//! What sharding changes against one [`Analyzer`] over all frames, and only there:
//! - the flow table's limit applies per shard (`max_flows / SHARDS`, rounded up), so
//!   which flows are evicted when the table is full differs;
//! - idle flows are swept when their shard sees a frame and at the end of each chunk
//!   of frames, so a flow idle for just over the timeout may be split at another point.

use std::hash::{Hash, Hasher};

use rayon::prelude::*;
use rustc_hash::FxHasher;

use crate::capture::Frame;
use crate::decode::Packet;
use crate::flow::table::{FlowLimits, TableStats};
use crate::flow::FlowView;

use super::{Analyzer, FlowRecord, SegmentInfo, TcpAnalysisOptions};

/// Shards of the TCP analysis.
pub(crate) const SHARDS: usize = 16;

/// The shard of a frame's TCP segment and the frame's flow view; `None` without a TCP
/// header.
pub(crate) fn route(packet: &Packet, point: u32) -> Option<(u8, FlowView)> {
    let v = FlowView::of(packet).filter(|v| v.proto == 6)?;
    let (key, _) = v.key(point);
    let mut h = FxHasher::default();
    (key.point, key.proto, key.a, key.b).hash(&mut h);
    // The high bits: FxHash mixes them best.
    Some(((h.finish() >> 56) as u8 % SHARDS as u8, v))
}

/// One frame of a shard's work.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Job<'a> {
    /// Its index in the chunk.
    pub slot: usize,
    pub point: u32,
    /// The newest timestamp of an analysed segment at its point up to and including
    /// this frame, across all shards (what one analyzer takes for the capture's end).
    pub point_newest: i64,
    pub frame: Frame<'a>,
    pub packet: &'a Packet,
    /// The frame's flow view ([`route`] took it).
    pub view: FlowView,
}

/// What a shard says about a chunk.
#[derive(Debug, Default)]
pub(crate) struct Done {
    /// Per job: its slot and what the analysis says.
    pub segments: Vec<(usize, Option<SegmentInfo>)>,
    /// Flows that ended, with the slot of the frame that ended them (`usize::MAX`: at
    /// the chunk's end).
    pub finished: Vec<(usize, FlowRecord)>,
}

/// The shards.
#[derive(Debug)]
pub(crate) struct Shards {
    pub analyzers: Vec<Analyzer>,
    /// Per point: the newest timestamp of an analysed segment so far.
    pub newest: Vec<i64>,
}

impl Shards {
    pub fn new(opts: TcpAnalysisOptions) -> Self {
        let per = FlowLimits { max_flows: opts.limits.max_flows.div_ceil(SHARDS).max(1), ..opts.limits };
        Shards { analyzers: (0..SHARDS).map(|_| Analyzer::new(TcpAnalysisOptions { limits: per })).collect(), newest: Vec::new() }
    }

    /// Runs one shard's jobs, in order, then moves its capture time to `chunk_end`.
    pub fn run(analyzer: &mut Analyzer, jobs: &[Job<'_>], chunk_end: i64, done: &mut Done) {
        done.segments.clear();
        done.finished.clear();
        for job in jobs {
            analyzer.saw_point_until(job.point, job.point_newest);
            let info = analyzer.segment_of(job.point, &job.frame, job.packet, job.view);
            done.segments.push((job.slot, info));
            done.finished.extend(analyzer.take_finished().into_iter().map(|f| (job.slot, f)));
        }
        if chunk_end > i64::MIN {
            analyzer.advance(chunk_end);
        }
        done.finished.extend(analyzer.take_finished().into_iter().map(|f| (usize::MAX, f)));
    }

    /// The newest time of an analysed segment at `point`, after one at `ts_ns`.
    pub fn saw(&mut self, point: u32, ts_ns: i64) -> i64 {
        let p = point as usize;
        if p >= super::MAX_TRACKED_POINTS {
            return ts_ns;
        }
        if self.newest.len() <= p {
            self.newest.resize(p + 1, i64::MIN);
        }
        self.newest[p] = self.newest[p].max(ts_ns);
        self.newest[p]
    }

    /// The end of the input: every live flow, per shard (oldest first), each shard told
    /// the newest time of every point; in parallel on the current rayon pool when
    /// `parallel`.
    pub fn finish(&mut self, parallel: bool) -> Vec<Vec<FlowRecord>> {
        let newest = std::mem::take(&mut self.newest);
        let one = |a: &mut Analyzer| {
            for (p, &ts) in newest.iter().enumerate() {
                a.saw_point_until(u32::try_from(p).unwrap_or(u32::MAX), ts);
            }
            a.finish()
        };
        if parallel {
            self.analyzers.par_iter_mut().map(one).collect()
        } else {
            self.analyzers.iter_mut().map(one).collect()
        }
    }

    /// The tables' counts, summed; `peak` is the caller's.
    pub fn table_stats(&self) -> TableStats {
        let mut t = TableStats::default();
        for a in &self.analyzers {
            let s = a.table_stats();
            t.created += s.created;
            t.expired += s.expired;
            t.evicted += s.evicted;
            t.replaced += s.replaced;
        }
        t
    }
}

//! Clock offsets between the points of a run, estimated from the first frames of every
//! input before the time-ordered merge.

use rayon::prelude::*;

use crate::capture::{LinkType, PointId};
use crate::correlate::clock::ClockEstimator;
use crate::correlate::packet_key;
use crate::decode::{Decoder, Packet};

use super::inputs::Input;
use super::points::Registry;

/// Frames read for the estimate, shared among the inputs (the first of each): captures
/// taken together overlap at their start.
pub(crate) const ESTIMATE_FRAMES: usize = 1 << 18;

/// An estimate smaller than this (or than its uncertainty) is taken for a shared clock.
pub(crate) const MIN_OFFSET_NS: i64 = 100_000;

/// Frames decoded at once (in parallel on the pool).
const BATCH: usize = 4096;

/// One frame read for the estimate: its point, time, link type and bytes in the batch.
struct Read {
    point: PointId,
    ts_ns: i64,
    link_type: LinkType,
    start: usize,
    len: usize,
}

/// Reads the start of every input, collects the fingerprints' first sightings per
/// point, and sets the offset of every point without a given one against point 0.
/// Points are registered in the order met here, before the merge registers the rest.
/// The frames are decoded in batches on `pool` (if any); they are added to the
/// estimate in order, so the result does not depend on the threads.
pub(crate) fn estimate_offsets(inputs: &mut [Input], decoder: &Decoder, reg: &mut Registry, pool: Option<&rayon::ThreadPool>) {
    let mut est = ClockEstimator::default();
    let budget = (ESTIMATE_FRAMES / inputs.len().max(1)).max(1);
    let (mut batch, mut bytes) = (Vec::with_capacity(BATCH), Vec::new());
    for (i, input) in inputs.iter_mut().enumerate() {
        // An input that cannot be opened is reported by the merge.
        let Ok(mut reader) = input.open() else { continue };
        let mut read = 0usize;
        let mut more = true;
        while more {
            batch.clear();
            bytes.clear();
            while batch.len() < BATCH {
                if !matches!(reader.advance(), Ok(true)) {
                    more = false;
                    break;
                }
                read += 1;
                if est.is_full() || read > budget {
                    more = false;
                    break;
                }
                let Some(frame) = reader.current() else { break };
                batch.push(Read { point: frame.point, ts_ns: frame.ts_ns, link_type: frame.link_type, start: bytes.len(), len: frame.data.len() });
                bytes.extend_from_slice(frame.data);
            }
            let key = |packet: &mut Packet, r: &Read| {
                let data = bytes.get(r.start..r.start + r.len).unwrap_or(&[]);
                decoder.decode_into(r.link_type, data, packet);
                packet_key(packet, data)
            };
            let keys: Vec<_> = match pool {
                Some(p) => p.install(|| batch.par_iter().map_init(Packet::default, key).collect()),
                None => {
                    let mut packet = Packet::default();
                    batch.iter().map(|r| key(&mut packet, r)).collect()
                }
            };
            for (r, k) in batch.iter().zip(keys) {
                let Some(p) = reg.point_of(i, &reader, r.point) else { continue };
                if let Some((fp, src, dst)) = k {
                    let ts = r.ts_ns.saturating_add(reg.offsets[p]);
                    est.add(u32::try_from(p).unwrap_or(u32::MAX), fp, src, dst, ts);
                }
            }
        }
    }
    for (p, e) in est.solve(reg.points.len()).into_iter().enumerate() {
        let Some(e) = e else { continue };
        if reg.given(p) || p == 0 {
            continue;
        }
        reg.points[p].clock_estimate = Some(e);
        if e.offset_ns.abs() > e.uncertainty_ns.max(MIN_OFFSET_NS) {
            reg.offsets[p] = e.offset_ns.saturating_neg();
            reg.points[p].clock_offset_ns = e.offset_ns.saturating_neg();
        }
    }
}

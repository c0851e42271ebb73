//! Clock offsets between the points of a run, estimated from the first frames of every
//! input before the time-ordered merge.

use crate::capture::PointId;
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

/// Reads the start of every input, collects the fingerprints' first sightings per
/// point, and sets the offset of every point without a given one against point 0.
/// Points are registered in the order met here, before the merge registers the rest.
pub(crate) fn estimate_offsets(inputs: &mut [Input], decoder: &Decoder, reg: &mut Registry) {
    let mut est = ClockEstimator::default();
    let mut packet = Packet::default();
    let budget = (ESTIMATE_FRAMES / inputs.len().max(1)).max(1);
    for (i, input) in inputs.iter_mut().enumerate() {
        // An input that cannot be opened is reported by the merge.
        let Ok(mut reader) = input.open() else { continue };
        let mut read = 0usize;
        while let Ok(true) = reader.advance() {
            read += 1;
            if est.is_full() || read > budget {
                break;
            }
            let Some(frame) = reader.current() else { break };
            decoder.decode_into(frame.link_type, frame.data, &mut packet);
            let key = packet_key(&packet, frame.data);
            let (pid, ts): (PointId, i64) = (frame.point, frame.ts_ns);
            let Some(p) = reg.point_of(i, reader.points(), pid) else { continue };
            if let Some((fp, src, dst)) = key {
                let ts = ts.saturating_add(reg.offsets[p]);
                est.add(u32::try_from(p).unwrap_or(u32::MAX), fp, src, dst, ts);
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

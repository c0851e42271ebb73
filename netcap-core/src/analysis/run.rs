//! The run: inputs opened, frames read in the run's order, each decoded, analysed and
//! handed to the observer; the end of the run.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::capture::{CaptureError, CaptureReader, CaptureWarning, Frame, PointId};
use crate::correlate::{CorrelateOptions, Correlator};
use crate::decode::{Decoder, Packet};
use crate::tcp::{Analyzer, FlowRecord};

use super::estimate::estimate_offsets;
use super::inputs::Input;
use super::observer::{FrameEvent, Observer, Progress};
use super::points::Registry;
use super::{Analysis, AnalysisError, Order, Outcome};

/// Frames between two progress calls.
const PROGRESS_EVERY: u64 = 1 << 13;

/// The state of a run but its inputs.
struct Engine<'o, O: Observer + ?Sized> {
    observer: &'o mut O,
    decoder: Decoder,
    tcp: Analyzer,
    correlator: Option<Correlator>,
    /// Whether the correlator's per-packet paths go to the observer.
    stream_paths: bool,
    reg: Registry,
    packet: Packet,
    flows: Vec<FlowRecord>,
    keep_flows: bool,
    errors: Vec<CaptureError>,
    warnings: Vec<CaptureWarning>,
    frames: u64,
    /// Per input: the byte offset reached.
    at: Vec<u64>,
}

pub(super) fn run<O: Observer + ?Sized>(analysis: Analysis, observer: &mut O) -> Result<Outcome, AnalysisError<O::Error>> {
    let Analysis { mut inputs, renames, offsets, decode, tcp, correlate, order, keep_flows } = analysis;
    // Files only named by `point` are read after the inputs given, in the order named.
    for r in &renames {
        let path = std::path::Path::new(&r.file);
        if !inputs.iter().any(|i| i.is_path(path)) {
            inputs.push(Input::Path(path.to_path_buf()));
        }
    }
    let decoder = Decoder::new(decode);
    let mut reg = Registry::new(offsets, renames);
    let correlator = match order {
        Order::Time => {
            // Estimating reads the start of each input before the merge: only files can.
            if inputs.len() > 1 && inputs.iter().all(Input::rereadable) {
                estimate_offsets(&mut inputs, &decoder, &mut reg);
            }
            let stream_paths = observer.wants_paths();
            let opts = CorrelateOptions { list_packets: correlate.list_packets || stream_paths, ..correlate };
            Some((Correlator::new(opts, Vec::new()), stream_paths))
        }
        Order::Files => None,
    };
    let names: Vec<String> = inputs.iter().map(Input::name).collect();
    let mut engine = Engine {
        stream_paths: correlator.as_ref().is_some_and(|c| c.1),
        correlator: correlator.map(|c| c.0),
        observer,
        decoder,
        tcp: Analyzer::new(tcp),
        reg,
        packet: Packet::default(),
        flows: Vec::new(),
        keep_flows: keep_flows || order == Order::Time,
        errors: Vec::new(),
        warnings: Vec::new(),
        frames: 0,
        at: vec![0; inputs.len()],
    };
    match order {
        Order::Time => engine.merge(&mut inputs)?,
        Order::Files => engine.each_file(&mut inputs)?,
    }
    engine.finish(names)
}

impl<O: Observer + ?Sized> Engine<'_, O> {
    /// Every input at once, the next frame of each in a heap ordered by time.
    fn merge(&mut self, inputs: &mut [Input]) -> Result<(), AnalysisError<O::Error>> {
        let mut readers: Vec<Option<CaptureReader>> = Vec::with_capacity(inputs.len());
        for input in inputs.iter_mut() {
            match input.open() {
                Ok(r) => readers.push(Some(r)),
                Err(e) => {
                    self.error(e);
                    readers.push(None);
                }
            }
        }
        // Per input: the point of its current frame.
        let mut heads: Vec<usize> = vec![0; readers.len()];
        let mut heap: BinaryHeap<Reverse<(i64, usize, u64)>> = BinaryHeap::new();
        for i in 0..readers.len() {
            if let Some(key) = self.pull(&mut readers, &mut heads, i) {
                heap.push(Reverse(key));
            }
        }
        while let Some(Reverse((_, i, _))) = heap.pop() {
            let Some(frame) = readers.get(i).and_then(Option::as_ref).and_then(CaptureReader::current) else { continue };
            self.deliver(i, heads[i], frame)?;
            if let Some(key) = self.pull(&mut readers, &mut heads, i) {
                heap.push(Reverse(key));
            }
        }
        for reader in readers.iter_mut().flatten() {
            for w in reader.take_warnings() {
                self.warning(w);
            }
        }
        Ok(())
    }

    /// Advances input `i` to its next frame; its heap key (time after the point's
    /// offset, input, frame number), or `None` at its end (or error).
    fn pull(&mut self, readers: &mut [Option<CaptureReader>], heads: &mut [usize], i: usize) -> Option<(i64, usize, u64)> {
        let reader = readers.get_mut(i)?.as_mut()?;
        match reader.advance() {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                self.error(e);
                return None;
            }
        }
        let frame = reader.current()?;
        let point = self.reg.point_of(i, reader.points(), frame.point)?;
        heads[i] = point;
        Some((frame.ts_ns.saturating_add(self.reg.offsets[point]), i, frame.number))
    }

    /// Each input to its end, in order; every point of a file up to a frame's is
    /// registered in the file's order when the frame comes.
    fn each_file(&mut self, inputs: &mut [Input]) -> Result<(), AnalysisError<O::Error>> {
        for (i, input) in inputs.iter_mut().enumerate() {
            let mut reader = match input.open() {
                Ok(r) => r,
                Err(e) => {
                    self.error(e);
                    continue;
                }
            };
            loop {
                match reader.advance() {
                    Ok(true) => {}
                    Ok(false) => break,
                    Err(e) => {
                        self.error(e);
                        break;
                    }
                }
                let Some(frame) = reader.current() else { break };
                let mut point = None;
                for k in 0..=frame.point.0 {
                    point = self.reg.point_of(i, reader.points(), PointId(k));
                }
                let Some(point) = point else { continue };
                self.deliver(i, point, frame)?;
            }
            for w in reader.take_warnings() {
                self.warning(w);
            }
        }
        Ok(())
    }

    fn error(&mut self, e: CaptureError) {
        self.observer.error(&e);
        self.errors.push(e);
    }

    fn warning(&mut self, w: CaptureWarning) {
        self.observer.warning(&w);
        self.warnings.push(w);
    }

    /// One frame of input `input`, point `point`: decoded, through the TCP analysis and
    /// the correlator, to the observer.
    fn deliver(&mut self, input: usize, point: usize, mut frame: Frame<'_>) -> Result<(), AnalysisError<O::Error>> {
        self.decoder.decode_into(frame.link_type, frame.data, &mut self.packet);
        frame.ts_ns = frame.ts_ns.saturating_add(self.reg.offsets[point]);
        if let Some(p) = self.reg.points.get_mut(point) {
            p.frames += 1;
        }
        self.frames += 1;
        if let Some(a) = self.at.get_mut(input) {
            *a = frame.offset;
        }
        let point_u32 = u32::try_from(point).unwrap_or(u32::MAX);
        let segment = self.tcp.segment(point_u32, &frame, &self.packet);
        let finished = self.tcp.take_finished();
        if !finished.is_empty() {
            self.flows_ended(finished)?;
        }
        if let Some(c) = self.correlator.as_mut() {
            c.add(point_u32, &frame, &self.packet);
        }
        let points = &self.reg.points;
        if let Some(point_info) = points.get(point) {
            let event = FrameEvent { points, point, point_info, frame, packet: &self.packet, segment: segment.as_ref() };
            self.observer.frame(&event).map_err(AnalysisError::Observer)?;
            if let Some(s) = &segment {
                self.observer.segment(&event, s).map_err(AnalysisError::Observer)?;
            }
        }
        if self.stream_paths {
            if let Some(c) = self.correlator.as_mut() {
                let paths = c.take_packet_paths();
                if !paths.is_empty() {
                    self.observer.paths(&self.reg.points, &paths).map_err(AnalysisError::Observer)?;
                }
            }
        }
        if self.frames % PROGRESS_EVERY == 0 {
            self.observer.progress(&Progress { frames: self.frames, bytes: self.at.iter().sum() });
        }
        Ok(())
    }

    /// Flow records that ended: named, to the observer, kept.
    fn flows_ended(&mut self, mut flows: Vec<FlowRecord>) -> Result<(), AnalysisError<O::Error>> {
        for f in &mut flows {
            f.point = self.reg.points.get(f.point_index as usize).map(|p| p.name.clone()).unwrap_or_default();
            self.observer.flow(&self.reg.points, f).map_err(AnalysisError::Observer)?;
        }
        if self.keep_flows {
            self.flows.append(&mut flows);
        }
        Ok(())
    }

    /// The end of the input: live flows finished, the correlator's last packets and
    /// report.
    fn finish(mut self, inputs: Vec<String>) -> Result<Outcome, AnalysisError<O::Error>> {
        let rest = self.tcp.finish();
        self.flows_ended(rest)?;
        let names = self.reg.names();
        let report = match self.correlator.take() {
            Some(mut c) => {
                if self.stream_paths {
                    c.flush();
                    let paths = c.take_packet_paths();
                    self.observer.paths(&self.reg.points, &paths).map_err(AnalysisError::Observer)?;
                }
                Some(c.finish(&names, &self.flows))
            }
            None => None,
        };
        self.flows.sort_by_key(|f| f.id);
        Ok(Outcome {
            points: self.reg.points,
            report,
            flows: self.flows,
            table: self.tcp.table_stats(),
            karn: self.tcp.karn_samples().clone(),
            inputs,
            errors: self.errors,
            warnings: self.warnings,
            frames: self.frames,
        })
    }
}

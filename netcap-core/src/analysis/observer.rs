//! What the engine tells a caller while it runs: [`Observer`] and its events.

use std::convert::Infallible;

use crate::capture::{CaptureError, CaptureWarning, Frame};
use crate::correlate::PacketPath;
use crate::decode::Packet;
use crate::tcp::{FlowRecord, SegmentInfo};

use super::PointInfo;

/// One frame as the engine hands it over: decoded, its checksums judged, its TCP
/// segment analysed, in the run's order ([`super::Order`]).
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct FrameEvent<'a> {
    /// Every capture point registered so far, in point-number order.
    pub points: &'a [PointInfo],
    /// The number of the frame's point: its index in `points`.
    pub point: usize,
    /// The frame's point (`points[point]`).
    pub point_info: &'a PointInfo,
    /// The frame as read; `frame.point` is the run's point number (`point`). In a
    /// time-ordered run `ts_ns` has the point's clock offset added
    /// ([`PointInfo::clock_offset_ns`]): every time is on the first point's clock.
    pub frame: Frame<'a>,
    /// Every layer, every checksum verdict, whether a Linux receiver accepts it.
    pub packet: &'a Packet,
    /// What the TCP analysis says about the frame's innermost TCP segment (`None`
    /// without one).
    pub segment: Option<&'a SegmentInfo>,
    /// The index of the frame's input ([`super::Outcome::inputs`]).
    pub input: usize,
    /// Where the frame's bytes start in its input (decompressed):
    /// [`crate::capture::CaptureReader::data_offset`].
    pub data_offset: u64,
    /// Whether the input is a regular, uncompressed file: its `frame.caplen` bytes at
    /// `data_offset` of the file [`PointInfo::file`] are the frame's, to read again
    /// after the run (evidence cut from the original capture).
    pub seekable: bool,
}

/// How far the run has come ([`Observer::progress`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Progress {
    /// Frames read so far, every input together.
    pub frames: u64,
    /// Bytes of the inputs read so far (offsets in the decompressed stream for compressed files).
    pub bytes: u64,
}

/// Sees a run of the engine ([`super::Analysis::run`]): every method has a default that
/// does nothing, so an observer implements what it needs.
///
/// Calls come in the run's order: for each frame `frame`, then `segment` when it holds
/// a TCP segment; `flow` as TCP flows end; `paths` as the correlator accounts its
/// batches of packets (only when [`Observer::wants_paths`]). An `Err` from any of them
/// stops the run, which returns it as [`super::AnalysisError::Observer`].
///
/// # Examples
/// Count the frames whose IPv4 header has the Don't Fragment bit set, something
/// netcap does not report:
/// ```
/// use std::convert::Infallible;
/// use netcap_core::analysis::{Analysis, FrameEvent, Observer};
/// use netcap_core::decode::LayerKind;
///
/// #[derive(Default)]
/// struct DontFragment(u64);
///
/// impl Observer for DontFragment {
///     type Error = Infallible;
///     fn frame(&mut self, event: &FrameEvent<'_>) -> Result<(), Infallible> {
///         let df = event.packet.layers.iter().any(|l| matches!(l.kind, LayerKind::Ipv4 { dont_fragment: true, .. }));
///         self.0 += u64::from(df);
///         Ok(())
///     }
/// }
///
/// let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/lab/flannel/");
/// let mut count = DontFragment::default();
/// Analysis::new().file(format!("{root}client_pod.pcap")).run(&mut count)?;
/// assert_eq!(count.0, 12);
/// # Ok::<(), netcap_core::analysis::AnalysisError<Infallible>>(())
/// ```
pub trait Observer {
    /// What the observer's methods fail with; [`Infallible`] when they cannot.
    type Error;

    /// A frame ([`FrameEvent`]).
    fn frame(&mut self, event: &FrameEvent<'_>) -> Result<(), Self::Error> {
        let _ = event;
        Ok(())
    }

    /// A frame that holds a TCP segment, right after [`Observer::frame`].
    fn segment(&mut self, event: &FrameEvent<'_>, segment: &SegmentInfo) -> Result<(), Self::Error> {
        let _ = (event, segment);
        Ok(())
    }

    /// A TCP flow ended (idle, evicted, replaced, or the end of the input); its point
    /// name is filled in. Also kept in [`super::Outcome::flows`] unless
    /// [`super::Analysis::keep_flows`] is off.
    fn flow(&mut self, points: &[PointInfo], flow: &FlowRecord) -> Result<(), Self::Error> {
        let _ = (points, flow);
        Ok(())
    }

    /// Whether this observer takes the correlator's per-packet paths as they are made
    /// ([`Observer::paths`]) rather than leaving them out (or, with
    /// [`crate::correlate::CorrelateOptions::list_packets`], in the report).
    fn wants_paths(&self) -> bool {
        false
    }

    /// Packets the correlator accounted since the last call, each with its path, point
    /// by point (a time-ordered run with [`Observer::wants_paths`]).
    fn paths(&mut self, points: &[PointInfo], paths: &[PacketPath]) -> Result<(), Self::Error> {
        let _ = (points, paths);
        Ok(())
    }

    /// An input could not be opened, or stopped at a corrupt record (the frames before
    /// it were delivered). The run goes on with the other inputs.
    fn error(&mut self, error: &CaptureError) {
        let _ = error;
    }

    /// Something about an input deserved a note (a file cut short, bad interface
    /// options) without stopping it.
    fn warning(&mut self, warning: &CaptureWarning) {
        let _ = warning;
    }

    /// Called every few thousand frames.
    fn progress(&mut self, progress: &Progress) {
        let _ = progress;
    }
}

impl Observer for () {
    type Error = Infallible;
}

impl<O: Observer + ?Sized> Observer for &mut O {
    type Error = O::Error;

    fn frame(&mut self, event: &FrameEvent<'_>) -> Result<(), Self::Error> {
        (**self).frame(event)
    }

    fn segment(&mut self, event: &FrameEvent<'_>, segment: &SegmentInfo) -> Result<(), Self::Error> {
        (**self).segment(event, segment)
    }

    fn flow(&mut self, points: &[PointInfo], flow: &FlowRecord) -> Result<(), Self::Error> {
        (**self).flow(points, flow)
    }

    fn wants_paths(&self) -> bool {
        (**self).wants_paths()
    }

    fn paths(&mut self, points: &[PointInfo], paths: &[PacketPath]) -> Result<(), Self::Error> {
        (**self).paths(points, paths)
    }

    fn error(&mut self, error: &CaptureError) {
        (**self).error(error);
    }

    fn warning(&mut self, warning: &CaptureWarning) {
        (**self).warning(warning);
    }

    fn progress(&mut self, progress: &Progress) {
        (**self).progress(progress);
    }
}

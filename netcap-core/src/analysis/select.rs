//! The run's [`Selection`] at work: the time window on the calling thread as frames
//! are read ([`Window`]), the filters and the count on each chunk before its TCP
//! analysis ([`Selector`]).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::capture::LinkType;
use crate::filter::{self, Filter, Program, Selection, TimeBound};

/// `--from` / `--to`: applied as frames are read, in the run's order.
#[derive(Debug, Default)]
pub(crate) struct Window {
    from: Option<TimeBound>,
    to: Option<TimeBound>,
    /// The first frame's time (of the run, or of the input being read in file order).
    first: Option<i64>,
}

impl Window {
    pub fn new(selection: &Selection) -> Self {
        Window { from: selection.from, to: selection.to, first: None }
    }

    /// A new input starts (file order): relative bounds count from its first frame.
    pub fn restart(&mut self) {
        self.first = None;
    }

    /// Whether a frame at `ts_ns` is inside the window.
    pub fn admits(&mut self, ts_ns: i64) -> bool {
        let first = *self.first.get_or_insert(ts_ns);
        self.from.is_none_or(|b| ts_ns >= b.resolve(first)) && self.to.is_none_or(|b| ts_ns < b.resolve(first))
    }
}

/// A filter's programs for the link types met so far, and the link types it does not
/// apply to.
#[derive(Debug)]
struct Compiled {
    filter: Filter,
    /// By (link type, big-endian file).
    programs: Vec<((LinkType, bool), Option<Program>)>,
}

impl Compiled {
    fn new(filter: Filter) -> Self {
        Compiled { filter, programs: Vec::new() }
    }

    /// The program for `lt`; on the first frame of a link type the expression does not
    /// apply to, libpcap's message.
    fn prepare(&mut self, key: (LinkType, bool)) -> Option<String> {
        if self.programs.iter().any(|(k, _)| *k == key) {
            return None;
        }
        let (program, message) = match self.filter.compiled(key.0, key.1) {
            Ok(p) => (Some(p), None),
            Err(m) => (None, Some(m)),
        };
        self.programs.push((key, program));
        message
    }

    fn matches(&self, key: (LinkType, bool), data: &[u8], wirelen: u32) -> bool {
        self.programs.iter().find(|(k, _)| *k == key).and_then(|(_, p)| p.as_ref()).is_some_and(|p| p.matches(data, wirelen))
    }
}

/// A link type an expression does not apply to, met at this frame.
#[derive(Debug, Clone)]
pub(crate) struct NotApplicable {
    /// The input, number and record offset of the first such frame.
    pub input: u32,
    pub number: u64,
    pub offset: u64,
    pub expr: String,
    pub link_type: LinkType,
    pub message: String,
}

/// The filters and the count, applied chunk by chunk in the run's order.
#[derive(Debug)]
pub(crate) struct Selector {
    outer: Option<Compiled>,
    inner: Option<Compiled>,
    count: Option<u64>,
    kept: u64,
}

impl Selector {
    pub fn new(selection: &Selection) -> Self {
        let mut inner = selection.inner.clone().map(Compiled::new);
        if let Some(c) = inner.as_mut() {
            // The innermost packet is Ethernet or raw IP.
            c.prepare((LinkType::ETHERNET, false));
            c.prepare((LinkType(101), false));
        }
        Selector { outer: selection.filter.clone().map(Compiled::new), inner, count: selection.count, kept: 0 }
    }

    /// Whether frames are filtered (so decoding waits for the outer filter).
    pub fn filters(&self) -> bool {
        self.outer.is_some() || self.inner.is_some()
    }

    /// Compiles the outer filter for the link types of a chunk's frames `(input,
    /// number, offset, link type, big-endian file)`; adds to `notes` the first frame
    /// of each link type it does not apply to.
    pub fn prepare(&mut self, frames: impl Iterator<Item = (u32, u64, u64, LinkType, bool)>, notes: &mut Vec<NotApplicable>) {
        let Some(outer) = self.outer.as_mut() else { return };
        for (input, number, offset, link_type, big_endian) in frames {
            if let Some(message) = outer.prepare((link_type, big_endian)) {
                notes.push(NotApplicable { input, number, offset, expr: outer.filter.expression().to_string(), link_type, message });
            }
        }
    }

    /// Whether the outer filter keeps a frame.
    pub fn outer_keeps(&self, lt: LinkType, big_endian: bool, data: &[u8], wirelen: u32) -> bool {
        self.outer.as_ref().is_none_or(|c| c.matches((lt, big_endian), data, wirelen))
    }

    /// Whether the inner filter keeps a decoded frame.
    pub fn inner_keeps(&self, packet: &crate::decode::Packet, data: &[u8], wirelen: u32) -> bool {
        let Some(inner) = self.inner.as_ref() else { return true };
        let Some((lt, start)) = filter::innermost(packet) else { return false };
        let Some(bytes) = data.get(start..) else { return false };
        let start = u32::try_from(start).unwrap_or(u32::MAX);
        inner.matches((lt, false), bytes, wirelen.saturating_sub(start))
    }

    /// The count: how many of `passed` frames (that passed the filters, in order) are
    /// kept; sets `enough` once the count is reached.
    pub fn take(&mut self, passed: usize, enough: &AtomicBool) -> usize {
        let Some(count) = self.count else { return passed };
        let room = usize::try_from(count.saturating_sub(self.kept)).unwrap_or(usize::MAX);
        let take = passed.min(room);
        self.kept += take as u64;
        if self.kept >= count {
            enough.store(true, Ordering::Relaxed);
        }
        take
    }
}

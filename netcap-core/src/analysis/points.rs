//! The run's capture points: numbered in order of first appearance across the inputs,
//! named (the reader's name, or the one given with [`super::Analysis::point`]), each
//! with its clock offset.

use std::collections::HashMap;

use serde::Serialize;

use crate::capture::{CapturePoint, LinkType, PointId};
use crate::correlate::clock::Estimate;

/// One capture point of a run.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct PointInfo {
    /// The reader's name ([`CapturePoint::name`]) or the one given with
    /// [`super::Analysis::point`].
    pub name: String,
    /// The input it was read from, as given.
    pub file: String,
    /// The pcapng `if_name`, if any.
    pub interface: Option<String>,
    /// The link type of the point's frames.
    pub link_type: LinkType,
    /// Frames of this point the run delivered.
    pub frames: u64,
    /// Added to the point's timestamps: given with [`super::Analysis::clock_offset`], or
    /// the estimate when it exceeds both its uncertainty and 100 µs.
    pub clock_offset_ns: i64,
    /// The estimate of this point's clock against the first point's (`None` for the
    /// first point, a given offset, or no packets matched in both directions).
    pub clock_estimate: Option<Estimate>,
    /// The input's index among the run's inputs ([`super::Outcome::inputs`]).
    #[serde(skip)]
    pub input: usize,
    /// The point as the capture reader describes it (section, interface number,
    /// LINUX_SLL2 ifindex, snap length, timestamp resolution).
    #[serde(skip)]
    pub capture: CapturePoint,
}

/// A name given to a point: `(name, file, interface)`; without an interface, the
/// file's first point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rename {
    pub name: String,
    pub file: String,
    pub interface: Option<String>,
}

/// Point numbers by (input, reader point), names, offsets.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub points: Vec<PointInfo>,
    /// Added to each point's timestamps (`points[p].clock_offset_ns`, kept apart for
    /// the per-frame lookup).
    pub offsets: Vec<i64>,
    ids: HashMap<(usize, u32), usize>,
    /// Offsets given by name.
    pub given: Vec<(String, i64)>,
    pub renames: Vec<Rename>,
}

impl Registry {
    /// No points yet; `given` offsets by point name, `renames` of points.
    pub fn new(given: Vec<(String, i64)>, renames: Vec<Rename>) -> Self {
        Registry { given, renames, ..Registry::default() }
    }

    /// The point number of reader point `id` of input `input`, registering it on first
    /// sight; `None` when the reader does not know the id.
    pub fn point_of(&mut self, input: usize, reader_points: &[CapturePoint], id: PointId) -> Option<usize> {
        if let Some(&p) = self.ids.get(&(input, id.0)) {
            return Some(p);
        }
        let pid = id.0 as usize;
        let p = reader_points.get(pid)?;
        // NAME=FILE#IFACE: IFACE is the interface name, the pcapng interface number or
        // the LINUX_SLL2 ifindex; without it the file's only (or first) point.
        let renamed = self.renames.iter().find(|r| {
            r.file == p.file
                && match &r.interface {
                    None => pid == 0,
                    Some(i) => {
                        p.interface.as_deref() == Some(i.as_str())
                            || p.idb.is_some_and(|n| n.to_string() == *i)
                            || p.ifindex.is_some_and(|n| n.to_string() == *i)
                    }
                }
        });
        let name = renamed.map_or_else(|| p.name.clone(), |r| r.name.clone());
        let offset = self.given.iter().find(|(n, _)| *n == name).map_or(0, |x| x.1);
        self.points.push(PointInfo {
            name,
            file: p.file.clone(),
            interface: p.interface.clone(),
            link_type: p.link_type,
            frames: 0,
            clock_offset_ns: offset,
            clock_estimate: None,
            input,
            capture: p.clone(),
        });
        self.offsets.push(offset);
        let number = self.points.len() - 1;
        self.ids.insert((input, id.0), number);
        Some(number)
    }

    /// Whether point `point`'s offset was given.
    pub fn given(&self, point: usize) -> bool {
        self.points.get(point).is_some_and(|p| self.given.iter().any(|(n, _)| *n == p.name))
    }

    /// The points' names by number.
    pub fn names(&self) -> Vec<String> {
        self.points.iter().map(|p| p.name.clone()).collect()
    }
}

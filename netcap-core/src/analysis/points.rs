//! The run's capture points: numbered in order of first appearance across the inputs,
//! named (the reader's name, or the one given with [`super::Analysis::point`]), each
//! with its clock offset.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use crate::capture::{CaptureMeta, CapturePoint, CaptureReader, LinkType, PointId};
use crate::correlate::clock::Estimate;

use super::run::Unit;

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
    /// A point read from several files ([`super::Analysis::series`]): each file, in the
    /// order read, with its frames of the run and their time span. Empty for a point of
    /// one file (and then absent from the JSON).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileSpan>,
    /// The node, for a point of a capture bundle ([`super::Analysis::bundle`]; absent
    /// from the JSON otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The pcapng `if_description` (absent from the JSON when none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The system the capture was written on: the pcapng `if_os`, else the section's
    /// `shb_os` (dumpcap writes the kernel's name and release there); absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    /// The application that wrote the capture (pcapng `shb_userappl`), if it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
}

/// One file of a point read from several ([`PointInfo::files`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FileSpan {
    /// The file, as given.
    pub file: String,
    /// Frames of the file the run delivered (every point of the file together).
    pub frames: u64,
    /// The first and last of those frames' capture times (ns since the epoch).
    pub first_ts_ns: Option<i64>,
    /// See `first_ts_ns`.
    pub last_ts_ns: Option<i64>,
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
    /// Per input: how many of its reader points are registered in reader order
    /// ([`Registry::point_in_order`]).
    in_order: Vec<u32>,
    /// Offsets given by name.
    pub given: Vec<(String, i64)>,
    pub renames: Vec<Rename>,
    /// Per input: a file of its own, or of a series.
    units: Vec<Unit>,
    /// The series: (the input of its first file, its name).
    series: Vec<(usize, String)>,
    /// Points of a series by (its first file's input, the interface's identity).
    series_ids: HashMap<(usize, String), usize>,
    /// The series (by their first file's input) that have a point already.
    series_started: HashSet<usize>,
    /// Per input, as named.
    names: Vec<String>,
    /// Captures of bundles: (path read, the name shown, the node).
    bundled: Vec<(String, String, String)>,
}

impl Registry {
    /// No points yet; `given` offsets by point name, `renames` of points.
    pub fn new(given: Vec<(String, i64)>, renames: Vec<Rename>) -> Self {
        Registry { given, renames, ..Registry::default() }
    }

    /// Which inputs are files of a series ([`Unit`]), the series' names, and every
    /// input's name.
    pub fn series(&mut self, units: Vec<Unit>, series: Vec<(usize, String)>, names: Vec<String>) {
        self.units = units;
        self.series = series;
        self.names = names;
    }

    /// Captures unpacked from bundles: (path read, name shown as the point's file, the
    /// node).
    pub fn bundled(&mut self, bundled: Vec<(String, String, String)>) {
        self.bundled = bundled;
    }

    /// Input `input`'s name, as given.
    pub fn input_name(&self, input: usize) -> String {
        self.names.get(input).cloned().unwrap_or_default()
    }

    /// The point number of reader point `id` of input `input`, registering it on first
    /// sight; `None` when the reader does not know the id.
    pub fn point_of(&mut self, input: usize, reader: &CaptureReader, id: PointId) -> Option<usize> {
        if let Some(&p) = self.ids.get(&(input, id.0)) {
            return Some(p);
        }
        let (reader_points, meta) = (reader.points(), reader.meta());
        let pid = id.0 as usize;
        let p = reader_points.get(pid)?;
        // A file of a series: the series' point of the same interface, in any file.
        let head = match self.units.get(input) {
            Some(Unit::Head(_)) => Some(input),
            Some(Unit::Member(h)) => Some(*h),
            _ => None,
        };
        if let Some(head) = head {
            let identity = match (&p.interface, p.ifindex, p.idb) {
                (Some(name), _, _) => name.clone(),
                (None, Some(ifindex), _) => format!("@{ifindex}"),
                (None, None, Some(idb)) => format!("#{idb}"),
                _ => String::new(),
            };
            if let Some(&number) = self.series_ids.get(&(head, identity.clone())) {
                self.ids.insert((input, id.0), number);
                return Some(number);
            }
            let series = self.series.iter().find(|(h, _)| *h == head).map_or_else(String::new, |(_, n)| n.clone());
            let first = self.series_started.insert(head);
            let name = if first || identity.is_empty() { series } else { format!("{series}#{}", identity.trim_start_matches(['#', '@'])) };
            let number = self.register(name, input, p, meta);
            self.series_ids.insert((head, identity), number);
            self.ids.insert((input, id.0), number);
            return Some(number);
        }
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
        let number = self.register(name, input, p, meta);
        self.ids.insert((input, id.0), number);
        Some(number)
    }

    /// [`Registry::point_of`], with every reader point of the input numbered below `id`
    /// registered first, so the run numbers them in the reader's order. Each reader
    /// point is registered once: the cost follows the points, not frames × points.
    pub fn point_in_order(&mut self, input: usize, reader: &CaptureReader, id: PointId) -> Option<usize> {
        if self.in_order.len() <= input {
            self.in_order.resize(input + 1, 0);
        }
        let from = self.in_order[input];
        for k in from..id.0 {
            self.point_of(input, reader, PointId(k));
        }
        self.in_order[input] = from.max(id.0.saturating_add(1));
        self.point_of(input, reader, id)
    }

    /// A new point, its offset given by name or 0.
    fn register(&mut self, name: String, input: usize, p: &CapturePoint, meta: &CaptureMeta) -> usize {
        let offset = self.given.iter().find(|(n, _)| *n == name).map_or(0, |x| x.1);
        let bundled = self.bundled.iter().find(|(path, _, _)| *path == p.file);
        // Both lists are in file order, so sorted by (section, interface).
        let iface = p.idb.and_then(|idb| {
            let at = meta.interfaces.binary_search_by_key(&(p.section, idb), |i| (i.section, i.idb)).ok()?;
            meta.interfaces.get(at)
        });
        let section = meta.sections.binary_search_by_key(&p.section, |s| s.section).ok().and_then(|at| meta.sections.get(at));
        self.points.push(PointInfo {
            name,
            file: bundled.map_or_else(|| p.file.clone(), |b| b.1.clone()),
            interface: p.interface.clone(),
            link_type: p.link_type,
            frames: 0,
            clock_offset_ns: offset,
            clock_estimate: None,
            input,
            capture: p.clone(),
            files: Vec::new(),
            host: bundled.map(|b| b.2.clone()),
            description: iface.and_then(|i| i.description.clone()),
            os: iface.and_then(|i| i.os.clone()).or_else(|| section.and_then(|s| s.os.clone())),
            application: section.and_then(|s| s.application.clone()),
        });
        self.offsets.push(offset);
        self.points.len() - 1
    }

    /// The inputs of the series whose first file is `input`, in the order read (just
    /// `input` for a file of its own).
    pub fn unit_inputs(&self, input: usize) -> Vec<usize> {
        match self.units.get(input) {
            Some(Unit::Head(_)) => std::iter::once(input)
                .chain(self.units.iter().enumerate().filter(|(_, u)| **u == Unit::Member(input)).map(|(i, _)| i))
                .collect(),
            Some(Unit::Member(h)) => self.unit_inputs(*h),
            _ => vec![input],
        }
    }

    /// Whether input `input` is a file of a series.
    pub fn in_series(&self, input: usize) -> bool {
        matches!(self.units.get(input), Some(Unit::Head(_) | Unit::Member(_)))
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

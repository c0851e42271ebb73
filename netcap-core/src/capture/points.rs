//! Capture points: naming and the table that assigns [`PointId`]s.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{CapturePoint, PointId, MAX_POINTS};

/// Extensions stripped (repeatedly, case-insensitively) from a file name to get its stem.
const CAPTURE_EXTENSIONS: [&str; 4] = [".gz", ".pcapng", ".pcap", ".cap"];

/// The file stem used in point names: the file name without directories and without the
/// extensions `.gz`, `.pcap`, `.pcapng`, `.cap` (`trace.pcap.gz` → `trace`);
/// `-` (standard input) → `stdin`.
pub fn file_stem(file: &str) -> String {
    if file == "-" {
        return "stdin".to_string();
    }
    let name = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| file.to_string());
    let mut stem = name.as_str();
    loop {
        let lower = stem.to_ascii_lowercase();
        let cut = CAPTURE_EXTENSIONS
            .iter()
            .find(|ext| lower.ends_with(*ext) && stem.len() > ext.len())
            .map(|ext| stem.len() - ext.len());
        match cut.and_then(|at| stem.get(..at)) {
            Some(shorter) => stem = shorter,
            None => break,
        }
    }
    stem.to_string()
}

/// The points of one file, with unique names.
#[derive(Debug, Default)]
pub(crate) struct PointTable {
    points: Vec<CapturePoint>,
    names: HashSet<String>,
    /// Next `~k` suffix to try per base name (keeps uniquifying linear).
    next_suffix: HashMap<String, u32>,
    /// LINUX_SLL2 points by (interface key, ifindex).
    sll2: HashMap<(u32, u32), PointId>,
}

impl PointTable {
    pub(crate) fn as_slice(&self) -> &[CapturePoint] {
        &self.points
    }

    pub(crate) fn len(&self) -> usize {
        self.points.len()
    }

    /// Adds a point, renaming it `name~2`, `name~3`, … if its name is taken.
    pub(crate) fn add(&mut self, mut point: CapturePoint) -> PointId {
        point.name = self.unique(std::mem::take(&mut point.name));
        let id = PointId(u32::try_from(self.points.len()).unwrap_or(u32::MAX));
        point.id = id;
        self.points.push(point);
        id
    }

    fn unique(&mut self, base: String) -> String {
        if self.names.insert(base.clone()) {
            return base;
        }
        let next = self.next_suffix.entry(base.clone()).or_insert(1);
        loop {
            *next += 1;
            let candidate = format!("{base}~{next}");
            if self.names.insert(candidate.clone()) {
                return candidate;
            }
        }
    }

    pub(crate) fn sll2(&self, key: u32, ifindex: u32) -> Option<PointId> {
        self.sll2.get(&(key, ifindex)).copied()
    }

    /// Adds the point of one LINUX_SLL2 ifindex, unless the table is at its cap.
    pub(crate) fn add_sll2(
        &mut self,
        key: u32,
        ifindex: u32,
        point: CapturePoint,
    ) -> Option<PointId> {
        if self.points.len() >= MAX_POINTS as usize {
            return None;
        }
        let id = self.add(point);
        self.sll2.insert((key, ifindex), id);
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::LinkType;

    #[test]
    fn stems() {
        assert_eq!(file_stem("/tmp/x/node-a.pcap"), "node-a");
        assert_eq!(file_stem("trace.pcap.gz"), "trace");
        assert_eq!(file_stem("trace.PCAPNG"), "trace");
        assert_eq!(file_stem("dump.cap"), "dump");
        assert_eq!(file_stem("a.b.pcap"), "a.b");
        assert_eq!(file_stem("noext"), "noext");
        assert_eq!(file_stem(".pcap"), ".pcap");
        assert_eq!(file_stem("x.gz.pcap"), "x");
        assert_eq!(file_stem("-"), "stdin");
        assert_eq!(file_stem("dir.pcap/file"), "file");
    }

    fn point(name: &str) -> CapturePoint {
        CapturePoint {
            id: PointId(0),
            name: name.to_string(),
            file: "f".to_string(),
            interface: None,
            idb: None,
            section: 0,
            ifindex: None,
            link_type: LinkType::ETHERNET,
            snaplen: 0,
            tsresol: "1e-6".to_string(),
        }
    }

    #[test]
    fn unique_names() {
        let mut t = PointTable::default();
        assert_eq!(t.add(point("eth0")), PointId(0));
        t.add(point("eth0"));
        t.add(point("eth0~2"));
        t.add(point("eth0"));
        let names: Vec<_> = t.as_slice().iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["eth0", "eth0~2", "eth0~2~2", "eth0~3"]);
        let ids: Vec<_> = t.as_slice().iter().map(|p| p.id.0).collect();
        assert_eq!(ids, [0, 1, 2, 3]);
    }
}

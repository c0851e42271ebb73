//! Capture points: naming and the table that assigns [`PointId`]s.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::{CapturePoint, PointId, MAX_POINTS};

/// Extensions stripped (repeatedly, case-insensitively) from a file name to get its stem.
pub(crate) const CAPTURE_EXTENSIONS: [&str; 6] = [".gz", ".zst", ".xz", ".pcapng", ".pcap", ".cap"];

/// The file stem used in point names: the file name without directories and without the
/// extensions `.gz`, `.zst`, `.xz`, `.pcap`, `.pcapng`, `.cap` (`trace.pcap.gz` → `trace`);
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

/// The name a pcapng `if_description` made of `key=value` pairs gives its point.
/// Inspektor Gadget's tcpdump gadget describes each interface it captured on as
/// `container=NAME` (Go's URL query escaping; further pairs `;`-separated, as the
/// `k8s.podName`, `k8s.ns` keys its Wireshark plugin reads): `NS/POD` when the pod is
/// named (`POD` without a namespace), else the container. `None` for any other text.
pub(crate) fn described_name(description: &str) -> Option<String> {
    let (mut container, mut pod, mut namespace) = (None, None, None);
    for pair in description.split(';').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=')?;
        let value = unescape(value)?;
        match key {
            "container" | "k8s.containerName" | "runtime.containerName" => container = container.or(Some(value)),
            "k8s.podName" => pod = Some(value),
            "k8s.ns" | "k8s.namespace" => namespace = Some(value),
            _ => {}
        }
    }
    let name = match (pod, namespace, container) {
        (Some(p), Some(n), _) if !n.is_empty() => format!("{n}/{p}"),
        (Some(p), ..) => p,
        (None, _, Some(c)) => c,
        _ => return None,
    };
    (!name.is_empty()).then_some(name)
}

/// Undoes URL query escaping (`%XX`, `+` for a space); `None` for a bad escape or
/// bytes that are not UTF-8.
fn unescape(s: &str) -> Option<String> {
    let mut out = Vec::with_capacity(s.len());
    let mut bytes = s.bytes();
    while let Some(b) = bytes.next() {
        out.push(match b {
            b'+' => b' ',
            b'%' => {
                let hex = [bytes.next()?, bytes.next()?];
                u8::from_str_radix(std::str::from_utf8(&hex).ok()?, 16).ok()?
            }
            b => b,
        });
    }
    String::from_utf8(out).ok()
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

    /// The table is at its cap: no point can be added.
    pub(crate) fn full(&self) -> bool {
        self.points.len() >= MAX_POINTS as usize
    }

    /// Adds the point of one LINUX_SLL2 ifindex, unless the table is at its cap.
    pub(crate) fn add_sll2(
        &mut self,
        key: u32,
        ifindex: u32,
        point: CapturePoint,
    ) -> Option<PointId> {
        if self.full() {
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
        assert_eq!(file_stem("node1.pcap.zst"), "node1");
        assert_eq!(file_stem("node1.pcapng.xz"), "node1");
    }

    #[test]
    fn descriptions_of_key_value_pairs_name_points() {
        // Inspektor Gadget's tcpdump gadget: `container=` + Go's url.QueryEscape.
        assert_eq!(described_name("container=web").as_deref(), Some("web"));
        assert_eq!(described_name("container=my+app%2Fv1").as_deref(), Some("my app/v1"));
        assert_eq!(described_name("k8s.ns=default;k8s.podName=client-7d9;k8s.containerName=curl").as_deref(), Some("default/client-7d9"));
        assert_eq!(described_name("k8s.podName=client;runtime.containerName=c").as_deref(), Some("client"));
        // Anything else keeps the interface's own name.
        assert_eq!(described_name("Intel(R) Ethernet"), None);
        assert_eq!(described_name("container=%zz"), None);
        assert_eq!(described_name("container="), None);
        assert_eq!(described_name("node=n1"), None);
        assert_eq!(described_name(""), None);
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

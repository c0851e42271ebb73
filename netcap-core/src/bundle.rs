//! Kubernetes capture bundles: what a cluster's capture tool leaves for one node, read
//! as an input ([`crate::analysis::Analysis::bundle`]).
//!
//! # Microsoft Retina
//! `kubectl retina capture create --name NAME …` leaves one tarball per node,
//! `NAME-HOSTNAME-YYYYmmddHHMMSSZONE.tar.gz`, holding (Retina's capture docs, "File and
//! directory structure inside the tarball", and its Linux capture provider):
//! - `NAME-HOSTNAME-TIME.pcap`: `tcpdump -i any` on the node (LINUX_SLL2, one capture
//!   point per interface index), or the interfaces asked for;
//! - `ip-resources.txt`: `ip -d -j addr show`, `ip -d -j neighbor show`, `ip rule list`,
//!   `ip route show table all`, each after a `Summary:` of the commands and under
//!   `Execute:`, the command line then its output;
//! - `iptables-rules.txt`, `socket-stats.txt` (the same layout), `tcpdump.log`;
//! - `proc-net/`: a copy of the node's `/proc/self/net` (`snmp`, `netstat`, `snmp6`, …);
//! - `proc-sys-net/`: a copy of `/proc/sys/net`.
//!
//! netcap reads the tarball (gzip, zstd or xz compressed, or not) or the directory it
//! was unpacked into. It names the node's points `HOST/IFNAME`: the host from the file
//! name (below), the interface name from `ip -d -j addr show` by the capture's LINUX_SLL2
//! interface index. From `proc-net/snmp` and `proc-net/netstat` it keeps the kernel's
//! counters (nstat's names: `UdpInCsumErrors`, `TcpExtTCPSynRetrans`, …), which findings
//! cite beside what the packets show. They are the node's own network namespace's,
//! counted since it was created and read when the capture ended: a pod's own TCP
//! counters are in the pod's namespace, not here.
//!
//! **Host names.** Retina's name is `NAME-HOSTNAME-TIME` and both NAME and HOSTNAME may
//! hold `-`. With several bundles of one capture, NAME is the longest `-`-ended prefix
//! their names share; with one, the name less its time is kept whole. `--point
//! NAME=BUNDLE` names it otherwise.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

/// The kinds of bundle netcap reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BundleKind {
    /// A Microsoft Retina capture tarball (or the directory it unpacks to).
    Retina,
}

/// What a bundle says about its node, beside the packets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct HostFacts {
    /// The node's host name ([module docs](self)).
    pub host: String,
    /// The bundle, as given.
    pub source: String,
    /// Kernel counters by nstat's name (`UdpInCsumErrors`), from `proc-net/snmp` and
    /// `proc-net/netstat`, in file order.
    pub counters: Vec<(String, u64)>,
    /// Interface index → name, from `ip -d -j addr show`.
    pub interfaces: Vec<(u32, String)>,
}

impl HostFacts {
    /// A counter by nstat's name.
    pub fn counter(&self, name: &str) -> Option<u64> {
        self.counters.iter().find(|(n, _)| n == name).map(|x| x.1)
    }
}

/// A bundle, opened: its capture files (unpacked to a temporary directory when it is
/// a tarball, removed when the last clone of the bundle is dropped) and its facts.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// What made it.
    pub kind: BundleKind,
    /// The capture files in it.
    pub captures: Vec<PathBuf>,
    /// The node's facts.
    pub facts: Arc<HostFacts>,
    /// The name the capture tool gave it, less its time (`NAME-HOSTNAME` for Retina).
    pub stem: String,
    _unpacked: Option<Arc<tempfile::TempDir>>,
}

/// Why a bundle could not be read.
#[derive(Debug)]
#[non_exhaustive]
pub struct BundleError {
    /// The bundle, as given.
    pub path: String,
    /// What went wrong.
    pub error: io::Error,
}

impl std::fmt::Display for BundleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.error)
    }
}

impl std::error::Error for BundleError {}

/// The entries of a Retina tarball netcap unpacks: the captures and what it reads.
fn wanted(path: &Path) -> bool {
    let name = path.to_string_lossy();
    let name = name.trim_start_matches("./");
    let top = !name.contains('/');
    (top && (name.ends_with(".pcap") || name.ends_with(".pcapng") || name == "ip-resources.txt"))
        || name == "proc-net/snmp"
        || name == "proc-net/netstat"
}

impl Bundle {
    /// Opens `path` when it is a bundle: a tar archive (compressed or not) or a
    /// directory holding Retina's layout (`ip-resources.txt` or `proc-net/snmp`, and a
    /// capture file). `Ok(None)`: not a bundle.
    ///
    /// # Errors
    /// A bundle that cannot be unpacked or read.
    pub fn open(path: &Path) -> Result<Option<Bundle>, BundleError> {
        let err = |error| BundleError { path: path.to_string_lossy().into_owned(), error };
        if path.is_dir() {
            if !(path.join("ip-resources.txt").is_file() || path.join("proc-net/snmp").is_file()) {
                return Ok(None);
            }
            return Bundle::from_dir(path, path, None).map(Some).map_err(err);
        }
        if !is_tar(path).map_err(err)? {
            return Ok(None);
        }
        let dir = tempfile::Builder::new().prefix("netcap-bundle-").tempdir().map_err(err)?;
        let file = fs::File::open(path).map_err(err)?;
        let (_, inner) = crate::capture::decompressed(file).map_err(err)?;
        let mut archive = tar::Archive::new(inner);
        for entry in archive.entries().map_err(err)? {
            let mut entry = entry.map_err(err)?;
            let Ok(name) = entry.path().map(|p| p.into_owned()) else { continue };
            if entry.header().entry_type().is_file() && wanted(&name) {
                // `unpack_in` refuses paths that leave the directory.
                entry.unpack_in(dir.path()).map_err(err)?;
            }
        }
        let root = dir.path().to_path_buf();
        Bundle::from_dir(path, &root, Some(Arc::new(dir))).map(Some).map_err(err)
    }

    fn from_dir(source: &Path, root: &Path, unpacked: Option<Arc<tempfile::TempDir>>) -> io::Result<Bundle> {
        let mut captures: Vec<PathBuf> = fs::read_dir(root)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && crate::capture::CaptureReader::open_streamed(p).is_ok())
            .collect();
        captures.sort();
        let Some(first) = captures.first() else {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "a Retina bundle without a capture file"));
        };
        let stem = retina_stem(first);
        let mut counters = Vec::new();
        for f in ["proc-net/snmp", "proc-net/netstat"] {
            if let Ok(text) = fs::read_to_string(root.join(f)) {
                counters.extend(proc_net_counters(&text));
            }
        }
        let interfaces = fs::read_to_string(root.join("ip-resources.txt")).map(|t| ip_addr_interfaces(&t)).unwrap_or_default();
        let facts = HostFacts { host: stem.clone(), source: source.to_string_lossy().into_owned(), counters, interfaces };
        Ok(Bundle { kind: BundleKind::Retina, captures, facts: Arc::new(facts), stem, _unpacked: unpacked })
    }

    /// The bundle with its host named `host` (`--point NAME=BUNDLE`).
    pub fn with_host(mut self, host: impl Into<String>) -> Self {
        let mut facts = (*self.facts).clone();
        facts.host = host.into();
        self.facts = Arc::new(facts);
        self
    }

    /// Names the hosts of bundles opened together ([module docs](self)): with several,
    /// the capture's name (the longest `-`-ended prefix of their stems) is taken off.
    pub fn name_hosts(bundles: &mut [Bundle]) {
        if bundles.len() < 2 {
            return;
        }
        let stems: Vec<&str> = bundles.iter().map(|b| b.stem.as_str()).collect();
        let mut common = stems[0].len();
        for s in &stems[1..] {
            common = common.min(stems[0].bytes().zip(s.bytes()).take_while(|(a, b)| a == b).count());
        }
        let prefix = stems[0].get(..common).and_then(|p| p.rfind('-')).map_or(0, |i| i + 1);
        let hosts: Vec<String> = stems.iter().map(|s| s.get(prefix..).filter(|h| !h.is_empty()).unwrap_or(s).to_string()).collect();
        for (b, host) in bundles.iter_mut().zip(hosts) {
            *b = b.clone().with_host(host);
        }
    }
}

/// Whether `path` holds a tar archive (compressed or not): `ustar` at byte 257. A file
/// that cannot be opened is none (reading it as a capture says why).
fn is_tar(path: &Path) -> io::Result<bool> {
    let Ok(file) = fs::File::open(path) else { return Ok(false) };
    let (_, inner) = crate::capture::decompressed(file)?;
    let mut head = Vec::with_capacity(512);
    // A compressed file that is no tar may fail to decompress: not a bundle.
    if io::Read::read_to_end(&mut io::Read::take(inner, 512), &mut head).is_err() {
        return Ok(false);
    }
    Ok(head.get(257..262) == Some(b"ustar".as_slice()))
}

/// `NAME-HOSTNAME` of Retina's `NAME-HOSTNAME-YYYYmmddHHMMSSZONE.pcap`: the file stem
/// less a trailing `-` + 14 digits + zone letters (the whole stem when it has none).
fn retina_stem(capture: &Path) -> String {
    let stem = capture.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let Some(dash) = stem.rfind('-') else { return stem };
    let time = &stem[dash + 1..];
    let digits = time.bytes().take_while(u8::is_ascii_digit).count();
    let zone_ok = time[digits..].bytes().all(|b| b.is_ascii_alphabetic());
    if digits == 14 && zone_ok && dash > 0 {
        stem[..dash].to_string()
    } else {
        stem
    }
}

/// The counters of a `/proc/net/snmp` or `/proc/net/netstat` copy: each protocol's
/// line of names, then its line of values; named as nstat names them (`Udp` +
/// `InCsumErrors`).
pub fn proc_net_counters(text: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        let (Some((proto, names)), Some((proto2, values))) = (names.split_once(':'), values.split_once(':')) else { break };
        if proto != proto2 {
            break;
        }
        for (n, v) in names.split_whitespace().zip(values.split_whitespace()) {
            // Max* fields of Tcp are signed (-1); counters are not.
            if let Ok(v) = v.parse::<u64>() {
                out.push((format!("{proto}{n}"), v));
            }
        }
    }
    out
}

/// Interface index → name from the `ip -d -j addr show` output in Retina's
/// `ip-resources.txt`: the JSON array on the line after that command.
pub fn ip_addr_interfaces(text: &str) -> Vec<(u32, String)> {
    let Some(at) = text.find("ip -d -j addr show\n\n").filter(|_| text.contains("Execute:")) else { return Vec::new() };
    let rest = &text[at..];
    let Some(json) = rest.lines().find(|l| l.starts_with('[')) else { return Vec::new() };
    let Ok(serde_json::Value::Array(items)) = serde_json::from_str::<serde_json::Value>(json) else { return Vec::new() };
    items
        .iter()
        .filter_map(|i| Some((u32::try_from(i.get("ifindex")?.as_u64()?).ok()?, i.get("ifname")?.as_str()?.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retina_names() {
        assert_eq!(retina_stem(Path::new("retina-capture-aks-nodepool1-41844487-vmss000000-20230320013600UTC.pcap")), "retina-capture-aks-nodepool1-41844487-vmss000000");
        assert_eq!(retina_stem(Path::new("x/retina-flannel-node2-20261206112952UTC.pcap")), "retina-flannel-node2");
        assert_eq!(retina_stem(Path::new("capture.pcap")), "capture");
        assert_eq!(retina_stem(Path::new("a-2026.pcap")), "a-2026");
    }

    #[test]
    fn counters_are_read_as_nstat_names_them() {
        let snmp = "Ip: Forwarding DefaultTTL\nIp: 1 64\nTcp: RtoAlgorithm MaxConn ActiveOpens\nTcp: 1 -1 3\nUdp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\nUdp: 5 0 2 0 0 0 2 0 0\n";
        let c = proc_net_counters(snmp);
        assert!(c.contains(&("UdpInCsumErrors".to_string(), 2)));
        assert!(c.contains(&("TcpActiveOpens".to_string(), 3)));
        assert!(!c.iter().any(|(n, _)| n == "TcpMaxConn"), "-1 is no counter");
        assert!(proc_net_counters("garbage").is_empty());
        assert!(proc_net_counters("Udp: A B\nTcp: 1 2\n").is_empty());
    }

    #[test]
    fn interfaces_come_from_ip_addr_show() {
        let text = "Summary:\n\n/usr/sbin/ip -d -j addr show(IP address configuration)\n\nExecute:\n\n/usr/sbin/ip -d -j addr show\n\n[{\"ifindex\":1,\"ifname\":\"lo\"},{\"ifindex\":2,\"ifname\":\"eth0\"}]\n/usr/sbin/ip -d -j neighbor show\n\n[]\n";
        assert_eq!(ip_addr_interfaces(text), [(1, "lo".to_string()), (2, "eth0".to_string())]);
        assert!(ip_addr_interfaces("nothing").is_empty());
    }
}

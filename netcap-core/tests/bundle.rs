//! Kubernetes capture bundles: the two Microsoft Retina bundles of the flannel incident
//! (`fixtures/lab/retina/`, made by `fixtures/lab/flannel.sh` with `RETINA_BUNDLES`,
//! in the layout Retina documents). Each holds the node's `tcpdump -i any` capture and
//! its `/proc/net`: node2's kernel counted `Udp InCsumErrors` 2 (`counters.txt` there:
//! 0 before the run, 2 after), node1's 0.

use std::path::{Path, PathBuf};

use netcap_core::analysis::Analysis;
use netcap_core::bundle::{Bundle, BundleKind};

fn bundles() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab/retina");
    let mut b: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.to_string_lossy().ends_with(".tar.gz")).collect();
    b.sort();
    b
}

fn open_both() -> Vec<Bundle> {
    let mut b: Vec<Bundle> = bundles().iter().map(|p| Bundle::open(p).unwrap().expect("a bundle")).collect();
    Bundle::name_hosts(&mut b);
    b
}

#[test]
fn a_retina_tarball_gives_its_capture_interfaces_and_counters() {
    let b = open_both();
    assert_eq!(b.len(), 2);
    assert_eq!(b[0].kind, BundleKind::Retina);
    assert_eq!([b[0].facts.host.as_str(), b[1].facts.host.as_str()], ["node1", "node2"]);
    assert!(b[0].stem.starts_with("retina-flannel-node1"));
    assert_eq!(b[1].facts.counter("UdpInCsumErrors"), Some(2));
    assert_eq!(b[0].facts.counter("UdpInCsumErrors"), Some(0));
    assert!(b[0].facts.counter("TcpExtTCPSynRetrans").is_some());
    let names: Vec<&str> = b[1].facts.interfaces.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["lo", "eth0", "flannel.1", "cni0", "veth-pod2"]);
    assert_eq!(b[1].captures.len(), 1);
    // One bundle alone keeps its name less the time.
    let one = Bundle::open(&bundles()[1]).unwrap().unwrap();
    assert_eq!(one.facts.host, "retina-flannel-node2");
    // Not bundles: a capture, a directory without Retina's files.
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/lab/flannel/server_underlay.pcap");
    assert!(Bundle::open(&capture).unwrap().is_none());
    assert!(Bundle::open(capture.parent().unwrap()).unwrap().is_none());
}

#[test]
fn the_correlation_names_the_nodes_points_and_cites_their_counters() {
    let mut a = Analysis::new();
    for b in open_both() {
        a = a.bundle(b);
    }
    let outcome = a.run(&mut ()).unwrap();
    let names: Vec<&str> = outcome.points.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        names,
        ["node1/veth-pod1", "node1/cni0", "node1/flannel.1", "node1/eth0", "node2/eth0", "node2/flannel.1", "node2/cni0", "node2/veth-pod2"]
    );
    assert_eq!(outcome.points[4].host.as_deref(), Some("node2"));
    assert!(outcome.points[4].file.ends_with("UTC.tar.gz/retina-flannel-node2-20261206112952UTC.pcap"), "{}", outcome.points[4].file);
    let report = outcome.report.as_ref().unwrap();
    let f = &report.findings[0];
    assert_eq!(f.kind, "dropped_bad_outer_checksum");
    assert_eq!(f.points, ["node2/eth0", "node2/flannel.1"]);
    assert_eq!(f.frames.len(), 2, "2 packets, as the kernel counted");
    assert!(f.summary.contains("node2's own kernel counted UdpInCsumErrors 2"), "{}", f.summary);
    let cited = &f.evidence["host_counters"];
    assert_eq!(cited[0]["host"], "node2");
    assert_eq!(cited[0]["counter"], "UdpInCsumErrors");
    assert_eq!(cited[0]["value"], 2);
    assert!(cited[0]["source"].as_str().unwrap().ends_with(".tar.gz"));
    // The SYN retries cite node1's TCPSynRetrans, and say why a node's may be 0.
    let syn = report.findings.iter().find(|f| f.kind == "syn_retry_delay").unwrap();
    assert!(syn.summary.contains("node1's own kernel counted TcpExtTCPSynRetrans 0"), "{}", syn.summary);
    assert!(syn.summary.contains("pod's own network namespace"));
    // Unpacked files live as long as the outcome: the frames can be read again.
    assert!(outcome.inputs.iter().all(|i| Path::new(i).exists()));
}

#[test]
fn an_unpacked_bundle_directory_is_the_same_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("tar").arg("-xzf").arg(&bundles()[1]).arg("-C").arg(dir.path()).status().unwrap();
    assert!(status.success());
    let b = Bundle::open(dir.path()).unwrap().expect("a Retina directory");
    assert_eq!(b.facts.counter("UdpInCsumErrors"), Some(2));
    assert_eq!(b.facts.interfaces.len(), 5);
    assert_eq!(b.captures.len(), 1);
}

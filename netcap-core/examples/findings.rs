//! Correlates captures taken at several points and prints the findings: where packets
//! were lost, and why.
//!
//! ```text
//! cargo run -p netcap-core --example findings -- fixtures/lab/flannel/client_pod.pcap fixtures/lab/flannel/server_underlay.pcap fixtures/lab/flannel/server_pod.pcap
//! 1. [error] dropped_bad_outer_checksum: 2 packets of 10.244.1.2:55406 > 10.244.2.3:80 were seen on server_underlay and missing from server_pod: the outer UDP checksum is wrong (0xffff, expected 0x3525; 0xffff, expected 0x0da8), …
//!    frames: client_pod:1, server_underlay:1, client_pod:2, server_underlay:2
//! ```

use netcap_core::analysis::Analysis;

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match Analysis::new().files(&files).run(&mut ()) {
        Ok(o) => o,
        Err(e) => return eprintln!("{e}"),
    };
    let Some(report) = &outcome.report else { return };
    for (i, f) in report.findings.iter().enumerate() {
        println!("{}. [{}] {}: {}", i + 1, f.severity, f.kind, f.summary);
        let frames: Vec<String> = f.frames.iter().flatten().map(|r| format!("{}:{}", r.point, r.frame)).collect();
        if !frames.is_empty() {
            println!("   frames: {}", frames.join(", "));
        }
    }
}

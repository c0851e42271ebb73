//! The correlator accounts expired packets in batches to bound its memory; the result
//! must not depend on the batch size. Every frame of the lab fixtures (small enough to
//! sort in memory) is fed in capture-time order with batches of 7 and 64 packets and
//! with one batch, and the reports must be equal.

use std::path::PathBuf;

use netcap_core::capture::CaptureReader;
use netcap_core::correlate::{CorrelateOptions, Correlator, Report};
use netcap_core::decode::Decoder;

fn frames(dir: &str, files: &[&str]) -> Vec<(i64, u32, u64, u16, Vec<u8>)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut all = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let mut r = CaptureReader::open(root.join(f)).expect("fixture");
        while let Some(fr) = r.next_frame().expect("frame") {
            all.push((fr.ts_ns, i as u32, fr.number, fr.link_type.0, fr.data.to_vec()));
        }
    }
    all.sort_by_key(|x| (x.0, x.1, x.2));
    all
}

fn run(all: &[(i64, u32, u64, u16, Vec<u8>)], names: &[String], batch: usize) -> Report {
    let decoder = Decoder::default();
    let mut c = Correlator::new(CorrelateOptions { batch, list_packets: true, ..CorrelateOptions::default() }, Vec::new());
    for (ts, point, number, link, data) in all {
        let frame = netcap_core::capture::Frame {
            number: *number,
            point: netcap_core::capture::PointId(*point),
            link_type: netcap_core::capture::LinkType(*link),
            ts_ns: *ts,
            has_timestamp: true,
            caplen: data.len() as u32,
            len: data.len() as u32,
            offset: 0,
            data,
        };
        let packet = decoder.decode(frame.link_type, frame.data);
        c.add(*point, &frame, &packet);
    }
    c.finish(names, &[])
}

fn check(dir: &str, files: &[&str]) {
    let all = frames(dir, files);
    let names: Vec<String> = files.iter().map(|f| f.trim_end_matches(".pcap").to_string()).collect();
    let whole = run(&all, &names, usize::MAX);
    assert!(whole.packet_count > 0);
    for batch in [7, 64] {
        let r = run(&all, &names, batch);
        assert_eq!(r.pairs, whole.pairs, "{dir}, batch {batch}");
        assert_eq!(r.findings, whole.findings, "{dir}, batch {batch}");
        assert_eq!(r.packets, whole.packets, "{dir}, batch {batch}");
        assert_eq!(r.packet_count, whole.packet_count);
    }
}

#[test]
fn batch_size_does_not_change_the_wire_loss_report() {
    check("fixtures/lab/wire-loss", &["sender.pcap", "mid_in.pcap", "mid_out.pcap", "receiver.pcap"]);
}

#[test]
fn batch_size_does_not_change_the_tso_report() {
    check(
        "fixtures/lab/vxlan-tso",
        &["client_pod.pcap", "client_vxlan.pcap", "client_underlay.pcap", "server_underlay.pcap", "server_vxlan.pcap", "server_pod.pcap"],
    );
}

#[test]
fn batch_size_does_not_change_the_flannel_report() {
    check(
        "fixtures/lab/flannel",
        &["client_pod.pcap", "client_vxlan.pcap", "client_underlay.pcap", "server_underlay.pcap", "server_vxlan.pcap", "server_pod.pcap"],
    );
}

//! `tcp`: `Analyzer::segment` (flow lookup plus every label rule and RTT sample) on a
//! pre-decoded stream of the bulk capture's frames (TCP in VXLAN, 4 connections, three
//! data segments then an ACK per turn), so only the TCP analysis is timed. The stream is
//! checked once: every frame yields an analysis, none is labelled, and the ACKs give RTT
//! samples.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use netcap_benches::{BulkStream, Payload};
use netcap_core::capture::{Frame, LinkType, PointId};
use netcap_core::decode::{Decoder, Packet};
use netcap_core::tcp::{Analyzer, TcpAnalysisOptions};

const FRAMES: usize = 4096;

fn frames() -> Vec<(i64, Vec<u8>, Packet)> {
    let decoder = Decoder::default();
    let mut stream = BulkStream::new(4, Payload::Text);
    (0..FRAMES)
        .map(|_| {
            let (ts, data) = stream.next_frame();
            let data = data.to_vec();
            let packet = decoder.decode(LinkType::ETHERNET, &data);
            (i64::try_from(ts).expect("2023 in ns fits"), data, packet)
        })
        .collect()
}

fn run(a: &mut Analyzer, frames: &[(i64, Vec<u8>, Packet)], base: u64) -> usize {
    let mut acked = 0;
    for (i, (ts, data, packet)) in frames.iter().enumerate() {
        let frame = Frame {
            number: base + i as u64 + 1,
            point: PointId(0),
            link_type: LinkType::ETHERNET,
            ts_ns: *ts,
            has_timestamp: true,
            caplen: data.len() as u32,
            len: data.len() as u32,
            offset: 0,
            data,
        };
        let info = a.segment(0, &frame, packet).expect("TCP in every frame");
        acked += usize::from(info.ack_rtt_ns.is_some());
    }
    acked
}

fn tcp(c: &mut Criterion) {
    let frames = frames();
    let mut check = Analyzer::new(TcpAnalysisOptions::default());
    let acked = run(&mut check, &frames, 0);
    assert!(acked > FRAMES / 8, "ACKs give RTT samples: {acked}");
    let flows = check.finish();
    assert_eq!(flows.len(), 4);
    assert!(flows.iter().all(|f| f.retransmissions() == 0 && f.c2s.lost_segments == 0), "{flows:?}");

    let mut g = c.benchmark_group("tcp");
    g.throughput(Throughput::Elements(FRAMES as u64));
    // A fresh analyzer per iteration (created outside the timing): replaying the same
    // frames into a warm one would make every segment a retransmission.
    g.bench_function("segment_4096_frames", |b| {
        b.iter_batched(
            || Analyzer::new(TcpAnalysisOptions::default()),
            |mut a| run(&mut a, std::hint::black_box(&frames), 0),
            BatchSize::SmallInput,
        );
    });
    g.finish();
}

criterion_group!(benches, tcp);
criterion_main!(benches);

//! `read`: `CaptureReader` over an in-memory pcap of full-size frames, counting frames;
//! `read_decode`: the same plus `decode_into` on every frame (what `netcap summary`
//! does per frame, without the summary).

use std::io::Cursor;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netcap_benches::{bulk_pcap, Payload};
use netcap_core::capture::CaptureReader;
use netcap_core::decode::{Decoder, Packet};

/// 10,000 frames: about 15 MB, well beyond the caches.
const FRAMES: usize = 10_000;

fn read(c: &mut Criterion) {
    let file: Arc<[u8]> = bulk_pcap(FRAMES, 4, Payload::Text).into();
    let mut g = c.benchmark_group("read");
    g.throughput(Throughput::BytesDecimal(file.len() as u64));
    g.bench_function("pcap_10k_x_1514", |b| {
        b.iter(|| {
            let mut r = CaptureReader::from_reader("bench.pcap", Cursor::new(Arc::clone(&file)))
                .expect("a pcap");
            let mut n = 0usize;
            while let Some(f) = r.next_frame().expect("no corrupt record") {
                std::hint::black_box(f.data);
                n += 1;
            }
            assert_eq!(n, FRAMES);
            n
        });
    });
    g.bench_function("pcap_10k_x_1514_decode", |b| {
        let decoder = Decoder::default();
        let mut packet = Packet::default();
        b.iter(|| {
            let mut r = CaptureReader::from_reader("bench.pcap", Cursor::new(Arc::clone(&file)))
                .expect("a pcap");
            let (mut n, mut layers) = (0usize, 0usize);
            while let Some(f) = r.next_frame().expect("no corrupt record") {
                decoder.decode_into(f.link_type, f.data, &mut packet);
                layers += packet.layers.len();
                n += 1;
            }
            assert_eq!((n, layers), (FRAMES, FRAMES * 7));
            n
        });
    });
    g.finish();
}

criterion_group!(benches, read);
criterion_main!(benches);

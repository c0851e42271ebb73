//! `decode`: `Decoder::decode_into` (decode plus every checksum verdict) on the
//! representative frames of `netcap_benches::samples`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netcap_benches::samples;
use netcap_core::capture::LinkType;
use netcap_core::checksum::Status;
use netcap_core::decode::{Decoder, Packet};

fn decode(c: &mut Criterion) {
    let decoder = Decoder::default();
    let mut g = c.benchmark_group("decode");
    for s in samples() {
        // Check the builder once, outside the timing: layers, verdicts, acceptance.
        let p = decoder.decode(LinkType::ETHERNET, &s.data);
        assert_eq!(p.layers.len(), s.layers, "{}", s.name);
        let verdicts: Vec<Status> = p
            .layers
            .iter()
            .filter_map(|l| l.checksum)
            .map(|v| v.status)
            .collect();
        if s.all_good {
            assert!(
                verdicts.iter().all(|&v| v == Status::Good),
                "{}: {verdicts:?}",
                s.name
            );
        } else {
            assert!(verdicts.contains(&Status::Bad), "{}: {verdicts:?}", s.name);
            assert!(!p.receiver_accepts(), "{}", s.name);
        }

        g.throughput(Throughput::BytesDecimal(s.data.len() as u64));
        let mut packet = Packet::default();
        g.bench_function(s.name, |b| {
            b.iter(|| {
                decoder.decode_into(
                    LinkType::ETHERNET,
                    std::hint::black_box(&s.data),
                    &mut packet,
                );
                assert_eq!(packet.layers.len(), s.layers);
            });
        });
    }
    g.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);

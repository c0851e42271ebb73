//! `checksum`: `netcap_core::checksum::sum16` over 64, 1500, 9000 and 65535 bytes,
//! checked once against the benches crate's own reference sum.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use netcap_benches::{filler, fold, internet_sum};
use netcap_core::checksum::sum16;

fn checksum(c: &mut Criterion) {
    let mut g = c.benchmark_group("checksum");
    for len in [64usize, 1500, 9000, 65535] {
        let data = filler(len, len as u64);
        assert_eq!(
            sum16(&data),
            fold(internet_sum(0, &data)),
            "sum16 over {len} bytes"
        );
        g.throughput(Throughput::BytesDecimal(len as u64));
        g.bench_with_input(BenchmarkId::new("sum16", len), &data, |b, d| {
            b.iter(|| sum16(std::hint::black_box(d)));
        });
    }
    g.finish();
}

criterion_group!(benches, checksum);
criterion_main!(benches);

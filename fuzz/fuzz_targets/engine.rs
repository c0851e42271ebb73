//! Arbitrary bytes as two capture files, through the whole engine
//! (`netcap_core::analysis`): points, the time-ordered merge, chunks on a thread pool,
//! the TCP analysis in shards, the correlator, findings — and file by file.
//!
//! The bytes are the first input, and their first `len * last byte / 256` bytes the
//! second: a capture and the same capture cut short, as two points that saw the same
//! packets (so the correlator matches them, and seed files work as they are). Each run must
//! end (no panic), deliver every frame once, number flows 0..n in order of first frame,
//! and give the same outcome with 1 and 3 threads: the same points, flows, report and
//! frames seen, in the same order.

#![no_main]

use std::convert::Infallible;
use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use netcap_core::analysis::{Analysis, FrameEvent, Observer, Order};

/// Per frame delivered: (point, frame number, time, caplen, segment's flow).
#[derive(Default, PartialEq, Debug)]
struct Seen(Vec<(usize, u64, i64, u32, Option<u64>)>);

impl Observer for Seen {
    type Error = Infallible;
    fn frame(&mut self, e: &FrameEvent<'_>) -> Result<(), Infallible> {
        assert_eq!(e.frame.data.len(), e.frame.caplen as usize);
        assert_eq!(e.point_info.name, e.points[e.point].name);
        self.0.push((e.point, e.frame.number, e.frame.ts_ns, e.frame.caplen, e.segment.map(|s| s.flow)));
        Ok(())
    }
}

fn run(a: &[u8], b: &[u8], order: Order, threads: usize) -> (Seen, String) {
    let mut seen = Seen::default();
    let outcome = Analysis::new()
        .reader("a.pcap", Cursor::new(a.to_vec()))
        .reader("b.pcap", Cursor::new(b.to_vec()))
        .order(order)
        .threads(threads)
        .run(&mut seen)
        .unwrap_or_else(|e| match e {
            netcap_core::analysis::AnalysisError::Observer(never) => match never {},
            other => panic!("{other}"),
        });
    assert_eq!(outcome.frames as usize, seen.0.len());
    let per_point: u64 = outcome.points.iter().map(|p| p.frames).sum();
    assert_eq!(per_point, outcome.frames);
    // Flow ids are 0..n in order of first frame.
    for (i, f) in outcome.flows.iter().enumerate() {
        assert_eq!(f.id, i as u64);
    }
    let json = serde_json::json!({
        "points": outcome.points,
        "flows": outcome.flows,
        "report": outcome.report,
        "table": outcome.table,
        "errors": outcome.errors.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
    })
    .to_string();
    (seen, json)
}

fuzz_target!(|data: &[u8]| {
    let Some(&cut) = data.last() else { return };
    let (a, b) = (data, &data[..data.len() * usize::from(cut) / 256]);
    for order in [Order::Time, Order::Files] {
        let one = run(a, b, order, 1);
        let three = run(a, b, order, 3);
        assert_eq!(one, three, "the outcome depends on the number of threads");
    }
});

//! Retransmissions and round-trip times of every TCP flow, per capture point.
//!
//! ```text
//! cargo run -p netcap-core --example flows -- fixtures/lab/tcp-loss/sender.pcap
//! flow 0 at sender: 10.77.0.1:47361 > 10.77.0.2:5201, retransmissions 1 / 0, Karn RTT p50 20.237 ms (14 samples)
//! flow 1 at sender: 10.77.0.1:40000 > 10.77.0.2:5201, retransmissions 23 / 0, Karn RTT p50 20.280 ms (965 samples)
//! ```

use netcap_core::analysis::{Analysis, Order};

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let outcome = match Analysis::new().files(&files).order(Order::Files).run(&mut ()) {
        Ok(o) => o,
        Err(e) => return eprintln!("{e}"),
    };
    for e in &outcome.errors {
        eprintln!("{e}");
    }
    for f in &outcome.flows {
        let karn = f.rtt.karn;
        let p50 = karn.p50_ns.map_or("-".to_string(), |ns| format!("{:.3} ms", ns as f64 / 1e6));
        println!(
            "flow {} at {}: {} > {}, retransmissions {} / {}, Karn RTT p50 {p50} ({} samples)",
            f.id,
            f.point,
            f.client,
            f.server,
            f.c2s.retransmissions,
            f.s2c.retransmissions,
            karn.count
        );
    }
}

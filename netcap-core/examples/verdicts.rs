//! Every checksum verdict of every frame, and whether a Linux receiver would drop it.
//!
//! ```text
//! cargo run -p netcap-core --example verdicts -- fixtures/lab/flannel/server_underlay.pcap
//! server_underlay 1: ipv4@0 good 0xce5a, udp@0 bad 0xffff expected 0x3525, ipv4@1 good 0x6dcb, tcp@1 good 0x1304 => dropped (UdpInCsumErrors)
//! ```

use std::io::{self, Write};

use netcap_core::analysis::{Analysis, FrameEvent, Observer, Order};

/// Prints one line per frame.
struct Verdicts<W: Write>(W);

impl<W: Write> Observer for Verdicts<W> {
    type Error = io::Error;

    fn frame(&mut self, e: &FrameEvent<'_>) -> io::Result<()> {
        let verdicts: Vec<String> = e
            .packet
            .layers
            .iter()
            .filter_map(|l| {
                let v = l.checksum?;
                let expected = match (v.status.as_str(), v.expected) {
                    ("good", _) | (_, None) => String::new(),
                    (_, Some(x)) => format!(" expected 0x{x:04x}"),
                };
                Some(format!("{}@{} {} 0x{:04x}{expected}", l.proto(), l.depth, v.status.as_str(), v.stored))
            })
            .collect();
        let drop = e.packet.drop.map_or(String::new(), |d| format!(" => dropped ({})", d.counter));
        writeln!(self.0, "{} {}: {}{drop}", e.point_info.name, e.frame.number, verdicts.join(", "))
    }
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let mut out = Verdicts(io::stdout().lock());
    match Analysis::new().files(&files).order(Order::Files).keep_flows(false).run(&mut out) {
        Ok(outcome) => {
            for e in &outcome.errors {
                eprintln!("{e}");
            }
        }
        Err(e) => eprintln!("{e}"),
    }
}

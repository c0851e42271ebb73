//! Shared drivers and invariant checks for the netcap fuzz targets.
//!
//! Each check panics with a message naming the broken invariant, so libFuzzer records
//! the input as a crash. Only facts the library documents are checked:
//! - `decode`: every layer lies inside the frame (`offset + header_len <= len`), layers
//!   do not overlap and come in frame order, depth starts at 0, never decreases and
//!   grows by at most one per layer, never exceeds `max_tunnel_depth`; at most
//!   `max_layers` layers; the stop offset is inside the frame; `receiver_accepts()` is
//!   `drop.is_none()` and `drop` names the outermost bad / illegal-zero checksum;
//!   `expected` is `None` exactly for `unverifiable` (and may be either for `absent` /
//!   `illegal_zero`, which need no bytes, docs/checksums.md), `absent` / `illegal_zero`
//!   only on UDP with stored 0; a `bad` or `partial` verdict's `expected` differs from
//!   the stored value and, written into the frame, makes that checksum `good`.
//! - `read` (also runs the TCP analysis on every frame and serialises its results):
//!   frame numbers strictly increase from 1, and are 1, 2, 3, … in a pcap file
//!   (pcapng custom and systemd-journal blocks take a number without being yielded, as
//!   in tshark); `caplen == data.len()`; every frame's point exists, has the frame's link
//!   type and its index as id; point names are unique; an error names a record after the
//!   last frame (in pcap: the next one) or none, a warning record 1 or later (in pcap: at
//!   most the next one); after the end or an error,
//!   `next_frame` keeps returning `Ok(None)`; the same bytes gzip-compressed read
//!   exactly the same.

pub mod blocks;
pub mod script;
pub mod stack;

use std::collections::hash_map::DefaultHasher;
use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::io::{self, Cursor, Write};

use netcap_core::capture::{CaptureReader, FileFormat, Frame, LinkType};
use netcap_core::checksum::Status;
use netcap_core::decode::{DecodeOptions, Decoder, LayerKind, Packet};

/// Where a generator target (`tunnels`, `pcapng_blocks`) writes what it encoded from
/// its input: the path in `NETCAP_FUZZ_ENCODED`, read once; `None` when unset. Run the
/// target on one finding with it set to keep the finding in `fixtures/fuzz-regressions`
/// in the form `netcap-core/tests/regression.rs` replays (the frame in the `decode`
/// layout, the pcapng file as it is).
pub fn encoded_path() -> Option<&'static std::path::Path> {
    static PATH: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();
    PATH.get_or_init(|| std::env::var_os("NETCAP_FUZZ_ENCODED").map(Into::into)).as_deref()
}

/// The `decode` target's checks on one frame: decoded with the default options and
/// with a variant chosen by `variant` (an extra VXLAN port `variant << 8 | 0x17`,
/// tunnel depth 1, a layer cap of `1 + (variant & 0x1f)`), the structural invariants
/// and the "writing expected makes it good" check on both, `decode_into` on a used
/// `Packet` equal to a fresh decode, and the variant agreeing with the default decode
/// on the layers both decoded. Returns the default decode.
pub fn check_decode(link: LinkType, data: &[u8], variant: u8) -> Packet {
    let default = Decoder::default();
    let p = default.decode(link, data);
    check_packet(default.options(), data, &p);
    check_expected_fixes(&default, link, data, &p);
    serde_json::to_writer(io::sink(), &p.layers).expect("layers serialise");
    serde_json::to_writer(io::sink(), &p.stop).expect("stop serialises");

    let mut opts = DecodeOptions::default();
    let extra = u16::from_be_bytes([variant, 0x17]);
    opts.vxlan_ports.push(extra);
    opts.max_tunnel_depth = 1;
    opts.max_layers = 1 + usize::from(variant & 0x1f);
    let decoder = Decoder::new(opts);
    // Reuse the default decode's packet: decode_into must clear it.
    let mut reused = p.clone();
    decoder.decode_into(link, data, &mut reused);
    check_packet(decoder.options(), data, &reused);
    check_expected_fixes(&decoder, link, data, &reused);
    assert_eq!(reused, decoder.decode(link, data), "decode_into on a used Packet differs");
    serde_json::to_writer(io::sink(), &reused.layers).expect("layers serialise");

    // The variant only cuts deeper: up to where it stopped, it agrees with the default
    // decode unless its extra VXLAN port changed the meaning of a UDP payload.
    let extra_port = reused.layers.iter().any(|l| {
        matches!(l.kind, LayerKind::Udp { dst_port, .. }
            if dst_port == extra && !default.options().vxlan_ports.contains(&extra))
    });
    if !extra_port {
        let n = reused.layers.len();
        assert!(n <= p.layers.len(), "the variant decoded more layers than the default");
        assert_eq!(&reused.layers[..], &p.layers[..n], "the variant decoded other layers");
    }
    p
}
use netcap_core::record::PacketRecord;
use netcap_core::summary::Summary;

/// A `Write` that keeps only a hash of what was written: a sink that still lets two
/// runs be compared.
#[derive(Debug, Default)]
pub struct HashSink(DefaultHasher);

impl HashSink {
    pub fn digest(&self) -> u64 {
        self.0.finish()
    }
}

impl Write for HashSink {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Byte offset of the checksum field within each checksummed header.
fn checksum_field(kind: &LayerKind) -> Option<usize> {
    match kind {
        LayerKind::Ipv4 { .. } => Some(10),
        LayerKind::Udp { .. } => Some(6),
        LayerKind::Tcp { .. } => Some(16),
        LayerKind::Icmp { .. } | LayerKind::Icmpv6 { .. } => Some(2),
        _ => None,
    }
}

/// The structural invariants of one decoded frame.
pub fn check_packet(opts: &DecodeOptions, data: &[u8], p: &Packet) {
    let len = data.len() as u64;
    assert!(p.layers.len() <= opts.max_layers, "{} layers > max_layers", p.layers.len());
    let mut prev: Option<(u8, u64)> = None; // (depth, end of header)
    for (i, l) in p.layers.iter().enumerate() {
        let end = u64::from(l.offset) + u64::from(l.header_len);
        assert!(end <= len, "layer {i} ({}) ends at {end} > frame length {len}", l.proto());
        match prev {
            None => assert_eq!(l.depth, 0, "first layer ({}) at depth {}", l.proto(), l.depth),
            Some((d, prev_end)) => {
                assert!(
                    l.depth >= d && l.depth - d <= 1,
                    "layer {i} ({}) depth {} after depth {d}",
                    l.proto(),
                    l.depth
                );
                assert!(
                    u64::from(l.offset) >= prev_end,
                    "layer {i} ({}) at {} overlaps the previous header ending at {prev_end}",
                    l.proto(),
                    l.offset
                );
            }
        }
        assert!(l.depth <= opts.max_tunnel_depth, "depth {} > max_tunnel_depth", l.depth);
        prev = Some((l.depth, end));

        let field = checksum_field(&l.kind);
        assert_eq!(field.is_some(), l.checksum.is_some(), "layer {i} ({}) checksum presence", l.proto());
        if let Some(v) = l.checksum {
            match v.status {
                Status::Unverifiable => {
                    assert_eq!(v.expected, None, "layer {i} ({}) unverifiable with expected", l.proto())
                }
                Status::Absent | Status::IllegalZero => {
                    assert!(matches!(l.kind, LayerKind::Udp { .. }), "{:?} on {}", v.status, l.proto());
                    assert_eq!(v.stored, 0, "layer {i} {:?} with stored {:#06x}", v.status, v.stored);
                }
                Status::Good => {
                    let e = v.expected.unwrap_or_else(|| panic!("layer {i} ({}) good without expected", l.proto()));
                    // Both encodings of zero may be accepted (docs/checksums.md).
                    assert!(
                        e == v.stored || (e ^ v.stored) == 0xffff && (e == 0 || e == 0xffff),
                        "layer {i} ({}) good, stored {:#06x}, expected {e:#06x}",
                        l.proto(),
                        v.stored
                    );
                }
                Status::Bad | Status::Partial => {
                    let e = v.expected.unwrap_or_else(|| {
                        panic!("layer {i} ({}) {:?} without expected", l.proto(), v.status)
                    });
                    assert_ne!(
                        e,
                        v.stored,
                        "layer {i} ({}) {:?} but stored == expected",
                        l.proto(),
                        v.status
                    );
                }
                _ => {}
            }
            // The stored value is the field in the frame.
            if let Some(f) = field {
                let at = l.offset as usize + f;
                let stored = u16::from_be_bytes([data[at], data[at + 1]]);
                assert_eq!(stored, v.stored, "layer {i} ({}) stored value is not the field", l.proto());
            }
        }
    }
    if let Some(s) = p.stop {
        assert!(u64::from(s.offset) <= len, "stop offset {} > frame length {len}", s.offset);
    }
    assert_eq!(p.receiver_accepts(), p.drop.is_none());
    // The checksums of a packet an ICMP error quotes never make a receiver drop it.
    let first_bad = p.own_layers().iter().position(|l| {
        l.checksum.is_some_and(|v| matches!(v.status, Status::Bad | Status::IllegalZero))
    });
    assert_eq!(p.drop.map(|d| d.layer_index), first_bad, "drop is not the outermost bad checksum");
    if let Some(q) = p.quote_start() {
        assert!(q > 0 && matches!(p.layers[q - 1].kind, LayerKind::Icmp { .. } | LayerKind::Icmpv6 { .. }));
        assert!(p.layers[q].depth == p.layers[q - 1].depth + 1, "a quote is one level deeper");
    }
    if let Some(d) = p.drop {
        let l = &p.layers[d.layer_index];
        assert_eq!((d.layer, d.depth), (l.proto(), l.depth), "drop names another layer");
    }
}

/// Writes each `bad` / `partial` verdict's `expected` into a copy of the frame and
/// checks that the same layer then decodes `good`: `expected` is "the value a correct
/// sender writes".
pub fn check_expected_fixes(decoder: &Decoder, link: LinkType, data: &[u8], p: &Packet) {
    let mut fixed = Packet::default();
    for (i, l) in p.layers.iter().enumerate() {
        let (Some(v), Some(f)) = (l.checksum, checksum_field(&l.kind)) else { continue };
        if !matches!(v.status, Status::Bad | Status::Partial) {
            continue;
        }
        let Some(e) = v.expected else { continue };
        let mut copy = data.to_vec();
        let at = l.offset as usize + f;
        copy[at..at + 2].copy_from_slice(&e.to_be_bytes());
        decoder.decode_into(link, &copy, &mut fixed);
        let again = fixed.layers.get(i).unwrap_or_else(|| {
            panic!("layer {i} ({}) gone after writing its expected checksum", l.proto())
        });
        assert_eq!(again.proto(), l.proto(), "layer {i} changed kind after the fix");
        let status = again.checksum.map(|v| v.status);
        assert_eq!(
            status,
            Some(Status::Good),
            "layer {i} ({}) {:?} stored {:#06x}: writing expected {e:#06x} gives {status:?}",
            l.proto(),
            v.status,
            v.stored
        );
    }
}

/// What one read of a capture produced, for comparing two reads.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReadOutcome {
    pub frames: u64,
    /// Number of the last frame yielded (0 before the first).
    pub last_number: u64,
    /// Hash of every frame's facts, bytes and JSON record.
    pub digest: u64,
    pub points: Vec<String>,
    pub error: Option<String>,
    pub warnings: Vec<String>,
    /// What the file says beside its packets (`CaptureReader::meta`), as JSON.
    pub meta: String,
}

/// Reads `bytes` as the CLI does (decode, summary, JSON record per frame), checking the
/// reader's and decoder's invariants on the way.
pub fn read_capture(bytes: Vec<u8>) -> ReadOutcome {
    let mut out = ReadOutcome::default();
    let mut reader = match CaptureReader::from_reader("fuzz", Cursor::new(bytes)) {
        Ok(r) => r,
        Err(e) => {
            assert_eq!(e.record, None, "header error names a record: {e}");
            let _ = serde_json::to_writer(io::sink(), &e);
            out.error = Some(e.to_string());
            return out;
        }
    };
    let decoder = Decoder::default();
    let mut packet = Packet::default();
    // TCP analysis of every frame, with a small table so eviction runs too.
    let limits = netcap_core::flow::table::FlowLimits { max_flows: 8, idle_timeout_ns: 60_000_000_000 };
    let mut tcp = netcap_core::tcp::Analyzer::new(netcap_core::tcp::TcpAnalysisOptions { limits });
    // Tiny batches and window, so that batching, deferral and context trimming run.
    let copts = netcap_core::correlate::CorrelateOptions { batch: 3, window_ns: 1_000_000, ..Default::default() };
    let mut correlator = netcap_core::correlate::Correlator::new(copts, vec![0, -5, 1 << 62]);
    let mut summary = Summary::default();
    let mut sink = HashSink::default();
    // Reader point id -> summary index, filled as points appear.
    let mut ids: Vec<usize> = Vec::new();
    let pcap = matches!(reader.format(), FileFormat::Pcap { .. });
    loop {
        let frame = match reader.next_frame() {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                if let Some(r) = e.record {
                    let last = out.last_number;
                    assert!(r > last, "error names record {r} after frame {last}: {e}");
                    if pcap {
                        assert_eq!(r, last + 1, "pcap error names record {r} after frame {last}: {e}");
                    }
                }
                let _ = serde_json::to_writer(io::sink(), &e);
                out.error = Some(e.to_string());
                break;
            }
        };
        out.frames += 1;
        let last = out.last_number;
        assert!(frame.number > last, "frame {} after frame {last}", frame.number);
        if pcap {
            assert_eq!(frame.number, out.frames, "pcap frame numbers are not 1, 2, 3, …");
        }
        out.last_number = frame.number;
        assert_eq!(frame.data.len(), frame.caplen as usize, "caplen != data length");
        decoder.decode_into(frame.link_type, frame.data, &mut packet);
        check_packet(decoder.options(), frame.data, &packet);
        if let Some(info) = tcp.segment(frame.point.0, &frame, &packet) {
            let _ = serde_json::to_writer(io::sink(), &info);
        }
        correlator.add(frame.point.0, &frame, &packet);
        (
            frame.number,
            frame.point,
            frame.link_type,
            frame.ts_ns,
            frame.has_timestamp,
            frame.caplen,
            frame.len,
            frame.offset,
            frame.data,
        )
            .hash(&mut sink.0);

        let pid = frame.point.0 as usize;
        if let Some(&idx) = ids.get(pid) {
            summary.add(idx, &frame, &packet);
            let name = &summary.points[idx].name;
            serde_json::to_writer(&mut sink, &PacketRecord::new(name, &frame, &packet))
                .expect("a record serialises");
            continue;
        }
        // A new point: the frame borrows the reader, copy it out to look at points().
        let data = frame.data.to_vec();
        let frame = Frame { data: &data, ..frame };
        while ids.len() <= pid {
            let Some(p) = reader.points().get(ids.len()) else { break };
            assert_eq!(p.id.0 as usize, ids.len(), "point id is not its index");
            ids.push(summary.add_point(p));
        }
        let idx = *ids.get(pid).unwrap_or_else(|| {
            panic!("frame {} on point {pid}, but only {} points", frame.number, reader.points().len())
        });
        assert_eq!(
            reader.points()[pid].link_type,
            frame.link_type,
            "frame {} link type differs from its point's",
            frame.number
        );
        summary.add(idx, &frame, &packet);
        let name = &summary.points[idx].name;
        serde_json::to_writer(&mut sink, &PacketRecord::new(name, &frame, &packet))
            .expect("a record serialises");
    }
    for _ in 0..2 {
        assert!(matches!(reader.next_frame(), Ok(None)), "next_frame after the end is not Ok(None)");
    }
    let flows = tcp.finish();
    for f in &flows {
        assert!(f.first_ts_ns <= f.last_ts_ns, "flow {} ends before it starts", f.id);
        let _ = serde_json::to_writer(io::sink(), f);
    }
    let report = correlator.finish(&out.points, &flows);
    let lost: u64 = report.pairs.iter().map(|p| p.lost).sum();
    let in_findings: u64 =
        report.findings.iter().filter(|f| f.points.len() == 2).filter_map(|f| f.evidence["lost"].as_u64()).sum();
    assert_eq!(lost, in_findings, "every lost packet is in exactly one located finding");
    let _ = serde_json::to_writer(io::sink(), &report);
    for w in reader.take_warnings() {
        if let Some(r) = w.record {
            let last = out.last_number;
            assert!(r >= 1, "warning names record 0");
            if pcap {
                assert!(r <= last + 1, "pcap warning names record {r} after frame {last}");
            }
        }
        let _ = serde_json::to_writer(io::sink(), &w);
        out.warnings.push(w.to_string());
    }
    let points = reader.points();
    let mut names = HashSet::new();
    for (i, p) in points.iter().enumerate() {
        assert_eq!(p.id.0 as usize, i, "point id is not its index");
        assert!(names.insert(p.name.as_str()), "point name {:?} twice", p.name);
        out.points.push(p.name.clone());
    }
    let _ = serde_json::to_writer(io::sink(), points);
    // The pcapng metadata: each (address, name) pair once, within the cap; sections and
    // interfaces in file order.
    let meta = reader.meta();
    assert!(meta.names.len() <= netcap_core::capture::MAX_NAMES, "{} names kept", meta.names.len());
    let pairs: HashSet<(std::net::IpAddr, &str)> = meta.names.iter().map(|n| (n.address, n.name.as_str())).collect();
    assert_eq!(pairs.len(), meta.names.len(), "an (address, name) pair kept twice");
    assert!(meta.names.iter().all(|n| !n.name.is_empty() && !n.name.contains('\0')), "an empty or NUL-bearing name");
    assert!(meta.sections.windows(2).all(|w| w[0].section < w[1].section), "sections out of order");
    assert!(meta.interfaces.windows(2).all(|w| (w[0].section, w[0].idb) < (w[1].section, w[1].idb)), "interfaces out of order");
    out.meta = serde_json::to_string(meta).expect("the metadata serialises");
    assert_eq!(summary.frames(), out.frames, "summary counts other frames than were read");
    serde_json::to_writer(&mut sink, &summary.report()).expect("the report serialises");
    out.digest = sink.digest();
    out
}

/// Per frame the engine delivered: (point, frame number, time, caplen, segment's flow).
#[derive(Default, PartialEq, Debug)]
pub struct Seen(pub Vec<(usize, u64, i64, u32, Option<u64>)>);

impl netcap_core::analysis::Observer for Seen {
    type Error = std::convert::Infallible;
    fn frame(&mut self, e: &netcap_core::analysis::FrameEvent<'_>) -> Result<(), Self::Error> {
        assert_eq!(e.frame.data.len(), e.frame.caplen as usize);
        assert_eq!(e.point_info.name, e.points[e.point].name);
        self.0.push((e.point, e.frame.number, e.frame.ts_ns, e.frame.caplen, e.segment.map(|s| s.flow)));
        Ok(())
    }
}

/// One run of the whole engine (`netcap_core::analysis`) over two in-memory captures:
/// no panic, every frame delivered once and counted per point, flow ids 0..n in order
/// of first frame. Returns the frames seen and the outcome as JSON, for comparing runs.
pub fn run_engine(a: &[u8], b: &[u8], order: netcap_core::analysis::Order, threads: usize) -> (Seen, String) {
    use netcap_core::analysis::{Analysis, AnalysisError};
    let mut seen = Seen::default();
    let outcome = Analysis::new()
        .reader("a.pcap", Cursor::new(a.to_vec()))
        .reader("b.pcap", Cursor::new(b.to_vec()))
        .order(order)
        .threads(threads)
        .run(&mut seen)
        .unwrap_or_else(|e| match e {
            AnalysisError::Observer(never) => match never {},
            other => panic!("{other}"),
        });
    assert_eq!(outcome.frames as usize, seen.0.len());
    let per_point: u64 = outcome.points.iter().map(|p| p.frames).sum();
    assert_eq!(per_point, outcome.frames);
    for (i, f) in outcome.flows.iter().enumerate() {
        assert_eq!(f.id, i as u64, "flow ids are not 0..n");
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

/// The engine over `a` and `b` with 1 and 3 threads in each given order: the same
/// outcome either way.
pub fn check_engine(a: &[u8], b: &[u8], orders: &[netcap_core::analysis::Order]) {
    for &order in orders {
        let one = run_engine(a, b, order, 1);
        let three = run_engine(a, b, order, 3);
        assert_eq!(one, three, "the outcome depends on the number of threads");
    }
}

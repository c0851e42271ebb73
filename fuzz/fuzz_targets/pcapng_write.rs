//! The pcapng writer against arbitrary input: the bytes are read as a capture file
//! (as `read` does), every frame is written back with `PcapngWriter` — one interface
//! per point, the point's name, a comment cut from the input itself, timestamps and
//! interface ids as read (negative timestamps and unknown interfaces must be errors,
//! not panics) — and the written file must read back to the same frames (timestamps,
//! lengths, bytes).

#![no_main]

use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use netcap_core::capture::CaptureReader;
use netcap_core::export::pcapng::{Interface, Packet, PcapngWriter, SectionHeader, WriteError};

/// (point, ts, caplen, len, data) of one frame.
type FrameFacts = (u32, i64, u32, u32, Vec<u8>);

/// The facts of every frame of a capture, and its points (name, link type).
fn frames(bytes: Vec<u8>) -> (Vec<FrameFacts>, Vec<(String, u16)>) {
    let Ok(mut r) = CaptureReader::from_reader("fuzz", Cursor::new(bytes)) else { return (Vec::new(), Vec::new()) };
    let mut out = Vec::new();
    while let Ok(Some(f)) = r.next_frame() {
        out.push((f.point.0, f.ts_ns, f.caplen, f.len, f.data.to_vec()));
    }
    let points = r.points().iter().map(|p| (p.name.clone(), p.link_type.0)).collect();
    (out, points)
}

fuzz_target!(|data: &[u8]| {
    let (read, points) = frames(data.to_vec());
    // More interfaces than a reader accepts in one file (SLL2 points come on top of
    // the IDB cap): not a writer question.
    if points.len() > netcap_core::capture::MAX_POINTS as usize {
        return;
    }
    let comment = String::from_utf8_lossy(data.get(..data.len().min(300)).unwrap_or(&[])).into_owned();
    let shb = SectionHeader { user_appl: Some("netcap fuzz"), comment: Some(&comment) };
    let mut w = PcapngWriter::new(Vec::new(), &shb).expect("writing to memory");
    for (name, link) in &points {
        let idb = Interface { link_type: netcap_core::capture::LinkType(*link), snaplen: 0, name: Some(name), description: Some(&comment) };
        w.add_interface(&idb).expect("writing to memory");
    }
    let mut written = Vec::new();
    for (i, (point, ts, _, len, bytes)) in read.iter().enumerate() {
        let c = comment.get(..comment.len().min(i)).unwrap_or("");
        match w.write_packet(&Packet { interface: *point, ts_ns: *ts, orig_len: *len, data: bytes, comment: Some(c) }) {
            Ok(()) => written.push((*point, *ts, bytes.len() as u32, *len, bytes.clone())),
            Err(WriteError::BeforeEpoch { .. }) => assert!(*ts < 0),
            Err(e) => panic!("unexpected writer error: {e}"),
        }
    }
    let (back, _) = frames(w.into_inner());
    // Point ids are not compared: a LINUX_SLL2 interface is split into one point per
    // ifindex again when read back.
    let strip = |v: Vec<FrameFacts>| v.into_iter().map(|f| (f.1, f.2, f.3, f.4)).collect::<Vec<_>>();
    assert_eq!(strip(back), strip(written), "the written file reads back to the frames written");
});

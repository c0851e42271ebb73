//! The TCP analysis on a scripted conversation: every 12 input bytes are one segment of
//! a few connections between two hosts (raw IPv4 frames built here, decoded by the real
//! decoder), fed to an `Analyzer` with a tiny flow table (4 flows, 1 s idle timeout) so
//! that eviction, expiry and port reuse are exercised too. Checked: no panic; at most
//! one retransmission-family label per segment; `acks_frame` and `dupack_frame` name an
//! earlier frame; every frame with TCP yields an analysis; the flow records' counters
//! are consistent (subsets below their totals, packets and duplicate captures add up
//! to the frames); records serialise.
//!
//! Segment bytes: 0 direction (bit 0), connection (bits 1–2), an 802.1Q tag (bit 3; VLAN
//! id bits 4–7, so the two directions may travel different paths), 1 TCP flags, 2–3 seq
//! step (signed, from this direction's last seq), 4–5 ack step, 6 payload length / 4,
//! 7 window (0 or × 256), 8 time step in ms (× 16 when bit 7 set), 9 options (bit 0
//! timestamps, bit 1 a SACK block, bit 2 MSS+WS), 10 TSval step, 11 SACK block offset.

#![no_main]

use libfuzzer_sys::fuzz_target;
use netcap_core::capture::{Frame, LinkType, PointId};
use netcap_core::decode::Decoder;
use netcap_core::flow::table::FlowLimits;
use netcap_core::tcp::{Analyzer, Label, TcpAnalysisOptions};

fn frame_bytes(seg: &[u8; 12], state: &mut [[u32; 3]; 8]) -> Vec<u8> {
    let dir = usize::from(seg[0] & 1);
    let conn = usize::from((seg[0] >> 1) & 3);
    let s = &mut state[conn * 2 + dir];
    s[0] = s[0].wrapping_add(i16::from_be_bytes([seg[2], seg[3]]) as i32 as u32);
    s[1] = s[1].wrapping_add(i16::from_be_bytes([seg[4], seg[5]]) as i32 as u32);
    s[2] = s[2].wrapping_add(u32::from(seg[10]));
    let (seq, ack, tsval) = (s[0], s[1], s[2]);
    let mut opts = Vec::new();
    if seg[9] & 4 != 0 {
        opts.extend_from_slice(&[2, 4, 0x05, 0xb4, 1, 3, 3, 7]);
    }
    if seg[9] & 1 != 0 {
        opts.extend_from_slice(&[1, 1, 8, 10]);
        opts.extend_from_slice(&tsval.to_be_bytes());
        opts.extend_from_slice(&tsval.wrapping_sub(7).to_be_bytes());
    }
    if seg[9] & 2 != 0 {
        let left = ack.wrapping_add(u32::from(seg[11]) * 100).wrapping_sub(5000);
        opts.extend_from_slice(&[1, 1, 5, 10]);
        opts.extend_from_slice(&left.to_be_bytes());
        opts.extend_from_slice(&left.wrapping_add(1000).to_be_bytes());
    }
    let payload = usize::from(seg[6]) * 4;
    let tcp_len = 20 + opts.len() + payload;
    let total = 20 + tcp_len;
    let mut f = vec![0u8; total];
    let (a, b) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let (src, dst) = if dir == 0 { (a, b) } else { (b, a) };
    let client_port = 40000 + conn as u16;
    let (sp, dp) = if dir == 0 { (client_port, 80u16) } else { (80, client_port) };
    f[0] = 0x45;
    f[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    f[8] = 64;
    f[9] = 6;
    f[12..16].copy_from_slice(&src);
    f[16..20].copy_from_slice(&dst);
    let t = &mut f[20..];
    t[0..2].copy_from_slice(&sp.to_be_bytes());
    t[2..4].copy_from_slice(&dp.to_be_bytes());
    t[4..8].copy_from_slice(&seq.to_be_bytes());
    t[8..12].copy_from_slice(&ack.to_be_bytes());
    t[12] = (((20 + opts.len()) / 4) as u8) << 4;
    t[13] = seg[1];
    let win = if seg[7] == 0 { 0 } else { u16::from(seg[7]) << 8 };
    t[14..16].copy_from_slice(&win.to_be_bytes());
    t[20..20 + opts.len()].copy_from_slice(&opts);
    if seg[0] & 8 == 0 {
        return f;
    }
    // Ethernet + 802.1Q in front (link type 1).
    let mut e = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0, seg[0] >> 4, 0x08, 0x00];
    e.extend_from_slice(&f);
    e
}

fuzz_target!(|input: &[u8]| {
    let decoder = Decoder::default();
    let limits = FlowLimits { max_flows: 4, idle_timeout_ns: 1_000_000_000 };
    let mut a = Analyzer::new(TcpAnalysisOptions { limits });
    let mut state = [[0u32; 3]; 8];
    let mut ts: i64 = 1_700_000_000_000_000_000;
    let mut frames = 0u64;
    for (i, chunk) in input.chunks_exact(12).take(4096).enumerate() {
        let seg: &[u8; 12] = chunk.try_into().expect("12 bytes");
        let step = i64::from(seg[8] & 0x7f) * 1_000_000;
        ts += if seg[8] & 0x80 != 0 { step * 16 } else { step };
        let data = frame_bytes(seg, &mut state);
        let link = if seg[0] & 8 == 0 { LinkType(101) } else { LinkType(1) };
        let number = i as u64 + 1;
        let frame = Frame {
            number,
            point: PointId(0),
            link_type: link,
            ts_ns: ts,
            has_timestamp: true,
            caplen: data.len() as u32,
            len: data.len() as u32,
            offset: 0,
            data: &data,
        };
        let packet = decoder.decode(frame.link_type, frame.data);
        let info = a.segment(0, &frame, &packet).expect("every frame holds a whole TCP segment");
        frames += 1;
        let family = [Label::Retransmission, Label::FastRetransmission, Label::SpuriousRetransmission, Label::OutOfOrder];
        assert!(family.iter().filter(|l| info.analysis.has(**l)).count() <= 1, "two family labels: {info:?}");
        if let Some(f) = info.acks_frame {
            assert!(f < number, "acks a later frame: {info:?}");
            assert!(info.ack_rtt_ns.is_some_and(|r| r >= 0));
        }
        if let Some(f) = info.dupack_frame {
            assert!(f <= number && info.analysis.has(Label::DuplicateAck));
        }
        serde_json::to_writer(std::io::sink(), &info).expect("segment info serialises");
    }
    let mut records = a.take_finished();
    records.extend(a.finish());
    let mut packets = 0;
    for r in &records {
        for d in [&r.c2s, &r.s2c] {
            assert!(d.fast_retransmissions <= d.retransmissions, "{d:?}");
            assert!(d.spurious_retransmissions <= d.retransmissions, "{d:?}");
            assert!(d.retransmitted_bytes <= d.payload_bytes);
            assert!(d.data_segments <= d.packets);
            // A copy of the packet just sent (`duplicate_capture`) is counted apart, in
            // no other count (tcp::conn::DirStats).
            packets += d.packets + d.duplicate_captures;
        }
        assert!(r.syn.offsets_ns.len() <= r.syn.attempts as usize);
        assert!(r.first_ts_ns <= r.last_ts_ns);
        serde_json::to_writer(std::io::sink(), r).expect("flow record serialises");
    }
    assert_eq!(packets, frames, "every analysed frame is in exactly one flow record");
});

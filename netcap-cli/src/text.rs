//! Text output for people: one line per frame (`netcap packets`), and the summary.

use netcap_core::filter::{SelectionReport, TimeBound};
use std::io::{self, Write};

use netcap_core::analysis::{Names, PointInfo};
use netcap_core::capture::Frame;
use netcap_core::correlate::Report as CorrelateReport;
use netcap_core::checksum::{Status, Verdict};
use netcap_core::decode::{flag_names, mac, tcp_flags, Layer, LayerKind, Packet};
use netcap_core::summary::Report;
use netcap_core::tcp::stats::Summary as Stats;
use netcap_core::tcp::{FlowRecord, SegmentInfo};

use crate::ui::{paint, severity, Paint};
use crate::verdict::View;
use netcap_core::findings::Finding;

/// `2024-03-01 12:00:01.123456789` (UTC) for a timestamp in ns since the Unix epoch.
pub fn datetime(ts_ns: i64) -> String {
    let secs = ts_ns.div_euclid(1_000_000_000);
    let nanos = ts_ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{nanos:09}",
        tod / 3600,
        tod / 60 % 60,
        tod % 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (the well-known
/// era-of-400-years decomposition; exact for the whole i64 second range we print).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A duration in ns as seconds with ms precision (`3.027 s`).
pub fn seconds(ns: i64) -> String {
    format!("{}.{:03} s", ns / 1_000_000_000, (ns % 1_000_000_000).abs() / 1_000_000)
}

/// The verdict's own text (`csum 0xffff BAD (expected 0x3525)`), the word that makes a
/// receiver drop the frame in colour.
fn verdict(v: &Verdict) -> String {
    let text = v.to_string();
    match v.status {
        Status::Bad => text.replacen("BAD", &paint(Paint::Bad, "BAD"), 1),
        Status::IllegalZero => text.replacen("ILLEGAL", &paint(Paint::Bad, "ILLEGAL"), 1),
        _ => text,
    }
}

fn layer(l: &Layer) -> String {
    let mut s = match &l.kind {
        LayerKind::Eth { src, dst, .. } => format!("Ether {} > {}", mac(src), mac(dst)),
        LayerKind::Vlan { vid, pcp, tpid, .. } => {
            let tag = if *tpid == 0x8100 { "802.1Q" } else { "802.1ad" };
            format!("{tag} vlan {vid} p {pcp}")
        }
        LayerKind::Sll { packet_type, .. } => format!("SLL type {packet_type}"),
        LayerKind::Sll2 { ifindex, packet_type, .. } => {
            format!("SLL2 ifindex {ifindex} type {packet_type}")
        }
        LayerKind::Null { family } => format!("Null family {family}"),
        LayerKind::Ipv4 {
            src, dst, ip_id, ttl, more_fragments, frag_offset, total_len, ..
        } => {
            let mut s = format!("IP {src} > {dst} id {ip_id} ttl {ttl} len {total_len}");
            if *more_fragments || *frag_offset != 0 {
                s.push_str(&format!(
                    " frag off {frag_offset}{}",
                    if *more_fragments { "+" } else { "" }
                ));
            }
            s
        }
        LayerKind::Ipv6 { src, dst, hop_limit, payload_len, ext, fragment, .. } => {
            let mut s = format!("IP6 {src} > {dst} hlim {hop_limit} plen {payload_len}");
            if !ext.is_empty() {
                let names: Vec<String> = ext.iter().map(|n| n.to_string()).collect();
                s.push_str(&format!(" ext [{}]", names.join(",")));
            }
            if let Some((off, more, id)) = fragment {
                s.push_str(&format!(" frag id {id} off {off}{}", if *more { "+" } else { "" }));
            }
            s
        }
        LayerKind::Udp { src_port, dst_port, length, .. } => {
            format!("UDP {src_port} > {dst_port} len {length}")
        }
        LayerKind::Tcp { src_port, dst_port, seq, ack, flags, window, payload_len, .. } => {
            let mut s = format!("TCP {src_port} > {dst_port} [{}] seq {seq}", flags_short(*flags));
            if flags & tcp_flags::ACK != 0 {
                s.push_str(&format!(" ack {ack}"));
            }
            s.push_str(&format!(" win {window} len {payload_len}"));
            s
        }
        LayerKind::Icmp { icmp_type, code } => format!("ICMP type {icmp_type} code {code}"),
        LayerKind::Icmpv6 { icmp_type, code } => format!("ICMP6 type {icmp_type} code {code}"),
        LayerKind::Vxlan { vni, .. } => format!("VXLAN vni {vni}"),
        LayerKind::Geneve { vni, .. } => format!("Geneve vni {vni}"),
        LayerKind::Gre { protocol, key, .. } => {
            let mut s = format!("GRE proto {protocol:#06x}");
            if let Some(k) = key {
                s.push_str(&format!(" key {k}"));
            }
            s
        }
        LayerKind::Llc { dsap, ssap, pid: Some(pid), .. } => {
            format!("LLC {dsap:#04x} > {ssap:#04x} SNAP {pid:#06x}")
        }
        LayerKind::Llc { dsap, ssap, .. } => format!("LLC {dsap:#04x} > {ssap:#04x}"),
        LayerKind::Mpls { label, tc, bottom, ttl } => {
            format!("MPLS label {label} tc {tc}{} ttl {ttl}", if *bottom { " [S]" } else { "" })
        }
        LayerKind::PwControlWord { sequence, .. } => format!("PW control word seq {sequence}"),
        LayerKind::Pppoe { code: 0, session_id, .. } => format!("PPPoE session {session_id:#06x}"),
        LayerKind::Pppoe { code, session_id, .. } => {
            format!("PPPoE discovery code {code:#04x} session {session_id:#06x}")
        }
        LayerKind::Ppp { protocol } => format!("PPP {protocol:#06x}"),
        LayerKind::Chdlc { protocol, .. } => format!("CHDLC {protocol:#06x}"),
        LayerKind::FabricPath { ftag, ttl } => format!("FabricPath ftag {ftag} ttl {ttl}"),
        LayerKind::Erspan { erspan_type, session_id, .. } => {
            format!("ERSPAN type {erspan_type} session {session_id}")
        }
        LayerKind::Gtpu { msg_type, teid, .. } => format!("GTP-U type {msg_type} teid {teid:#x}"),
        LayerKind::Teredo { origin: Some((port, addr)), .. } => {
            format!("Teredo origin {addr}:{port}")
        }
        LayerKind::Capwap { native, .. } => {
            format!("CAPWAP data{}", if *native { " 802.11" } else { "" })
        }
        LayerKind::VxlanGpe { vni, next_protocol, .. } => {
            format!("VXLAN-GPE vni {vni} next {next_protocol}")
        }
        LayerKind::Nsh { spi, si, .. } => format!("NSH spi {spi} si {si}"),
        LayerKind::Wlan { frame_type, subtype, .. } => {
            format!("802.11 type {frame_type} subtype {subtype}")
        }
        LayerKind::Esp { spi, sequence } => format!("ESP spi {spi:#x} seq {sequence}"),
        LayerKind::Wireguard { msg_type, index } => {
            format!("WireGuard type {msg_type} index {index:#x}")
        }
        LayerKind::Arp { operation, sender_ip, target_ip, .. } => match operation {
            1 => format!("ARP who-has {target_ip} tell {sender_ip}"),
            2 => format!("ARP reply {sender_ip}"),
            op => format!("ARP op {op} {sender_ip} > {target_ip}"),
        },
        _ => l.proto().to_string(),
    };
    if let Some(v) = &l.checksum {
        s.push(' ');
        s.push_str(&verdict(v));
    }
    s
}

/// tcpdump's flag letters: S F P R U E W, and `.` for ACK.
fn flags_short(flags: u16) -> String {
    let names = flag_names(flags);
    let mut s = String::new();
    for n in names.iter().copied() {
        s.push_str(match n {
            "SYN" => "S",
            "FIN" => "F",
            "PSH" => "P",
            "RST" => "R",
            "URG" => "U",
            "ECE" => "E",
            "CWR" => "W",
            "AE" => "e",
            _ => "",
        });
    }
    if flags & tcp_flags::ACK != 0 {
        s.push('.');
    }
    if s.is_empty() {
        s.push_str("none");
    }
    s
}

/// One frame: `point frame time | layer | layer … [stop] DROP`.
pub fn packet_line(
    out: &mut impl Write,
    point: &str,
    frame: &Frame<'_>,
    packet: &Packet,
    tcp: Option<&SegmentInfo>,
) -> io::Result<()> {
    write!(out, "{point} {} {}", frame.number, datetime(frame.ts_ns))?;
    if frame.caplen < frame.len {
        write!(out, " [{}/{} bytes]", frame.caplen, frame.len)?;
    }
    let mut depth = 0;
    for l in &packet.layers {
        let sep = if l.depth > depth { " || " } else { " | " };
        depth = l.depth;
        write!(out, "{sep}{}", layer(l))?;
    }
    if let Some(s) = &packet.stop {
        match s.value {
            Some(v) => write!(out, " [stop: {} {} {v:#x}]", s.layer, s.reason)?,
            None => write!(out, " [stop: {} {}]", s.layer, s.reason)?,
        }
    }
    if let Some(d) = &packet.drop {
        write!(out, " => {}", paint(Paint::Bad, &d.to_string()))?;
    }
    if let Some(t) = tcp {
        tcp_analysis(out, t)?;
    }
    writeln!(out)
}

/// ` {flow 3 retransmission; dup ack #2 of 7; ack_rtt 1.234 ms for 5}`.
fn tcp_analysis(out: &mut impl Write, t: &SegmentInfo) -> io::Result<()> {
    let mut parts: Vec<String> = Vec::new();
    for l in t.analysis.iter() {
        match (l, t.dupack_num, t.dupack_frame) {
            (netcap_core::tcp::Label::DuplicateAck, Some(n), Some(f)) => parts.push(format!("{l} #{n} of {f}")),
            _ => parts.push(l.to_string()),
        }
    }
    if let (Some(rtt), Some(f)) = (t.ack_rtt_ns, t.acks_frame) {
        parts.push(format!("ack_rtt {} for {f}", millis(rtt)));
    }
    if parts.is_empty() {
        write!(out, " {{flow {}}}", t.flow)
    } else {
        write!(out, " {{flow {}: {}}}", t.flow, parts.join("; "))
    }
}

/// A duration in ns as milliseconds with µs precision (`1.234 ms`).
pub fn millis(ns: i64) -> String {
    let sign = if ns < 0 { "-" } else { "" };
    let us = ns.unsigned_abs() / 1000;
    format!("{sign}{}.{:03} ms", us / 1000, us % 1000)
}

fn opt_ms(ns: Option<i64>) -> String {
    ns.map_or_else(|| "-".to_string(), millis)
}

pub(crate) fn stats_line(s: &Stats) -> String {
    if s.count == 0 {
        return "no samples".to_string();
    }
    format!(
        "{} sample{}, min {} p50 {} p95 {} max {}",
        s.count,
        if s.count == 1 { "" } else { "s" },
        opt_ms(s.min_ns),
        opt_ms(s.p50_ns),
        opt_ms(s.p95_ns),
        opt_ms(s.max_ns)
    )
}

/// `netcap flows` for people: one line per flow, then details of the flows in trouble.
pub fn flows(out: &mut impl Write, flows: &[FlowRecord], trouble_only: bool, names: &Names) -> io::Result<()> {
    let shown: Vec<&FlowRecord> = flows.iter().filter(|f| !trouble_only || f.in_trouble()).collect();
    writeln!(
        out,
        "{}, {} in trouble{}",
        count(flows.len() as u64, "TCP flow"),
        flows.iter().filter(|f| f.in_trouble()).count(),
        if trouble_only { " (listed)" } else { "" }
    )?;
    if shown.is_empty() {
        return Ok(());
    }
    // The endpoints, with their names when the captures give any: the column fits them.
    let pairs: Vec<String> = shown.iter().map(|f| names.annotate(&format!("{} > {}", f.client, f.server))).collect();
    let width = pairs.iter().map(|p| p.chars().count()).max().unwrap_or(0).max(44);
    writeln!(
        out,
        "{:>5}  {:<16} {:<width$} {:<12} {:>7} {:>7} {:>9} {:>5}  {:<26} rtt p50 > / <",
        "id", "point", "client > server", "outcome", "pkts>", "pkts<", "retrans", "lost", "SYN attempts"
    )?;
    for (f, pair) in shown.iter().zip(&pairs) {
        let syn = if f.syn.attempts > 1 {
            format!(
                "{} {} {}",
                f.syn.attempts,
                f.syn.schedule.as_str(),
                f.syn.connect_delay_ns.map_or_else(|| "-".to_string(), seconds)
            )
        } else {
            f.syn.attempts.to_string()
        };
        writeln!(
            out,
            "{:>5}  {:<16} {:<width$} {:<12} {:>7} {:>7} {:>9} {:>5}  {:<26} {} / {}",
            f.id,
            f.point,
            pair,
            f.outcome.as_str(),
            f.c2s.packets,
            f.s2c.packets,
            format!("{}/{}", f.c2s.retransmissions, f.s2c.retransmissions),
            f.c2s.lost_segments + f.s2c.lost_segments,
            syn,
            dir_rtt(&f.c2s.rtt),
            dir_rtt(&f.s2c.rtt),
        )?;
    }
    for f in shown.iter().filter(|f| f.in_trouble()) {
        writeln!(out, "\nflow {} at {}: {}", f.id, f.point, names.annotate(&format!("{} > {}", f.client, f.server)))?;
        if !f.encapsulation.is_empty() {
            writeln!(out, "  encapsulation  {}", f.encapsulation)?;
        }
        writeln!(out, "  outcome        {} ({} .. {})", f.outcome.as_str(), datetime(f.first_ts_ns), datetime(f.last_ts_ns))?;
        if f.syn.attempts > 0 {
            let offs: Vec<String> = f.syn.offsets_ns.iter().map(|&o| seconds(o)).collect();
            writeln!(
                out,
                "  SYN            {} at {} ({}), connect delay {}",
                count(u64::from(f.syn.attempts), "attempt"),
                offs.join(", "),
                f.syn.schedule.as_str(),
                f.syn.connect_delay_ns.map_or_else(|| "-".to_string(), seconds)
            )?;
        }
        for (name, d) in [("client>server", &f.c2s), ("server>client", &f.s2c)] {
            writeln!(
                out,
                "  {name}  {} pkts, {} payload bytes, {} retransmissions ({} fast, {} spurious, {} bytes), {} out of order, {} lost, {} dup acks, {} zero windows",
                d.packets,
                d.payload_bytes,
                d.retransmissions,
                d.fast_retransmissions,
                d.spurious_retransmissions,
                d.retransmitted_bytes,
                d.out_of_order,
                d.lost_segments,
                d.duplicate_acks,
                d.zero_windows
            )?;
            if d.duplicate_captures > 0 {
                writeln!(
                    out,
                    "  {name}  {} frame{} captured twice (duplicate_capture): not counted above",
                    d.duplicate_captures,
                    if d.duplicate_captures == 1 { "" } else { "s" }
                )?;
            }
        }
        for (name, d) in [("client>server", &f.c2s), ("server>client", &f.s2c)] {
            writeln!(out, "  {name}  karn rtt {}", stats_line(&d.rtt.karn))?;
            writeln!(out, "  {name}  ack_rtt  {}", stats_line(&d.rtt.ack_rtt))?;
            if d.rtt.ts_echo.count > 0 {
                writeln!(out, "  {name}  ts echo  {}", stats_line(&d.rtt.ts_echo))?;
            }
        }
        if let Some(side) = side_of_path(f) {
            writeln!(out, "  rtt            {side}")?;
        }
        writeln!(
            out,
            "  handshake      SYN>SYN/ACK {}, SYN/ACK>ACK {}, initial_rtt {}",
            opt_ms(f.rtt.syn_synack_ns),
            opt_ms(f.rtt.synack_ack_ns),
            opt_ms(f.rtt.initial_rtt_ns)
        )?;
    }
    Ok(())
}

/// A direction's RTT for the flows table: its Karn p50, else its `ack_rtt` p50.
fn dir_rtt(r: &netcap_core::tcp::DirRtt) -> String {
    opt_ms(r.karn.p50_ns.or(r.ack_rtt.p50_ns))
}

/// Which side of the path the capture point is on, from the handshake's two halves
/// (SYN to SYN/ACK: the point to the server and back; SYN/ACK to ACK: the point to the
/// client and back), and what each direction's RTT measures from there.
pub fn side_of_path(f: &FlowRecord) -> Option<String> {
    let (to_server, to_client) = (f.rtt.syn_synack_ns?, f.rtt.synack_ack_ns?);
    let (near, far_dir, near_dir) = if to_server >= to_client {
        ("the client", "client>server", "server>client")
    } else {
        ("the server", "server>client", "client>server")
    };
    Some(format!(
        "{} is nearer {near} (SYN>SYN/ACK {}, SYN/ACK>ACK {}): the {far_dir} RTT spans the path beyond it and back, the {near_dir} RTT only {near}'s side",
        f.point,
        millis(to_server),
        millis(to_client)
    ))
}

/// The selection line: `Selected K of N frames read: filter '…', …`; nothing when
/// every frame was selected.
pub fn selection(out: &mut impl Write, selection: Option<&SelectionReport>, kept: u64) -> io::Result<()> {
    let Some(s) = selection else { return Ok(()) };
    let bound = |b: TimeBound| match b {
        TimeBound::At(ns) => format!("{} UTC", datetime(ns)),
        TimeBound::AfterFirst(ns) => format!("{} after the first frame", seconds(ns)),
    };
    let mut what = Vec::new();
    if let Some(f) = &s.filter {
        what.push(format!("filter '{f}'"));
    }
    if let Some(f) = &s.inner {
        what.push(format!("inner filter '{f}'"));
    }
    if let Some(b) = s.from {
        what.push(format!("from {}", bound(b)));
    }
    if let Some(b) = s.to {
        what.push(format!("before {}", bound(b)));
    }
    if let Some(n) = s.count {
        what.push(format!("the first {n}"));
    }
    writeln!(out, "Selected {kept} of {} read: {}\n", count(s.frames_read, "frame"), what.join(", "))
}

/// `1 frame`, `2 frames`: a count and its noun (English plural in -s).
pub fn count(n: u64, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// The line that opens a result a signal cut short.
pub fn interrupted_line(read: u64) -> String {
    format!("Interrupted ({}) after {} read: everything below covers only them.", crate::interrupt::signal_name(), count(read, "frame"))
}

/// Opens the text output of an interrupted run with [`interrupted_line`].
pub fn interrupted(out: &mut impl Write, outcome: &netcap_core::analysis::Outcome) -> io::Result<()> {
    if outcome.interrupted {
        writeln!(out, "{}\n", interrupted_line(outcome.read))?;
    }
    Ok(())
}

/// `netcap summary` for people: the verdict, the inventory (points, encapsulations,
/// checksums, receiver drops, decode stops, TCP health), then the findings' evidence.
pub fn summary(out: &mut impl Write, r: &Report, names: &Names, view: &View) -> io::Result<()> {
    opening(out, &r.findings, view, names, "No problems found.")?;
    match (r.first_ts_ns, r.last_ts_ns, r.duration_ns) {
        (Some(a), Some(b), Some(d)) => writeln!(
            out,
            "{}, {}, {} .. {} UTC ({})",
            count(r.frames, "frame"),
            count(r.bytes, "byte"),
            datetime(a),
            datetime(b),
            seconds(d)
        )?,
        _ => writeln!(out, "{}, {}", count(r.frames, "frame"), count(r.bytes, "byte"))?,
    }
    writeln!(out, "\nCapture points")?;
    for p in &r.points {
        let iface = p.interface.as_deref().map_or(String::new(), |i| format!(" if {i}"));
        let span = match (p.first_ts_ns, p.last_ts_ns) {
            (Some(a), Some(b)) => format!(", {}", seconds(b.saturating_sub(a))),
            _ => String::new(),
        };
        let cut = if p.snaplen_cut > 0 {
            format!(", {} cut by snaplen", p.snaplen_cut)
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {:<20} {}{iface} linktype {}: {}, {}{span}{cut}",
            p.name,
            p.file,
            p.link_type.0,
            count(p.frames, "frame"),
            count(p.bytes, "byte")
        )?;
    }
    writeln!(out, "\nEncapsulations")?;
    for e in &r.encapsulations {
        writeln!(out, "  {:>10}  {}", e.frames, e.path)?;
    }
    writeln!(out, "\nChecksums (layer@depth: verdict count, first frames)")?;
    for c in &r.checksums {
        let frames: Vec<String> =
            c.first_frames.iter().map(|f| format!("{}:{}", f.point, f.frame)).collect();
        let frames =
            if frames.is_empty() { String::new() } else { format!("  [{}]", frames.join(" ")) };
        let status = format!("{:<13}", c.status.as_str());
        let status = match c.status {
            Status::Bad | Status::IllegalZero => paint(Paint::Bad, &status),
            Status::Partial | Status::Absent => paint(Paint::Info, &status),
            _ => status,
        };
        writeln!(out, "  {:<10} {status} {:>10}{frames}", format!("{}@{}", c.proto, c.depth), c.count)?;
    }
    if !r.receiver_drops.is_empty() {
        writeln!(out, "\nA Linux receiver drops")?;
        for d in &r.receiver_drops {
            let frames: Vec<String> =
                d.first_frames.iter().map(|f| format!("{}:{}", f.point, f.frame)).collect();
            let what = format!("{:>10}: bad {}@{} checksum ({})", count(d.count, "frame"), d.layer, d.depth, d.counter);
            writeln!(out, "  {}  [{}]", paint(Paint::Bad, &what), frames.join(" "))?;
        }
    }
    if !r.stops.is_empty() {
        writeln!(out, "\nDecoding stopped")?;
        for s in &r.stops {
            let values: Vec<String> =
                s.values.iter().map(|v| format!("{:#x}×{}", v.value, v.frames)).collect();
            let values =
                if values.is_empty() { String::new() } else { format!(" ({})", values.join(", ")) };
            let frames: Vec<String> =
                s.first_frames.iter().map(|f| format!("{}:{}", f.point, f.frame)).collect();
            writeln!(
                out,
                "  {:>10}  {} {}{values}  [{}]",
                s.count,
                s.layer,
                s.reason.as_str(),
                frames.join(" ")
            )?;
        }
    }
    if let Some(t) = &r.tcp {
        writeln!(out, "\nTCP")?;
        let outcomes: Vec<String> = t.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let flows = count(t.flows, "flow");
        match t.connections {
            // One connection seen at several points is several flows.
            Some(c) if c != t.flows => writeln!(
                out,
                "  {} over the points, {flows} (one per point that saw one); flows by outcome: {}",
                count(c, "connection"),
                outcomes.join(", ")
            )?,
            _ => writeln!(out, "  {flows}: {}", outcomes.join(", "))?,
        }
        let rate = t.retransmission_rate.map_or_else(String::new, |r| format!(" ({:.2} % of the segments that carry data, SYN or FIN)", r * 100.0));
        let summed = if t.connections.is_some_and(|c| c != t.flows) { " (every point's flows together)" } else { "" };
        writeln!(
            out,
            "  retransmissions{summed} {}, {}{rate}",
            count(t.retransmissions, "segment"),
            count(t.retransmitted_bytes, "byte")
        )?;
        writeln!(out, "  RTT (Karn)     {}", stats_line(&t.rtt))?;
        writeln!(out, "  initial RTT    {}", stats_line(&t.initial_rtt))?;
        if t.syn_retried > 0 {
            let d = &t.syn_retry_connect_delay;
            let connected = match (d.count, d.min_ns, d.p50_ns, d.max_ns) {
                (0, ..) => "none connected".to_string(),
                (n, Some(min), Some(p50), Some(max)) => format!(
                    "{n} connected after {}{}",
                    if n == 1 { String::new() } else { format!("min {} p50 {} max ", seconds(min), seconds(p50)) },
                    seconds(if n == 1 { min } else { max })
                ),
                (n, ..) => format!("{n} connected"),
            };
            let failed = t.syn_retried - d.count;
            let failed = if failed > 0 && d.count > 0 { format!(", {failed} did not") } else { String::new() };
            writeln!(out, "  SYN retried in {}: {connected}{failed}", count(t.syn_retried, "connection"))?;
        }
        if t.table.evicted + t.table.expired > 0 {
            writeln!(out, "  flow table: {} expired, {} evicted (limits: --max-flows, --flow-timeout)", t.table.expired, t.table.evicted)?;
        }
        if t.table.not_kept > 0 {
            writeln!(out, "  flow records: {} analysed but not kept (more than --max-flow-records)", t.table.not_kept)?;
        }
        if !t.worst.is_empty() {
            writeln!(out, "  flows in trouble (worst first):")?;
            for w in &t.worst {
                let delay = w.connect_delay_ns.map_or_else(String::new, |d| format!(", connect delay {}", seconds(d)));
                let line = format!(
                    "flow {} at {}: {} > {}: {}, {} retransmissions, SYN attempts {}{delay}",
                    w.id, w.point, w.client, w.server, w.outcome, w.retransmissions, w.syn_attempts
                );
                writeln!(out, "    {}", names.annotate(&line))?;
            }
        }
    }
    if !r.skipped_link_types.is_empty() {
        writeln!(out, "\nLink types not decoded")?;
        for l in &r.skipped_link_types {
            writeln!(out, "  {:>10}  linktype {}", l.frames, l.link_type.0)?;
        }
    }
    findings(out, &r.findings, names, view)
}

/// `netcap correlate` for people: the verdict, the points, each pair of adjacent
/// points, then the findings with their evidence frames and a hint.
pub fn correlate(out: &mut impl Write, points: &[PointInfo], report: &CorrelateReport, names: &Names, view: &View) -> io::Result<()> {
    let clean = if points.len() > 1 {
        "No problems found: every packet was seen at every point on its path."
    } else {
        "No problems found."
    };
    opening(out, &report.findings, view, names, clean)?;
    writeln!(out, "Capture points")?;
    for p in points {
        let off = clock(p).map_or(String::new(), |c| format!(", clock {c}"));
        // A point read from several files: how many, and where time is missing.
        let files = if p.files.is_empty() {
            String::new()
        } else {
            let gaps: Vec<String> = p
                .files
                .windows(2)
                .filter_map(|w| Some(w[1].first_ts_ns?.saturating_sub(w[0].last_ts_ns?)))
                .filter(|&g| g > 1_000_000_000)
                .map(seconds)
                .collect();
            let gaps = if gaps.is_empty() { String::new() } else { format!(" (gaps of {})", gaps.join(", ")) };
            format!(" from {} files{gaps}", p.files.len())
        };
        let os = p.os.as_deref().map_or(String::new(), |o| format!(", written on {o}"));
        writeln!(out, "  {:<20} {} linktype {}: {}{files}{os}{off}", p.name, p.file, p.link_type.0, count(p.frames, "frame"))?;
    }
    for n in &report.notes {
        writeln!(out, "\nNote: {n}.")?;
    }
    writeln!(out, "\nPaths (upstream first)")?;
    let directions: Vec<String> = report.paths.iter().map(|p| names.annotate(&p.direction)).collect();
    let width = directions.iter().map(|d| d.chars().count()).max().unwrap_or(0).max(36);
    for (p, direction) in report.paths.iter().zip(&directions) {
        writeln!(out, "  {direction:<width$} {}", p.points.join(" > "))?;
    }
    writeln!(out, "\nBetween points, along the paths (upstream > downstream): matched, lost, appeared, duplicated, reordered, one-way delay")?;
    if report.notes.iter().any(|n| n.contains("super-frames")) {
        // A point holding super-frames has fewer frames than the packets it matched.
        writeln!(out, "  (packets on the wire: a TSO/GSO/GRO super-frame counts once per segment it carries)")?;
    }
    for r in &report.pairs {
        let d = &r.delay_ns;
        let delay = match (d.min, d.p50, d.p99, d.max) {
            (Some(a), Some(b), Some(c), Some(e)) => {
                format!("min {} p50 {} p99 {} max {}", millis(a), millis(b), millis(c), millis(e))
            }
            _ => "-".to_string(),
        };
        writeln!(
            out,
            "  {:<20} > {:<20} {:>8} {:>6} {:>6} {:>6} {:>6}  {delay}",
            r.from, r.to, r.matched, r.lost, r.appeared, r.duplicated, r.reordered
        )?;
    }
    if let Some(rows) = &report.packets {
        writeln!(out, "\nPackets (seen at point:frame, in path order; missing)")?;
        for r in rows {
            let seen: Vec<String> = r
                .seen
                .iter()
                .map(|s| format!("{}:{}{}", s.point, s.frame, if s.by == "bytes" { "(bytes)" } else { "" }))
                .collect();
            let missing = if r.missing.is_empty() { String::new() } else { format!("  MISSING at {}", r.missing.join(", ")) };
            writeln!(out, "  {}  {}{missing}", names.annotate(&r.flow), seen.join(" "))?;
        }
    }
    findings(out, &report.findings, names, view)
}

/// A point's clock in words: `shared with the first point (estimate 0.001 ms ± 0.002
/// ms)`, `ahead by X ± U: −X applied`, `offset X (given)`; `None` for the reference
/// point (no estimate, nothing applied).
pub fn clock(p: &PointInfo) -> Option<String> {
    match (&p.clock_estimate, p.clock_offset_ns) {
        (Some(e), 0) => Some(format!("shared with the first point (estimate {} ± {})", millis(e.offset_ns), millis(e.uncertainty_ns))),
        (Some(e), o) => Some(format!("ahead by {} ± {}: {} applied", millis(e.offset_ns), millis(e.uncertainty_ns), millis(o))),
        (None, 0) => None,
        (None, o) => Some(format!("offset {} (given)", millis(o))),
    }
}

/// The verdict that opens the text: one line per finding shown, errors first
/// ([`crate::verdict::lines`]), or `clean` when there is none.
pub fn opening(out: &mut impl Write, list: &[Finding], view: &View, names: &Names, clean: &str) -> io::Result<()> {
    let (lines, hidden) = crate::verdict::lines(list, view);
    let hidden_note = if hidden == 0 {
        String::new()
    } else {
        format!(" ({hidden} less severe hidden by --min-severity)")
    };
    let tally = crate::verdict::tally(list, view);
    match crate::verdict::Opening::of(&lines, list) {
        crate::verdict::Opening::Clean => return writeln!(out, "{clean}{hidden_note}\n"),
        crate::verdict::Opening::NoneAtLevel => {
            return writeln!(out, "No findings at --min-severity {} or worse.{hidden_note}\n", view.min_severity.name())
        }
        // Nothing wrong, only notes.
        crate::verdict::Opening::OnlyInfo => writeln!(out, "{}; {tally}:", clean.trim_end_matches('.'))?,
        crate::verdict::Opening::Tally(_) => writeln!(out, "Verdict: {tally}{hidden_note}")?,
    }
    for l in &lines {
        let number = if l.numbers.len() == 1 { format!("{}.", l.numbers[0]) } else { "-".to_string() };
        writeln!(out, "  {number:>3} [{}] {}", severity(l.severity), names.annotate(&l.text()))?;
    }
    writeln!(out)
}

/// The findings shown with their evidence frames and hint, worst first, numbered as
/// `correlate` numbers them; information findings are in the verdict only unless
/// `--verbose`.
fn findings(out: &mut impl Write, list: &[Finding], names: &Names, view: &View) -> io::Result<()> {
    let shown = crate::verdict::shown(list, view);
    if shown.is_empty() {
        return Ok(());
    }
    writeln!(out, "\nFindings")?;
    let mut folded = Vec::new();
    for (n, f) in shown {
        if !crate::verdict::unfolded(f, view) {
            folded.push(n.to_string());
            continue;
        }
        writeln!(out, "  {n}. [{}] {}: {}", severity(f.severity), f.kind, names.annotate(&f.summary))?;
        for (i, seen) in f.frames.iter().enumerate() {
            let at: Vec<String> = seen.iter().map(|r| format!("{}:{}", r.point, r.frame)).collect();
            writeln!(out, "     packet {}: seen at {}", i + 1, at.join(", "))?;
        }
        writeln!(out, "     hint: {}", f.hint)?;
    }
    if !folded.is_empty() {
        let (noun, verb) = if folded.len() == 1 { ("finding", "is") } else { ("findings", "are") };
        writeln!(
            out,
            "  Information {noun} {} {verb} in the verdict; --verbose lists {} frames and hint{}.",
            folded.join(", "),
            if folded.len() == 1 { "its" } else { "their" },
            if folded.len() == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetime_matches_known_instants() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00.000000000");
        // date -u -d @1700000000 → Tue Nov 14 22:13:20 UTC 2023
        assert_eq!(datetime(1_700_000_000_123_456_789), "2023-11-14 22:13:20.123456789");
        // 2000-02-29 (leap day) 12:00:00 = 951825600
        assert_eq!(datetime(951_825_600_000_000_000), "2000-02-29 12:00:00.000000000");
        assert_eq!(datetime(-1), "1969-12-31 23:59:59.999999999");
    }
}

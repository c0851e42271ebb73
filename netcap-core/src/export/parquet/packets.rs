//! The `packets` table: one row per frame, its layer stack, the innermost flow, the
//! TCP flags (bits and names, as `flags` and `flag_names` in `netcap packets --format
//! json`), the TCP analysis and every checksum verdict (`docs/parquet.md`, "packets").

use std::fmt::Write as _;
use std::net::IpAddr;

use arrow_array::builder::{
    BooleanBuilder, Int64Builder, ListBuilder, StringBuilder, TimestampNanosecondBuilder, UInt16Builder, UInt32Builder,
    UInt64Builder, UInt8Builder,
};

use arrow_schema::ArrowError;

use super::{optional, required, Column, Offsets, Table};
use crate::capture::Frame;
use crate::decode::{LayerKind, Packet, FLAG_NAMES};
use crate::tcp::SegmentInfo;

/// One frame to append.
#[derive(Debug, Clone, Copy)]
pub struct PacketRow<'a> {
    /// The point's name.
    pub point: &'a str,
    /// The file the point is in.
    pub file: &'a str,
    /// `frame.ts_ns` as captured (no clock offset added).
    pub frame: &'a Frame<'a>,
    /// Offset added to the point's timestamps to bring it onto the first point's
    /// clock (`netcap correlate`'s `clock_offset_ns`).
    pub clock_offset_ns: i64,
    /// The frame decoded: its layers, checksum verdicts, stop, drop.
    pub packet: &'a Packet,
    /// What the TCP analysis said about the frame's segment, if it holds one.
    pub tcp: Option<&'a SegmentInfo>,
}

/// Builder of the `packets` table.
#[derive(Debug)]
pub struct Packets {
    rows: usize,
    point: StringBuilder,
    file: StringBuilder,
    frame: UInt64Builder,
    offset: UInt64Builder,
    ts: TimestampNanosecondBuilder,
    clock_offset_ns: Int64Builder,
    caplen: UInt32Builder,
    len: UInt32Builder,
    link_type: UInt16Builder,
    layers: StringBuilder,
    depth: UInt8Builder,
    outer_src: StringBuilder,
    outer_dst: StringBuilder,
    vni: UInt32Builder,
    src: StringBuilder,
    dst: StringBuilder,
    ip_proto: UInt8Builder,
    src_port: UInt16Builder,
    dst_port: UInt16Builder,
    tcp_flags: UInt16Builder,
    tcp_flag_names: ListBuilder<StringBuilder>,
    tcp_seq: UInt32Builder,
    tcp_ack: UInt32Builder,
    payload_len: UInt32Builder,
    tcp_flow: UInt64Builder,
    tcp_labels: ListBuilder<StringBuilder>,
    is_retransmission: BooleanBuilder,
    receiver_accepts: BooleanBuilder,
    drop_layer: StringBuilder,
    drop_depth: UInt8Builder,
    drop_counter: StringBuilder,
    stop_layer: StringBuilder,
    stop_reason: StringBuilder,
    stop_value: UInt32Builder,
    stop_offset: UInt32Builder,
    checksums: Offsets,
    cs_layer: StringBuilder,
    cs_depth: UInt8Builder,
    cs_status: StringBuilder,
    cs_stored: UInt16Builder,
    cs_expected: UInt16Builder,
    cs_values: usize,
    /// Scratch text, reused row after row.
    text: String,
    addresses: AddressText,
}

impl Default for Packets {
    fn default() -> Self {
        Packets {
            rows: 0,
            point: StringBuilder::new(),
            file: StringBuilder::new(),
            frame: UInt64Builder::new(),
            offset: UInt64Builder::new(),
            ts: TimestampNanosecondBuilder::new().with_timezone("UTC"),
            clock_offset_ns: Int64Builder::new(),
            caplen: UInt32Builder::new(),
            len: UInt32Builder::new(),
            link_type: UInt16Builder::new(),
            layers: StringBuilder::new(),
            depth: UInt8Builder::new(),
            outer_src: StringBuilder::new(),
            outer_dst: StringBuilder::new(),
            vni: UInt32Builder::new(),
            src: StringBuilder::new(),
            dst: StringBuilder::new(),
            ip_proto: UInt8Builder::new(),
            src_port: UInt16Builder::new(),
            dst_port: UInt16Builder::new(),
            tcp_flags: UInt16Builder::new(),
            tcp_flag_names: ListBuilder::new(StringBuilder::new()),
            tcp_seq: UInt32Builder::new(),
            tcp_ack: UInt32Builder::new(),
            payload_len: UInt32Builder::new(),
            tcp_flow: UInt64Builder::new(),
            tcp_labels: ListBuilder::new(StringBuilder::new()),
            is_retransmission: BooleanBuilder::new(),
            receiver_accepts: BooleanBuilder::new(),
            drop_layer: StringBuilder::new(),
            drop_depth: UInt8Builder::new(),
            drop_counter: StringBuilder::new(),
            stop_layer: StringBuilder::new(),
            stop_reason: StringBuilder::new(),
            stop_value: UInt32Builder::new(),
            stop_offset: UInt32Builder::new(),
            checksums: Offsets::default(),
            cs_layer: StringBuilder::new(),
            cs_depth: UInt8Builder::new(),
            cs_status: StringBuilder::new(),
            cs_stored: UInt16Builder::new(),
            cs_expected: UInt16Builder::new(),
            cs_values: 0,
            text: String::new(),
            addresses: AddressText::default(),
        }
    }
}

impl Packets {
    /// Appends one frame's row; its `offset` is null ([`Packets::append_at`] says it).
    pub fn append(&mut self, r: &PacketRow<'_>) {
        self.append_row(r, None);
    }

    /// Appends one frame's row with `offset`, where the frame's bytes start in its file
    /// (in the decompressed stream of a compressed file):
    /// [`crate::analysis::FrameEvent::data_offset`].
    pub fn append_at(&mut self, r: &PacketRow<'_>, offset: u64) {
        self.append_row(r, Some(offset));
    }

    fn append_row(&mut self, r: &PacketRow<'_>, offset: Option<u64>) {
        let (frame, packet) = (r.frame, r.packet);
        let layers = &packet.layers;
        self.rows += 1;
        self.point.append_value(r.point);
        self.file.append_value(r.file);
        self.frame.append_value(frame.number);
        self.offset.append_option(offset);
        self.ts.append_option(frame.has_timestamp.then_some(frame.ts_ns));
        self.clock_offset_ns.append_value(r.clock_offset_ns);
        self.caplen.append_value(frame.caplen);
        self.len.append_value(frame.len);
        self.link_type.append_value(frame.link_type.0);

        self.text.clear();
        for (i, l) in layers.iter().enumerate() {
            if i > 0 {
                self.text.push('/');
            }
            self.text.push_str(l.proto());
        }
        self.layers.append_value(&self.text);
        self.depth.append_value(packet.depth());

        // Innermost IP header, and the outermost when a tunnel wraps it.
        let ip = |(i, l): (usize, &crate::decode::Layer)| match l.kind {
            LayerKind::Ipv4 { src, dst, proto, .. } => Some((i, IpAddr::V4(src), IpAddr::V4(dst), proto.0)),
            LayerKind::Ipv6 { src, dst, proto, .. } => Some((i, IpAddr::V6(src), IpAddr::V6(dst), proto.0)),
            _ => None,
        };
        // The frame's own layers: not the packet an ICMP error quotes.
        let own = packet.own_layers();
        let inner = own.iter().enumerate().rev().find_map(ip);
        let outer = layers.iter().enumerate().find_map(ip).filter(|o| inner.is_some_and(|i| i.0 != o.0));
        append_ip(&mut self.outer_src, &mut self.addresses, outer.map(|o| o.1));
        append_ip(&mut self.outer_dst, &mut self.addresses, outer.map(|o| o.2));
        self.vni.append_option(layers.iter().find_map(|l| match l.kind {
            LayerKind::Vxlan { vni, .. } | LayerKind::Geneve { vni, .. } => Some(vni),
            _ => None,
        }));
        append_ip(&mut self.src, &mut self.addresses, inner.map(|i| i.1));
        append_ip(&mut self.dst, &mut self.addresses, inner.map(|i| i.2));
        self.ip_proto.append_option(inner.map(|i| i.3));
        let transport = inner.and_then(|i| layers.get(i.0 + 1)).map(|l| &l.kind);
        let (ports, tcp, payload) = match transport {
            Some(&LayerKind::Tcp { src_port, dst_port, seq, ack, flags, payload_len, .. }) => {
                (Some((src_port, dst_port)), Some((flags, seq, ack)), Some(payload_len))
            }
            Some(&LayerKind::Udp { src_port, dst_port, payload_len, .. }) => (Some((src_port, dst_port)), None, Some(payload_len)),
            _ => (None, None, None),
        };
        self.src_port.append_option(ports.map(|p| p.0));
        self.dst_port.append_option(ports.map(|p| p.1));
        self.tcp_flags.append_option(tcp.map(|t| t.0));
        match tcp {
            Some((flags, ..)) => {
                for (_, name) in FLAG_NAMES.iter().filter(|(bit, _)| flags & bit != 0) {
                    self.tcp_flag_names.values().append_value(name);
                }
                self.tcp_flag_names.append(true);
            }
            None => self.tcp_flag_names.append(false),
        }
        self.tcp_seq.append_option(tcp.map(|t| t.1));
        self.tcp_ack.append_option(tcp.map(|t| t.2));
        self.payload_len.append_option(payload);

        self.tcp_flow.append_option(r.tcp.map(|t| t.flow));
        self.is_retransmission.append_option(r.tcp.map(|t| t.analysis.is_retransmission()));
        match r.tcp {
            Some(t) => {
                for l in t.analysis.iter() {
                    self.tcp_labels.values().append_value(l.name());
                }
                self.tcp_labels.append(true);
            }
            None => self.tcp_labels.append(false),
        }

        self.receiver_accepts.append_value(packet.receiver_accepts());
        self.drop_layer.append_option(packet.drop.map(|d| d.layer));
        self.drop_depth.append_option(packet.drop.map(|d| d.depth));
        self.drop_counter.append_option(packet.drop.map(|d| d.counter));
        self.stop_layer.append_option(packet.stop.map(|s| s.layer));
        self.stop_reason.append_option(packet.stop.map(|s| s.reason.as_str()));
        self.stop_value.append_option(packet.stop.and_then(|s| s.value));
        self.stop_offset.append_option(packet.stop.map(|s| s.offset));

        for l in layers {
            let Some(v) = l.checksum else { continue };
            self.cs_layer.append_value(l.proto());
            self.cs_depth.append_value(l.depth);
            self.cs_status.append_value(v.status.as_str());
            self.cs_stored.append_value(v.stored);
            self.cs_expected.append_option(v.expected);
            self.cs_values += 1;
        }
        self.checksums.end_row(self.cs_values);
    }
}

/// Addresses as text, kept for the next rows: a capture repeats few addresses, and
/// formatting one is most of a row's cost.
#[derive(Debug, Default)]
pub(crate) struct AddressText(crate::CaptureKeyed<IpAddr, String>);

/// Addresses kept at most; past it the cache starts over.
const ADDRESS_TEXTS: usize = 4096;

impl AddressText {
    fn get(&mut self, ip: IpAddr) -> &str {
        if self.0.len() >= ADDRESS_TEXTS && !self.0.contains_key(&ip) {
            self.0.clear();
        }
        self.0.entry(ip).or_insert_with(|| {
            let mut text = String::new();
            let _ = write!(text, "{ip}");
            text
        })
    }
}

fn append_ip(b: &mut StringBuilder, texts: &mut AddressText, ip: Option<IpAddr>) {
    match ip {
        Some(ip) => b.append_value(texts.get(ip)),
        None => b.append_null(),
    }
}

impl Table for Packets {
    const NAME: &'static str = "packets";

    fn len(&self) -> usize {
        self.rows
    }

    fn columns(&mut self) -> Result<Vec<Column>, ArrowError> {
        self.rows = 0;
        self.cs_values = 0;
        let checksums = self
            .checksums
            .list_of_struct(vec![
                required("layer", self.cs_layer.finish()),
                required("depth", self.cs_depth.finish()),
                required("status", self.cs_status.finish()),
                required("stored", self.cs_stored.finish()),
                optional("expected", self.cs_expected.finish()),
            ])?;
        Ok(vec![
            required("point", self.point.finish()),
            required("file", self.file.finish()),
            required("frame", self.frame.finish()),
            optional("offset", self.offset.finish()),
            optional("ts", self.ts.finish()),
            required("clock_offset_ns", self.clock_offset_ns.finish()),
            required("caplen", self.caplen.finish()),
            required("len", self.len.finish()),
            required("link_type", self.link_type.finish()),
            required("layers", self.layers.finish()),
            required("depth", self.depth.finish()),
            optional("outer_src", self.outer_src.finish()),
            optional("outer_dst", self.outer_dst.finish()),
            optional("vni", self.vni.finish()),
            optional("src", self.src.finish()),
            optional("dst", self.dst.finish()),
            optional("ip_proto", self.ip_proto.finish()),
            optional("src_port", self.src_port.finish()),
            optional("dst_port", self.dst_port.finish()),
            optional("tcp_flags", self.tcp_flags.finish()),
            optional("tcp_flag_names", self.tcp_flag_names.finish()),
            optional("tcp_seq", self.tcp_seq.finish()),
            optional("tcp_ack", self.tcp_ack.finish()),
            optional("payload_len", self.payload_len.finish()),
            optional("tcp_flow", self.tcp_flow.finish()),
            optional("tcp_labels", self.tcp_labels.finish()),
            optional("is_retransmission", self.is_retransmission.finish()),
            required("receiver_accepts", self.receiver_accepts.finish()),
            optional("drop_layer", self.drop_layer.finish()),
            optional("drop_depth", self.drop_depth.finish()),
            optional("drop_counter", self.drop_counter.finish()),
            optional("stop_layer", self.stop_layer.finish()),
            optional("stop_reason", self.stop_reason.finish()),
            optional("stop_value", self.stop_value.finish()),
            optional("stop_offset", self.stop_offset.finish()),
            Column { name: "checksums", values: checksums, nullable: false },
        ])
    }
}

//! JSON shape of a decoded layer (documented field by field in `docs/output.md`).
//!
//! Every layer is one flat object: `proto`, `depth`, `offset`, `header_len`, the
//! protocol's own fields, and `checksum: {status, stored, expected}` for the layers
//! that carry one. Addresses are strings; numbers stay numbers.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::layer::{tcp_flags, Layer, LayerKind};

/// `aa:bb:cc:dd:ee:ff`.
pub fn mac(m: &[u8]) -> String {
    let mut s = String::with_capacity(m.len() * 3);
    for (i, b) in m.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Every TCP flag bit with its name, lowest bit first: the order of [`flag_names`].
pub const FLAG_NAMES: [(u16, &str); 9] = [
    (tcp_flags::FIN, "FIN"),
    (tcp_flags::SYN, "SYN"),
    (tcp_flags::RST, "RST"),
    (tcp_flags::PSH, "PSH"),
    (tcp_flags::ACK, "ACK"),
    (tcp_flags::URG, "URG"),
    (tcp_flags::ECE, "ECE"),
    (tcp_flags::CWR, "CWR"),
    (tcp_flags::AE, "AE"),
];

/// The names of the TCP flags set, lowest bit first (`["SYN", "ACK"]`): `flag_names`
/// in `netcap packets --format json`, `tcp_flag_names` in the Parquet `packets` table.
pub fn flag_names(flags: u16) -> Vec<&'static str> {
    FLAG_NAMES.into_iter().filter(|(bit, _)| flags & bit != 0).map(|(_, n)| n).collect()
}

impl Serialize for Layer {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("proto", self.proto())?;
        m.serialize_entry("depth", &self.depth)?;
        m.serialize_entry("offset", &self.offset)?;
        m.serialize_entry("header_len", &self.header_len)?;
        match &self.kind {
            LayerKind::Eth { src, dst, ethertype } => {
                m.serialize_entry("src", &mac(src))?;
                m.serialize_entry("dst", &mac(dst))?;
                m.serialize_entry("ethertype", &ethertype.0)?;
            }
            LayerKind::Vlan { tpid, pcp, dei, vid, ethertype } => {
                m.serialize_entry("tpid", tpid)?;
                m.serialize_entry("vid", vid)?;
                m.serialize_entry("pcp", pcp)?;
                m.serialize_entry("dei", dei)?;
                m.serialize_entry("ethertype", &ethertype.0)?;
            }
            LayerKind::Sll { packet_type, arphrd, addr, addr_len, protocol } => {
                m.serialize_entry("packet_type", packet_type)?;
                m.serialize_entry("arphrd", arphrd)?;
                m.serialize_entry("addr", &mac(&addr[..usize::from(*addr_len).min(8)]))?;
                m.serialize_entry("protocol", protocol)?;
            }
            LayerKind::Sll2 { protocol, ifindex, arphrd, packet_type, addr, addr_len } => {
                m.serialize_entry("protocol", protocol)?;
                m.serialize_entry("ifindex", ifindex)?;
                m.serialize_entry("arphrd", arphrd)?;
                m.serialize_entry("packet_type", packet_type)?;
                m.serialize_entry("addr", &mac(&addr[..usize::from(*addr_len).min(8)]))?;
            }
            LayerKind::Null { family } => m.serialize_entry("family", family)?,
            LayerKind::Ipv4 {
                src,
                dst,
                tos,
                total_len,
                ip_id,
                dont_fragment,
                more_fragments,
                frag_offset,
                ttl,
                proto,
            } => {
                m.serialize_entry("src", src)?;
                m.serialize_entry("dst", dst)?;
                m.serialize_entry("tos", tos)?;
                m.serialize_entry("total_len", total_len)?;
                m.serialize_entry("ip_id", ip_id)?;
                m.serialize_entry("df", dont_fragment)?;
                m.serialize_entry("mf", more_fragments)?;
                m.serialize_entry("frag_offset", frag_offset)?;
                m.serialize_entry("ttl", ttl)?;
                m.serialize_entry("protocol", &proto.0)?;
            }
            LayerKind::Ipv6 {
                src,
                dst,
                traffic_class,
                flow_label,
                payload_len,
                hop_limit,
                proto,
                ext,
                fragment,
                pseudo_src,
                pseudo_dst,
            } => {
                m.serialize_entry("src", src)?;
                m.serialize_entry("dst", dst)?;
                m.serialize_entry("traffic_class", traffic_class)?;
                m.serialize_entry("flow_label", flow_label)?;
                m.serialize_entry("payload_len", payload_len)?;
                m.serialize_entry("hop_limit", hop_limit)?;
                m.serialize_entry("protocol", &proto.0)?;
                m.serialize_entry("ext", &**ext)?;
                #[derive(serde::Serialize)]
                struct Frag {
                    offset: u16,
                    more: bool,
                    id: u32,
                }
                let frag = fragment.map(|(offset, more, id)| Frag { offset, more, id });
                m.serialize_entry("fragment", &frag)?;
                m.serialize_entry("pseudo_src", pseudo_src)?;
                m.serialize_entry("pseudo_dst", pseudo_dst)?;
            }
            LayerKind::Udp { src_port, dst_port, length, payload_len } => {
                m.serialize_entry("src_port", src_port)?;
                m.serialize_entry("dst_port", dst_port)?;
                m.serialize_entry("length", length)?;
                m.serialize_entry("payload_len", payload_len)?;
            }
            LayerKind::Tcp {
                src_port,
                dst_port,
                seq,
                ack,
                flags,
                window,
                urgent,
                options,
                payload_len,
            } => {
                m.serialize_entry("src_port", src_port)?;
                m.serialize_entry("dst_port", dst_port)?;
                m.serialize_entry("seq", seq)?;
                m.serialize_entry("ack", ack)?;
                m.serialize_entry("flags", flags)?;
                m.serialize_entry("flag_names", &flag_names(*flags))?;
                m.serialize_entry("window", window)?;
                m.serialize_entry("urgent", urgent)?;
                m.serialize_entry("options", options)?;
                m.serialize_entry("payload_len", payload_len)?;
            }
            LayerKind::Icmp { icmp_type, code } | LayerKind::Icmpv6 { icmp_type, code } => {
                m.serialize_entry("type", icmp_type)?;
                m.serialize_entry("code", code)?;
            }
            LayerKind::Vxlan { flags, vni } => {
                m.serialize_entry("flags", flags)?;
                m.serialize_entry("vni", vni)?;
            }
            LayerKind::Geneve { vni, protocol, options_len, oam, critical } => {
                m.serialize_entry("vni", vni)?;
                m.serialize_entry("protocol", protocol)?;
                m.serialize_entry("options_len", options_len)?;
                m.serialize_entry("oam", oam)?;
                m.serialize_entry("critical", critical)?;
            }
            LayerKind::Gre { version, protocol, key, sequence, has_checksum } => {
                m.serialize_entry("version", version)?;
                m.serialize_entry("protocol", protocol)?;
                m.serialize_entry("key", key)?;
                m.serialize_entry("sequence", sequence)?;
                m.serialize_entry("checksum_present", has_checksum)?;
            }
            LayerKind::Arp { operation, sender_ip, target_ip, sender_mac, target_mac } => {
                m.serialize_entry("operation", operation)?;
                m.serialize_entry("sender_mac", &mac(sender_mac))?;
                m.serialize_entry("sender_ip", sender_ip)?;
                m.serialize_entry("target_mac", &mac(target_mac))?;
                m.serialize_entry("target_ip", target_ip)?;
            }
            LayerKind::Llc { dsap, ssap, control, oui, pid } => {
                m.serialize_entry("dsap", dsap)?;
                m.serialize_entry("ssap", ssap)?;
                m.serialize_entry("control", control)?;
                m.serialize_entry("oui", &oui.map(|o| mac(&o)))?;
                m.serialize_entry("pid", pid)?;
            }
            LayerKind::Mpls { label, tc, bottom, ttl } => {
                m.serialize_entry("label", label)?;
                m.serialize_entry("tc", tc)?;
                m.serialize_entry("bottom", bottom)?;
                m.serialize_entry("ttl", ttl)?;
            }
            LayerKind::PwControlWord { flags, sequence } => {
                m.serialize_entry("flags", flags)?;
                m.serialize_entry("sequence", sequence)?;
            }
            LayerKind::Pppoe { code, session_id, length } => {
                m.serialize_entry("code", code)?;
                m.serialize_entry("session_id", session_id)?;
                m.serialize_entry("length", length)?;
            }
            LayerKind::Ppp { protocol } => m.serialize_entry("protocol", protocol)?,
            LayerKind::Chdlc { address, protocol } => {
                m.serialize_entry("address", address)?;
                m.serialize_entry("protocol", protocol)?;
            }
            LayerKind::FabricPath { ftag, ttl } => {
                m.serialize_entry("ftag", ftag)?;
                m.serialize_entry("ttl", ttl)?;
            }
            LayerKind::Erspan { erspan_type, session_id, vlan, timestamp } => {
                m.serialize_entry("type", erspan_type)?;
                m.serialize_entry("session_id", session_id)?;
                m.serialize_entry("vlan", vlan)?;
                m.serialize_entry("timestamp", timestamp)?;
            }
            LayerKind::Gtpu { msg_type, teid, ext } => {
                m.serialize_entry("msg_type", msg_type)?;
                m.serialize_entry("teid", teid)?;
                m.serialize_entry("ext", &**ext)?;
            }
            LayerKind::Teredo { origin, auth } => {
                m.serialize_entry("origin_port", &origin.map(|o| o.0))?;
                m.serialize_entry("origin_addr", &origin.map(|o| o.1))?;
                m.serialize_entry("auth", auth)?;
            }
            LayerKind::Capwap { hlen, wbid, native } => {
                m.serialize_entry("hlen", hlen)?;
                m.serialize_entry("wbid", wbid)?;
                m.serialize_entry("native", native)?;
            }
            LayerKind::Ayiya { next_header, opcode } => {
                m.serialize_entry("next_header", next_header)?;
                m.serialize_entry("opcode", opcode)?;
            }
            LayerKind::VxlanGpe { flags, next_protocol, vni } => {
                m.serialize_entry("flags", flags)?;
                m.serialize_entry("next_protocol", next_protocol)?;
                m.serialize_entry("vni", vni)?;
            }
            LayerKind::Nsh { md_type, next_protocol, spi, si } => {
                m.serialize_entry("md_type", md_type)?;
                m.serialize_entry("next_protocol", next_protocol)?;
                m.serialize_entry("spi", spi)?;
                m.serialize_entry("si", si)?;
            }
            LayerKind::Radiotap { flags, fcs } => {
                m.serialize_entry("flags", flags)?;
                m.serialize_entry("fcs", fcs)?;
            }
            LayerKind::Ppi { dlt } => m.serialize_entry("dlt", dlt)?,
            LayerKind::Wlan { frame_type, subtype, flags, addr1, addr2 } => {
                m.serialize_entry("frame_type", frame_type)?;
                m.serialize_entry("subtype", subtype)?;
                m.serialize_entry("flags", flags)?;
                m.serialize_entry("addr1", &mac(addr1))?;
                m.serialize_entry("addr2", &mac(addr2))?;
            }
            LayerKind::Ipoib { protocol } => m.serialize_entry("protocol", protocol)?,
            LayerKind::Nflog { family, resource_id } => {
                m.serialize_entry("family", family)?;
                m.serialize_entry("resource_id", resource_id)?;
            }
            LayerKind::Esp { spi, sequence } => {
                m.serialize_entry("spi", spi)?;
                m.serialize_entry("sequence", sequence)?;
            }
            LayerKind::VnTag { tag, ethertype } => {
                m.serialize_entry("tag", tag)?;
                m.serialize_entry("ethertype", &ethertype.0)?;
            }
            LayerKind::ETag { tag, ethertype } => {
                m.serialize_entry("tag", tag)?;
                m.serialize_entry("ethertype", &ethertype.0)?;
            }
            LayerKind::Macsec { tci_an, pn, sci } => {
                m.serialize_entry("tci_an", tci_an)?;
                m.serialize_entry("pn", pn)?;
                m.serialize_entry("sci", sci)?;
            }
            LayerKind::FrameRelay { dlci, protocol } => {
                m.serialize_entry("dlci", dlci)?;
                m.serialize_entry("protocol", protocol)?;
            }
            LayerKind::Ipnet { family, ifindex } => {
                m.serialize_entry("family", family)?;
                m.serialize_entry("ifindex", ifindex)?;
            }
            LayerKind::Pktap { dlt, ifname } => {
                m.serialize_entry("dlt", dlt)?;
                let end = ifname.iter().position(|&b| b == 0).unwrap_or(ifname.len());
                m.serialize_entry("ifname", &String::from_utf8_lossy(&ifname[..end]))?;
            }
            LayerKind::Arcnet { src, dst, protocol } => {
                m.serialize_entry("src", src)?;
                m.serialize_entry("dst", dst)?;
                m.serialize_entry("protocol", protocol)?;
            }
            LayerKind::EtherIp { version } => m.serialize_entry("version", version)?,
            LayerKind::Juniper { flags } => m.serialize_entry("flags", flags)?,
            LayerKind::CiscoMetadata { sgt, ethertype } => {
                m.serialize_entry("sgt", sgt)?;
                m.serialize_entry("ethertype", &ethertype.0)?;
            }
            LayerKind::Wireguard { msg_type, index } => {
                m.serialize_entry("msg_type", msg_type)?;
                m.serialize_entry("index", index)?;
            }
        }
        if let Some(c) = &self.checksum {
            m.serialize_entry("checksum", c)?;
        }
        m.end()
    }
}

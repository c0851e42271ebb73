//! Encapsulations beyond Ethernet, IP and the kernel's own tunnels: the protocols a
//! datacenter, carrier or wireless capture carries between its link layer and the
//! packet that matters — LLC/SNAP, MPLS and pseudowires, PPPoE and PPP, FabricPath,
//! ERSPAN, the tunnels carried in UDP (GTP-U, Teredo, CAPWAP, AYIYA, VXLAN-GPE, GRE and
//! MPLS in UDP), NSH, 802.11 data frames, and the encrypted ones netcap names and stops
//! at (ESP, WireGuard).
//!
//! Every function reads one header at `pos`, pushes its layer and says what comes next,
//! as the walk in `mod.rs` does; the rules about depth are the same: a header that
//! carries a packet over IP hands its payload one tunnel level deeper.
//!
//! # References
//! IEEE 802.2, RFC 1042 (SNAP); RFC 3032, RFC 5462 (MPLS), RFC 4385, RFC 4448
//! (pseudowire control word); RFC 2516 (PPPoE), RFC 1661, RFC 1662 (PPP);
//! draft-foschiano-erspan; 3GPP TS 29.281 (GTP-U); RFC 4380 (Teredo); RFC 5415
//! (CAPWAP); draft-massar-v6ops-ayiya; draft-ietf-nvo3-vxlan-gpe; RFC 8086 (GRE in UDP);
//! RFC 7510 (MPLS in UDP); RFC 8300 (NSH); IEEE 802.11; RFC 4303 (ESP), RFC 3948 (ESP in
//! UDP); the WireGuard whitepaper §5.4.

use std::net::Ipv4Addr;

use super::{
    be16, be32, be_uint, layer::ExtHeaders, EtherType, LayerKind, Next, Pos, Step, StopReason, UdpTunnel,
    Walk,
};

/// The layer name of the header a UDP tunnel's payload starts with: the tunnel's name,
/// in snake case (`vxlan_gpe`).
pub(super) fn tunnel_layer(t: UdpTunnel) -> &'static str {
    match t {
        UdpTunnel::VxlanGpe => "vxlan_gpe",
        other => other.name(),
    }
}

impl Walk<'_, '_> {
    /// The payload of a UDP datagram whose port names `t`.
    pub(super) fn udp_payload(&mut self, t: UdpTunnel, pos: Pos) -> Step {
        match t {
            UdpTunnel::Vxlan => self.vxlan(pos),
            UdpTunnel::Geneve => self.geneve(pos),
            // RFC 8086: the UDP payload is a GRE header.
            UdpTunnel::GreUdp => self.gre(pos),
            // RFC 7510: the UDP payload is an MPLS label stack.
            UdpTunnel::MplsUdp => Ok((Next::Mpls, self.deeper("mpls", pos, 0)?)),
            UdpTunnel::VxlanGpe => self.vxlan_gpe(pos),
            UdpTunnel::Gtpu => self.gtpu(pos),
            UdpTunnel::Teredo => self.teredo(pos),
            UdpTunnel::CapwapData => self.capwap(pos),
            UdpTunnel::Ayiya => self.ayiya(pos),
            UdpTunnel::Wireguard => self.wireguard(pos),
            UdpTunnel::EspUdp => self.esp_udp(pos),
        }
    }

    /// IEEE 802.2 LLC, and SNAP (RFC 1042) when both SAPs are 0xAA.
    pub(super) fn llc(&mut self, pos: Pos) -> Step {
        let h = self.header("llc", pos, 3)?;
        let (dsap, ssap) = (h[0], h[1]);
        // U-format frames (low bits 11) have a one-byte control field; I and S, two.
        let control_len = if h[2] & 0x03 == 0x03 { 1 } else { 2 };
        let h = self.header("llc", pos, 2 + control_len)?;
        let control = if control_len == 1 { u16::from(h[2]) } else { be16(h, 2) };
        if dsap == 0xaa && ssap & 0xfe == 0xaa && control == 0x03 {
            let h = self.header("llc", pos, 8)?;
            let oui = [h[3], h[4], h[5]];
            let pid = be16(h, 6);
            let kind = LayerKind::Llc { dsap, ssap, control, oui: Some(oui), pid: Some(pid) };
            self.push(pos, 8, kind, None);
            let next = Pos { off: pos.off + 8, ..pos };
            // OUI 00-00-00 (RFC 1042) and 00-00-F8 (802.1H bridge tunnel): the protocol
            // ID is an EtherType.
            return match oui {
                [0, 0, 0] | [0, 0, 0xf8] => Ok((Next::EtherType(EtherType(pid)), next)),
                _ => Err(self.unsupported(u32::from(pid), next.off)),
            };
        }
        let len = 2 + control_len;
        self.push(pos, len, LayerKind::Llc { dsap, ssap, control, oui: None, pid: None }, None);
        let next = Pos { off: pos.off + len, ..pos };
        match dsap {
            // SAP 0x06: IP directly (RFC 1042 allows it; seen on old Token Ring and FDDI
            // captures).
            0x06 => Ok((Next::Ipv4, next)),
            other => Err(self.unsupported(u32::from(other), next.off)),
        }
    }

    /// One MPLS label stack entry; after the bottom of the stack the payload by label
    /// (0 IPv4 explicit null, 2 IPv6 explicit null) or by its first nibble: 4 IPv4,
    /// 6 IPv6, 0 the pseudowire control word before an Ethernet frame (RFC 4448 §4.6).
    pub(super) fn mpls(&mut self, pos: Pos) -> Step {
        let h = self.header("mpls", pos, 4)?;
        let word = be32(h, 0);
        let (label, tc, bottom, ttl) =
            (word >> 12, ((word >> 9) & 0x7) as u8, word & 0x100 != 0, (word & 0xff) as u8);
        self.push(pos, 4, LayerKind::Mpls { label, tc, bottom, ttl }, None);
        let next = Pos { off: pos.off + 4, ..pos };
        if !bottom {
            return Ok((Next::Mpls, next));
        }
        match label {
            0 => return Ok((Next::Ipv4, next)),
            2 => return Ok((Next::Ipv6, next)),
            _ => {}
        }
        let first = self.header("mpls", next, 1)?[0];
        match first >> 4 {
            4 => Ok((Next::Ipv4, next)),
            6 => Ok((Next::Ipv6, next)),
            0 => Ok((Next::PwControlWord, next)),
            // 1: the generic associated channel (RFC 5586), a control message.
            n => Err(self.unsupported(u32::from(n), next.off)),
        }
    }

    /// The pseudowire control word (RFC 4385): first nibble 0, flags, sequence number.
    pub(super) fn pw_control_word(&mut self, pos: Pos) -> Step {
        let h = self.header("pw_cw", pos, 4)?;
        let kind = LayerKind::PwControlWord { flags: h[1], sequence: be16(h, 2) };
        self.push(pos, 4, kind, None);
        Ok((Next::Eth, Pos { off: pos.off + 4, ..pos }))
    }

    /// A PPPoE header (RFC 2516): discovery (EtherType 0x8863) ends the walk; session
    /// data (0x8864) carries PPP.
    pub(super) fn pppoe(&mut self, ethertype: u16, pos: Pos) -> Step {
        let h = self.header("pppoe", pos, 6)?;
        if h[0] != 0x11 {
            return Err(self.stop("pppoe", StopReason::BadHeader, pos.off));
        }
        let (code, session_id, length) = (h[1], be16(h, 2), be16(h, 4));
        self.push(pos, 6, LayerKind::Pppoe { code, session_id, length }, None);
        if ethertype == 0x8863 || code != 0 {
            return Ok((Next::Done, pos));
        }
        let end = (pos.off + 6).saturating_add(usize::from(length)).min(pos.end);
        Ok((Next::Ppp, Pos { off: pos.off + 6, end, depth: pos.depth }))
    }

    /// The PPP protocol field, after the HDLC-like address and control bytes
    /// (0xff 0x03, RFC 1662) when present; a first byte with its low bit set is a
    /// compressed one-byte protocol (RFC 1661 §6.5).
    pub(super) fn ppp(&mut self, pos: Pos) -> Step {
        let h = self.header("ppp", pos, 1)?;
        let mut len = 0;
        if h[0] == 0xff {
            let ac = self.header("ppp", pos, 2)?;
            if ac[1] != 0x03 {
                return Err(self.stop("ppp", StopReason::BadHeader, pos.off));
            }
            len = 2;
        }
        let at = Pos { off: pos.off + len, ..pos };
        let first = self.header("ppp", at, 1)?[0];
        let protocol = if first & 1 == 1 {
            len += 1;
            u16::from(first)
        } else {
            len += 2;
            be16(self.header("ppp", at, 2)?, 0)
        };
        self.push(pos, len, LayerKind::Ppp { protocol }, None);
        let next = Pos { off: pos.off + len, ..pos };
        match protocol {
            0x0021 => Ok((Next::Ipv4, next)),
            0x0057 => Ok((Next::Ipv6, next)),
            0x0281 | 0x0283 => Ok((Next::Mpls, next)),
            other => Err(self.unsupported(u32::from(other), next.off)),
        }
    }

    /// A port tag between the addresses and the EtherType: Cisco VN-Tag (0x8926, 4
    /// bytes) or IEEE 802.1BR E-Tag (0x893f, 6 bytes).
    pub(super) fn port_tag(&mut self, tpid: u16, pos: Pos) -> Step {
        let (name, len) = if tpid == 0x8926 { ("vntag", 4) } else { ("etag", 6) };
        let h = self.header(name, pos, len + 2)?;
        let ethertype = EtherType(be16(h, len));
        let kind = if tpid == 0x8926 {
            LayerKind::VnTag { tag: be32(h, 0), ethertype }
        } else {
            let tag = be_uint(&h[..6]);
            LayerKind::ETag { tag, ethertype }
        };
        self.push(pos, len + 2, kind, None);
        Ok((Next::EtherType(ethertype), Pos { off: pos.off + len + 2, ..pos }))
    }

    /// Cisco MetaData (TrustSec, EtherType 0x8909): version, length, option type, the
    /// security group tag, then the EtherType of what follows — 8 bytes.
    pub(super) fn cisco_metadata(&mut self, pos: Pos) -> Step {
        let h = self.header("cmd", pos, 8)?;
        let (sgt, ethertype) = (be16(h, 4), EtherType(be16(h, 6)));
        self.push(pos, 8, LayerKind::CiscoMetadata { sgt, ethertype }, None);
        Ok((Next::EtherType(ethertype), Pos { off: pos.off + 8, ..pos }))
    }

    /// The MACsec SecTAG (IEEE 802.1AE §9.3): TCI/AN, short length, packet number, and
    /// the SCI when the SC bit is set. A frame with the E or C bit (encrypted, or
    /// changed text) stops there; an integrity-only frame carries its EtherType and
    /// payload in clear — their length in the short-length field when it is not 0 —,
    /// then the 16-byte ICV.
    pub(super) fn macsec(&mut self, pos: Pos) -> Step {
        let h = self.header("macsec", pos, 6)?;
        let (tci_an, pn) = (h[0], be32(h, 2));
        let with_sci = tci_an & 0x20 != 0;
        let len = if with_sci { 14 } else { 6 };
        let h = self.header("macsec", pos, len)?;
        let sci = with_sci.then(|| be_uint(&h[6..14]));
        let kind = LayerKind::Macsec { tci_an, pn, sci };
        let short_len = usize::from(h[1] & 0x3f);
        if tci_an & 0x0c != 0 {
            self.push(pos, len, kind, None);
            return Err(self.stop("macsec", StopReason::Encrypted, pos.off + len));
        }
        // The layer ends after the protected frame's EtherType.
        let h = self.header("macsec", pos, len + 2)?;
        let ethertype = EtherType(be16(h, len));
        self.push(pos, len + 2, kind, None);
        let off = pos.off + len + 2;
        let end = match short_len {
            0 => pos.end.saturating_sub(16),
            n => (pos.off + len + n).min(pos.end),
        }
        .max(off);
        Ok((Next::EtherType(ethertype), Pos { off, end, depth: pos.depth }))
    }

    /// Cisco FabricPath: after the outer addresses and EtherType 0x8903, a 2-byte
    /// forwarding tag and TTL, then the classical Ethernet frame.
    pub(super) fn fabricpath(&mut self, pos: Pos) -> Step {
        let h = self.header("fabricpath", pos, 2)?;
        let word = be16(h, 0);
        let kind = LayerKind::FabricPath { ftag: word >> 6, ttl: (word & 0x3f) as u8 };
        self.push(pos, 2, kind, None);
        Ok((Next::Eth, Pos { off: pos.off + 2, ..pos }))
    }

    /// ERSPAN: type I has no header; type II an 8-byte one (version 1); type III a
    /// 12-byte one (version 2) plus an 8-byte platform subheader when its O bit is set.
    /// The mirrored frame is Ethernet (type III: frame type 0; 2 is IP).
    pub(super) fn erspan(&mut self, erspan_type: u8, pos: Pos) -> Step {
        if erspan_type == 1 {
            let kind = LayerKind::Erspan { erspan_type, session_id: 0, vlan: 0, timestamp: None };
            self.push(pos, 0, kind, None);
            return Ok((Next::Eth, pos));
        }
        let h = self.header("erspan", pos, 8)?;
        let version = h[0] >> 4;
        if version != erspan_type - 1 {
            return Err(self.stop("erspan", StopReason::BadHeader, pos.off));
        }
        let vlan = be16(h, 0) & 0x0fff;
        let session_id = be16(h, 2) & 0x03ff;
        let (len, timestamp, frame_type) = if erspan_type == 2 {
            (8, None, 0)
        } else {
            let h = self.header("erspan", pos, 12)?;
            let low = be16(h, 10);
            let optional = low & 0x1 != 0;
            (12 + if optional { 8 } else { 0 }, Some(be32(h, 4)), (low >> 10) & 0x1f)
        };
        let _ = self.header("erspan", pos, len)?;
        self.push(pos, len, LayerKind::Erspan { erspan_type, session_id, vlan, timestamp }, None);
        let inner = Pos { off: pos.off + len, ..pos };
        match frame_type {
            0 => Ok((Next::Eth, inner)),
            2 => Ok((Next::Ip, inner)),
            other => Err(self.unsupported(u32::from(other), inner.off)),
        }
    }

    /// GTP-U (3GPP TS 29.281 §5): version 1, protocol type 1; the optional sequence,
    /// N-PDU and next-extension fields when E, S or PN is set; extension headers in
    /// 4-octet units; a G-PDU (type 255) carries an IP packet. A payload that is not
    /// GTP-U version 1 stays UDP payload.
    fn gtpu(&mut self, pos: Pos) -> Step {
        let Some(h) = self.peek(pos, 8).filter(|h| h[0] >> 5 == 1 && h[0] & 0x10 != 0) else {
            return Ok((Next::Done, pos));
        };
        let (flags, msg_type, length, teid) = (h[0], h[1], be16(h, 2), be32(h, 4));
        let end = (pos.off + 8).saturating_add(usize::from(length)).min(pos.end);
        let mut len = 8;
        let mut ext = ExtHeaders::default();
        if flags & 0x07 != 0 {
            let h = self.header("gtpu", pos, 12)?;
            len = 12;
            let mut next_type = h[11];
            while next_type != 0 {
                if !ext.push(next_type) {
                    return Err(self.stop("gtpu", StopReason::DepthLimit, pos.off + len));
                }
                let at = Pos { off: pos.off + len, ..pos };
                let units = usize::from(self.header("gtpu", at, 1)?[0]);
                if units == 0 {
                    return Err(self.stop("gtpu", StopReason::BadHeader, at.off));
                }
                let e = self.header("gtpu", at, units * 4)?;
                next_type = e[units * 4 - 1];
                len += units * 4;
            }
        }
        let _ = self.header("gtpu", pos, len)?;
        self.push(pos, len, LayerKind::Gtpu { msg_type, teid, ext }, None);
        let inner = Pos { off: pos.off + len, end, depth: pos.depth };
        if msg_type != 255 || inner.off >= inner.end {
            return Ok((Next::Done, inner));
        }
        Ok((Next::Ip, self.deeper("gtpu", inner, 0)?))
    }

    /// Teredo (RFC 4380 §5.1.1): an optional authentication header (0x0001) and origin
    /// indication (0x0000), then an IPv6 packet. Anything else stays UDP payload (a
    /// Teredo bubble is an IPv6 header with no payload, and is decoded as such).
    fn teredo(&mut self, pos: Pos) -> Step {
        let mut off = pos.off;
        let mut auth = false;
        let mut origin = None;
        let at = |off: usize, n: usize| self.peek(Pos { off, ..pos }, n);
        if let Some(&[0, 1, id_len, au_len]) = at(off, 4) {
            // Client identifier, authentication value, 8-byte nonce, 1-byte confirmation.
            off += 4 + usize::from(id_len) + usize::from(au_len) + 9;
            auth = true;
        }
        if let Some(&[0, 0, p0, p1, a0, a1, a2, a3]) = at(off, 8) {
            // RFC 4380 §5.1.1: port and address are sent with every bit inverted.
            let port = !u16::from_be_bytes([p0, p1]);
            let addr = Ipv4Addr::new(!a0, !a1, !a2, !a3);
            origin = Some((port, addr));
            off += 8;
        }
        if at(off, 40).is_none_or(|ip| ip[0] >> 4 != 6) {
            return Ok((Next::Done, pos));
        }
        self.push(pos, off - pos.off, LayerKind::Teredo { origin, auth }, None);
        Ok((Next::Ipv6, self.deeper("teredo", pos, off - pos.off)?))
    }

    /// The CAPWAP data channel (RFC 5415 §4.3): preamble version 0 and type 0 (type 1
    /// is a DTLS-encrypted packet), HLEN in 4-octet units, the payload an 802.3 frame
    /// or, with the T bit and binding 1, an 802.11 frame. Keep-alives and fragments past
    /// the first carry no frame.
    fn capwap(&mut self, pos: Pos) -> Step {
        let Some(h) = self.peek(pos, 8).filter(|h| h[0] >> 4 == 0) else {
            return Ok((Next::Done, pos));
        };
        if h[0] & 0x0f == 1 {
            let kind = LayerKind::Capwap { hlen: 4, wbid: 0, native: false };
            self.push(pos, 4, kind, None);
            return Err(self.stop("capwap", StopReason::Encrypted, pos.off + 4));
        }
        if h[0] & 0x0f != 0 {
            return Ok((Next::Done, pos));
        }
        let word = be32(h, 0);
        let hlen = ((word >> 19) & 0x1f) as u16 * 4;
        let wbid = ((word >> 9) & 0x1f) as u8;
        let native = word & 0x100 != 0;
        let (fragment, keepalive) = (word & 0x80 != 0, word & 0x08 != 0);
        let frag_offset = be16(h, 6) >> 3;
        if hlen < 8 {
            return Err(self.stop("capwap", StopReason::BadHeader, pos.off));
        }
        let _ = self.header("capwap", pos, usize::from(hlen))?;
        self.push(pos, usize::from(hlen), LayerKind::Capwap { hlen, wbid, native }, None);
        let inner = Pos { off: pos.off + usize::from(hlen), ..pos };
        if keepalive || inner.off >= inner.end {
            return Ok((Next::Done, inner));
        }
        if fragment && frag_offset != 0 {
            return Err(self.stop("capwap", StopReason::Fragment, inner.off));
        }
        let next = match (native, wbid) {
            (false, _) => Next::Eth,
            (true, 1) => Next::Wlan,
            (true, other) => return Err(self.unsupported(u32::from(other), inner.off)),
        };
        Ok((next, self.deeper("capwap", inner, 0)?))
    }

    /// AYIYA: identity length (a power of two), signature length (4-octet units),
    /// opcode 1 (forward) and the payload's IP protocol in the 8-byte fixed part, then
    /// the identity and the signature.
    fn ayiya(&mut self, pos: Pos) -> Step {
        let Some(h) = self.peek(pos, 8) else {
            return Ok((Next::Done, pos));
        };
        let (id_len, sig_len) = (h[0] >> 4, h[1] >> 4);
        if id_len > 8 || h[2] & 0x0f > 8 {
            return Ok((Next::Done, pos));
        }
        let (opcode, next_header) = (h[2] & 0x0f, h[3]);
        let len = 8 + (1usize << id_len) + 4 * usize::from(sig_len);
        let _ = self.header("ayiya", pos, len)?;
        self.push(pos, len, LayerKind::Ayiya { next_header, opcode }, None);
        let inner = Pos { off: pos.off + len, ..pos };
        if opcode != 1 {
            return Ok((Next::Done, inner));
        }
        let next = match next_header {
            4 => Next::Ipv4,
            41 => Next::Ipv6,
            59 => return Ok((Next::Done, inner)),
            other => return Err(self.unsupported(u32::from(other), inner.off)),
        };
        Ok((next, self.deeper("ayiya", inner, 0)?))
    }

    /// VXLAN-GPE: VXLAN's 8 bytes with a next-protocol byte (the P bit says it is set;
    /// without it the payload is Ethernet, as in VXLAN).
    fn vxlan_gpe(&mut self, pos: Pos) -> Step {
        let h = self.header("vxlan_gpe", pos, 8)?;
        let (flags, next_protocol, vni) = (h[0], h[3], be32(h, 4) >> 8);
        self.push(pos, 8, LayerKind::VxlanGpe { flags, next_protocol, vni }, None);
        let next_protocol = if flags & 0x04 == 0 { 3 } else { next_protocol };
        let inner = self.deeper("vxlan_gpe", pos, 8)?;
        self.next_protocol(next_protocol, inner)
    }

    /// A Network Service Header (RFC 8300 §2): version 0, the length of the whole
    /// header (metadata included) in 4-octet units, at least 2.
    pub(super) fn nsh(&mut self, pos: Pos) -> Step {
        let h = self.header("nsh", pos, 8)?;
        let word = be32(h, 0);
        let units = ((word >> 16) & 0x3f) as usize;
        if word >> 30 != 0 || units < 2 {
            return Err(self.stop("nsh", StopReason::BadHeader, pos.off));
        }
        let (md_type, next_protocol) = (((word >> 8) & 0x0f) as u8, (word & 0xff) as u8);
        let (spi, si) = (be32(h, 4) >> 8, h[7]);
        let _ = self.header("nsh", pos, units * 4)?;
        self.push(pos, units * 4, LayerKind::Nsh { md_type, next_protocol, spi, si }, None);
        self.next_protocol(next_protocol, Pos { off: pos.off + units * 4, ..pos })
    }

    /// The next-protocol numbers VXLAN-GPE and NSH share: 1 IPv4, 2 IPv6, 3 Ethernet,
    /// 4 NSH, 5 MPLS.
    fn next_protocol(&self, value: u8, pos: Pos) -> Step {
        let next = match value {
            1 => Next::Ipv4,
            2 => Next::Ipv6,
            3 => Next::Eth,
            4 => Next::Nsh,
            5 => Next::Mpls,
            other => return Err(self.unsupported(u32::from(other), pos.off)),
        };
        Ok((next, pos))
    }

    /// An IEEE 802.11 MAC header. Data frames carry an LLC header after it (unless
    /// protected: `encrypted`; or a null function or A-MSDU); management and control
    /// frames carry no packet.
    pub(super) fn wlan(&mut self, pos: Pos) -> Step {
        let h = self.header("wlan", pos, 10)?;
        // The frame control field's protocol version is 0. Cisco's CAPWAP access points
        // send the field's two bytes swapped (Wireshark's `capwap.swap_fc`); a version
        // other than 0 that is 0 once swapped is read swapped. A valid frame is never
        // read otherwise.
        let (fc0, fc1) = match (h[0] & 0x3, h[1] & 0x3) {
            (0, _) => (h[0], h[1]),
            (_, 0) => (h[1], h[0]),
            _ => return Err(self.stop("wlan", StopReason::BadHeader, pos.off)),
        };
        let (frame_type, subtype, flags) = ((fc0 >> 2) & 0x3, fc0 >> 4, fc1);
        let mut addr1 = [0u8; 6];
        addr1.copy_from_slice(&h[4..10]);
        let len = match frame_type {
            0 => 24,
            1 => 10,
            2 => {
                let qos = subtype & 0x8 != 0;
                24 + if flags & 0x03 == 0x03 { 6 } else { 0 }
                    + if qos { 2 } else { 0 }
                    + if qos && flags & 0x80 != 0 { 4 } else { 0 }
            }
            _ => return Err(self.unsupported(u32::from(frame_type), pos.off)),
        };
        let h = self.header("wlan", pos, len)?;
        let mut addr2 = [0u8; 6];
        if let Some(a) = h.get(10..16) {
            addr2.copy_from_slice(a);
        }
        // QoS control follows the addresses (a fourth one in WDS frames).
        let qos_at = 24 + if flags & 0x03 == 0x03 { 6 } else { 0 };
        let qos_control = (frame_type == 2 && subtype & 0x8 != 0).then(|| h[qos_at]);
        self.push(pos, len, LayerKind::Wlan { frame_type, subtype, flags, addr1, addr2 }, None);
        let next = Pos { off: pos.off + len, ..pos };
        // Management and control frames, and data subtypes 4–7 and 12–15 (null
        // function, CF-Ack/Poll without data), carry no packet.
        if frame_type != 2 || subtype & 0x4 != 0 || next.off >= next.end {
            return Ok((Next::Done, next));
        }
        if flags & 0x40 != 0 {
            return Err(self.stop("wlan", StopReason::Encrypted, next.off));
        }
        if qos_control.is_some_and(|q| q & 0x80 != 0) {
            // An A-MSDU: several subframes, each with its own addresses.
            return Err(self.stop("wlan", StopReason::Unsupported, next.off));
        }
        Ok((Next::Llc, next))
    }

    /// ESP (RFC 4303): the SPI and sequence number are clear, the rest is encrypted.
    pub(super) fn esp(&mut self, pos: Pos) -> Step {
        let h = self.header("esp", pos, 8)?;
        let kind = LayerKind::Esp { spi: be32(h, 0), sequence: be32(h, 4) };
        self.push(pos, 8, kind, None);
        Err(self.stop("esp", StopReason::Encrypted, pos.off + 8))
    }

    /// UDP port 4500 (RFC 3948 §2): a one-byte 0xff is a NAT keep-alive, a zero
    /// "non-ESP marker" starts an IKE message, anything else is ESP.
    fn esp_udp(&mut self, pos: Pos) -> Step {
        match self.rest(pos) {
            [] | [0xff] => Ok((Next::Done, pos)),
            [0, 0, 0, 0, ..] => Ok((Next::Done, pos)),
            _ => self.esp(pos),
        }
    }

    /// WireGuard (whitepaper §5.4): type 1–4, three zero bytes, the exact size of each
    /// handshake message or, for transport data (type 4), a 16-byte header and at least
    /// a 16-byte tag. Anything else stays UDP payload.
    fn wireguard(&mut self, pos: Pos) -> Step {
        let rest = self.rest(pos);
        let fits = match rest {
            [1, 0, 0, 0, ..] => rest.len() == 148,
            [2, 0, 0, 0, ..] => rest.len() == 92,
            [3, 0, 0, 0, ..] => rest.len() == 64,
            [4, 0, 0, 0, ..] => rest.len() >= 32,
            _ => false,
        };
        if !fits {
            return Ok((Next::Done, pos));
        }
        let (msg_type, index) = (rest[0], u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]));
        let len = if msg_type == 4 { 16 } else { rest.len() };
        self.push(pos, len, LayerKind::Wireguard { msg_type, index }, None);
        if msg_type == 4 {
            return Err(self.stop("wireguard", StopReason::Encrypted, pos.off + 16));
        }
        Ok((Next::Done, Pos { off: pos.off + len, ..pos }))
    }
}

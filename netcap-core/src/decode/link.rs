//! The link types a Linux host, a router or a wireless sniffer writes beyond Ethernet,
//! Linux cooked capture, raw IP and BSD loopback: PPP, Cisco HDLC, Frame Relay, IEEE
//! 802.11 (bare, with radiotap or PPI), IP over InfiniBand, netfilter NFLOG, Linux ATM
//! classical IP, ARCnet, Solaris IPNET and Apple PKTAP.
//!
//! # References
//! The tcpdump.org link-layer header types list (LINKTYPE_PPP 9, PPP_HDLC 50,
//! PPP_ETHER 51, C_HDLC 104, IEEE802_11 105, IEEE802_11_RADIOTAP 127, PPI 192,
//! PPP_WITH_DIR 204, C_HDLC_WITH_DIR 205, NFLOG 239, IPOIB 242, LINUX_ATM_CLIP 106,
//! FRELAY 107, JUNIPER_ETHER 178, ARCNET_LINUX 129, IPNET 226, PKTAP 258); RFC 2427
//! (Frame Relay NLPIDs);
//! RFC 1051 and RFC 1201 (IP over ARCnet); radiotap.org (header
//! and field alignment); the PPI specification (CACE Technologies, 2007); RFC 4391 §6
//! (IPoIB); Linux `include/uapi/linux/netfilter/nfnetlink_log.h` (NFLOG attributes).

use super::{be16, EtherType, LayerKind, LinkType, Next, Pos, Step, StopReason, Walk};

impl Walk<'_, '_> {
    /// The link-layer header of a link type `link` handles not.
    pub(super) fn other_link(&mut self, link: LinkType, pos: Pos) -> Step {
        let skip_direction = |pos: Pos| Pos { off: pos.off + 1, ..pos };
        match link.0 {
            // PPP, with or without the HDLC-like framing; PPP_HDLC also carries Cisco
            // HDLC frames (first byte 0x0f / 0x8f).
            9 => Ok((Next::Ppp, pos)),
            50 => match self.peek(pos, 1) {
                Some([0x0f | 0x8f]) => self.chdlc(pos),
                _ => Ok((Next::Ppp, pos)),
            },
            51 => self.pppoe(0x8864, pos),
            204 => {
                let _ = self.header("ppp", pos, 1)?;
                Ok((Next::Ppp, skip_direction(pos)))
            }
            104 => self.chdlc(pos),
            205 => {
                let _ = self.header("chdlc", pos, 1)?;
                self.chdlc(skip_direction(pos))
            }
            105 => Ok((Next::Wlan, pos)),
            127 => self.radiotap(pos),
            192 => self.ppi(pos),
            239 => self.nflog(pos),
            242 => self.ipoib(pos),
            // Linux ATM classical IP (RFC 1577): LLC/SNAP when the frame starts with it,
            // else a bare IPv4 packet.
            106 => match self.peek(pos, 3) {
                Some([0xaa, 0xaa, 0x03]) => Ok((Next::Llc, pos)),
                _ => Ok((Next::Ipv4, pos)),
            },
            107 => self.frame_relay(pos),
            129 => self.arcnet(pos),
            226 => self.ipnet(pos),
            // PKTAP; Darwin writes it as LINKTYPE_USER2 (149) too.
            258 | 149 => self.pktap(pos),
            178 => self.juniper_ether(pos),
            other => Err(super::Stop {
                layer: "link",
                reason: StopReason::Unsupported,
                value: Some(u32::from(other)),
                offset: 0,
            }),
        }
    }

    /// Frame Relay: a 2-byte Q.922 address, then either UI (0x03) and an RFC 2427 NLPID
    /// (0xcc IPv4, 0x8e IPv6), or the Cisco encapsulation's EtherType.
    fn frame_relay(&mut self, pos: Pos) -> Step {
        // The Q.922 address: 2, 3 or 4 bytes, the last with its EA bit set.
        let h = self.header("fr", pos, 2)?;
        let mut addr_len = 2;
        while self.header("fr", pos, addr_len)?[addr_len - 1] & 0x01 == 0 {
            addr_len += 1;
            if addr_len > 4 {
                return Err(self.stop("fr", StopReason::BadHeader, pos.off));
            }
        }
        let dlci = (u16::from(h[0] >> 2) << 4) | u16::from(h[1] >> 4);
        let len = addr_len + 2;
        let h = self.header("fr", pos, len)?;
        if h[addr_len] != 0x03 {
            let protocol = be16(h, addr_len);
            self.push(pos, len, LayerKind::FrameRelay { dlci, protocol }, None);
            return Ok((Next::EtherType(EtherType(protocol)), Pos { off: pos.off + len, ..pos }));
        }
        let nlpid = u16::from(h[addr_len + 1]);
        self.push(pos, len, LayerKind::FrameRelay { dlci, protocol: nlpid }, None);
        let next = Pos { off: pos.off + len, ..pos };
        match nlpid {
            0xcc => Ok((Next::Ipv4, next)),
            0x8e => Ok((Next::Ipv6, next)),
            other => Err(self.unsupported(u32::from(other), next.off)),
        }
    }

    /// Linux ARCnet: source, destination, a 2-byte offset, the protocol; RFC 1201
    /// protocols add a split flag and a sequence number (8 bytes in all), RFC 1051 ones
    /// (0xf0 IP, 0xf1 ARP) do not (5 bytes).
    fn arcnet(&mut self, pos: Pos) -> Step {
        let h = self.header("arcnet", pos, 5)?;
        let (src, dst, protocol) = (h[0], h[1], h[4]);
        let len = if matches!(protocol, 0xf0 | 0xf1) { 5 } else { 8 };
        let _ = self.header("arcnet", pos, len)?;
        self.push(pos, len, LayerKind::Arcnet { src, dst, protocol }, None);
        let next = Pos { off: pos.off + len, ..pos };
        match protocol {
            0xd4 | 0xf0 => Ok((Next::Ipv4, next)),
            0xc4 => Ok((Next::Ipv6, next)),
            other => Err(self.unsupported(u32::from(other), next.off)),
        }
    }

    /// Solaris IPNET: version, family (2 IPv4, 26 IPv6), hardware type, packet length,
    /// interface indexes and zone: 24 bytes.
    fn ipnet(&mut self, pos: Pos) -> Step {
        let h = self.header("ipnet", pos, 24)?;
        let (family, ifindex) = (h[1], super::be32(h, 8));
        self.push(pos, 24, LayerKind::Ipnet { family, ifindex }, None);
        let next = Pos { off: pos.off + 24, ..pos };
        match family {
            2 => Ok((Next::Ipv4, next)),
            26 => Ok((Next::Ipv6, next)),
            other => Err(self.unsupported(u32::from(other), next.off)),
        }
    }

    /// Apple PKTAP: a little-endian header length, record type (1: packet) and link
    /// type, then the interface name and process metadata; the frame follows the header.
    fn pktap(&mut self, pos: Pos) -> Step {
        let h = self.header("pktap", pos, 36)?;
        let le32 = |at: usize| u32::from_le_bytes([h[at], h[at + 1], h[at + 2], h[at + 3]]);
        let (len, record, dlt) = (le32(0) as usize, le32(4), le32(8));
        if len < 36 || record != 1 {
            return Err(self.stop("pktap", StopReason::BadHeader, pos.off));
        }
        let mut ifname = [0u8; 24];
        ifname.copy_from_slice(&h[12..36]);
        let _ = self.header("pktap", pos, len)?;
        self.push(pos, len, LayerKind::Pktap { dlt, ifname }, None);
        let next = Pos { off: pos.off + len, ..pos };
        match dlt {
            1 => Ok((Next::Eth, next)),
            12 | 101 => Ok((Next::Ip, next)),
            0 => Ok((Next::Null, next)),
            other => Err(self.unsupported(other, next.off)),
        }
    }

    /// Juniper's Ethernet pseudo-header (LINKTYPE_JUNIPER_ETHER): the magic "MGC", a
    /// flags byte, and when its top bit is set a 2-byte length and that many bytes of
    /// extensions; the Ethernet frame follows.
    fn juniper_ether(&mut self, pos: Pos) -> Step {
        let h = self.header("juniper", pos, 4)?;
        if &h[..3] != b"MGC" {
            return Err(self.stop("juniper", StopReason::BadHeader, pos.off));
        }
        let flags = h[3];
        let len = if flags & 0x80 != 0 {
            let h = self.header("juniper", pos, 6)?;
            6 + usize::from(be16(h, 4))
        } else {
            4
        };
        let _ = self.header("juniper", pos, len)?;
        self.push(pos, len, LayerKind::Juniper { flags }, None);
        Ok((Next::Eth, Pos { off: pos.off + len, ..pos }))
    }

    /// Cisco HDLC: address, control, then an EtherType.
    fn chdlc(&mut self, pos: Pos) -> Step {
        let h = self.header("chdlc", pos, 4)?;
        let (address, protocol) = (h[0], be16(h, 2));
        self.push(pos, 4, LayerKind::Chdlc { address, protocol }, None);
        Ok((Next::EtherType(EtherType(protocol)), Pos { off: pos.off + 4, ..pos }))
    }

    /// The radiotap header (version 0, little-endian length and presence words): its
    /// Flags field, when present, says whether the 802.11 frame ends with an FCS. The
    /// fields before Flags are the TSFT (8 bytes, 8-aligned) only.
    fn radiotap(&mut self, pos: Pos) -> Step {
        let h = self.header("radiotap", pos, 8)?;
        let len = usize::from(u16::from_le_bytes([h[2], h[3]]));
        if h[0] != 0 || len < 8 {
            return Err(self.stop("radiotap", StopReason::BadHeader, pos.off));
        }
        let h = self.header("radiotap", pos, len)?;
        let present =
            |at: usize| h.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let first = present(4).unwrap_or(0);
        // Extended presence words follow while bit 31 is set.
        let mut at = 4;
        while present(at).is_some_and(|w| w & 0x8000_0000 != 0) {
            at += 4;
        }
        at += 4;
        if first & 0x1 != 0 {
            at = at.next_multiple_of(8) + 8;
        }
        let flags = if first & 0x2 != 0 { h.get(at).copied().unwrap_or(0) } else { 0 };
        let fcs = flags & 0x10 != 0;
        self.push(pos, len, LayerKind::Radiotap { flags, fcs }, None);
        let end = if fcs { pos.end.saturating_sub(4).max(pos.off + len) } else { pos.end };
        Ok((Next::Wlan, Pos { off: pos.off + len, end, depth: pos.depth }))
    }

    /// The PPI header (version 0, little-endian length and link type) before an 802.11
    /// or Ethernet frame.
    fn ppi(&mut self, pos: Pos) -> Step {
        let h = self.header("ppi", pos, 8)?;
        let len = usize::from(u16::from_le_bytes([h[2], h[3]]));
        let dlt = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        if h[0] != 0 || len < 8 {
            return Err(self.stop("ppi", StopReason::BadHeader, pos.off));
        }
        let _ = self.header("ppi", pos, len)?;
        self.push(pos, len, LayerKind::Ppi { dlt }, None);
        let next = Pos { off: pos.off + len, ..pos };
        match dlt {
            1 => Ok((Next::Eth, next)),
            105 => Ok((Next::Wlan, next)),
            other => Err(self.unsupported(other, next.off)),
        }
    }

    /// IP over InfiniBand: the 4-byte encapsulation header of RFC 4391 §6 (EtherType,
    /// then 2 reserved zero bytes), after the 40 bytes of addresses that Linux puts in
    /// front of it when present.
    fn ipoib(&mut self, pos: Pos) -> Step {
        let known = |h: &[u8]| matches!(be16(h, 0), 0x0800 | 0x86dd | 0x0806) && h[2..4] == [0, 0];
        let len = match (self.peek(pos, 4), self.peek(Pos { off: pos.off + 40, ..pos }, 4)) {
            (Some(h), _) if known(h) => 4,
            (_, Some(h)) if known(h) => 44,
            _ => {
                let h = self.header("ipoib", pos, 4)?;
                let value = u32::from(be16(h, 0));
                return Err(self.unsupported(value, pos.off));
            }
        };
        let h = self.header("ipoib", pos, len)?;
        let protocol = be16(h, len - 4);
        self.push(pos, len, LayerKind::Ipoib { protocol }, None);
        Ok((Next::EtherType(EtherType(protocol)), Pos { off: pos.off + len, ..pos }))
    }

    /// NFLOG: family, version, resource ID, then type-length-value attributes in the
    /// logging host's byte order, each padded to 4 bytes; attribute 9 (NFULA_PAYLOAD)
    /// holds the packet from its IP header.
    fn nflog(&mut self, pos: Pos) -> Step {
        const NFULA_PAYLOAD: u16 = 9;
        let h = self.header("nflog", pos, 4)?;
        let (family, resource_id) = (h[0], be16(h, 2));
        // The byte order of the attributes: the one in which the first attribute's
        // length fits in the frame.
        let first = self.peek(Pos { off: pos.off + 4, ..pos }, 2).unwrap_or(&[0, 0]);
        let room = pos.end.saturating_sub(pos.off + 4);
        let le = {
            let v = usize::from(u16::from_le_bytes([first[0], first[1]]));
            (4..=room).contains(&v)
        };
        let word = |b: &[u8]| {
            if le {
                u16::from_le_bytes([b[0], b[1]])
            } else {
                u16::from_be_bytes([b[0], b[1]])
            }
        };
        let mut off = pos.off + 4;
        loop {
            let tlv = self.header("nflog", Pos { off, ..pos }, 4)?;
            let (len, kind) = (usize::from(word(&tlv[0..2])), word(&tlv[2..4]) & 0x3fff);
            if len < 4 {
                return Err(self.stop("nflog", StopReason::BadHeader, off));
            }
            if kind == NFULA_PAYLOAD {
                let end = (off + len).min(pos.end);
                self.push(pos, off + 4 - pos.off, LayerKind::Nflog { family, resource_id }, None);
                let next = match family {
                    2 => Next::Ipv4,
                    10 => Next::Ipv6,
                    _ => Next::Ip,
                };
                return Ok((next, Pos { off: off + 4, end, depth: pos.depth }));
            }
            off += len.next_multiple_of(4);
            if off >= pos.end {
                // Attributes without a packet (a log of the hook alone).
                self.push(pos, pos.end - pos.off, LayerKind::Nflog { family, resource_id }, None);
                return Ok((Next::Done, Pos { off: pos.end, ..pos }));
            }
        }
    }
}

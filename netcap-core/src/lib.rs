//! netcap-core: read packet captures, decode every layer laxly, judge every checksum,
//! analyse TCP per capture point, and match packets across capture points.
//!
//! # Which entry point
//! - [`capture::CaptureReader`] streams timestamped frames out of a pcap, pcapng or
//!   gzip-compressed file, one capture point per (file, interface).
//! - [`decode::Decoder`] walks the layers of one frame (Ethernet … tunnels … TCP) and
//!   attaches a [`checksum::Verdict`] to every checksummed layer, plus whether a Linux
//!   receiver would accept the frame.
//! - [`summary::Summary`] folds decoded frames into the per-point statistics that
//!   `netcap summary` prints.
//! - [`tcp::Analyzer`] follows every TCP connection per capture point: per-segment
//!   labels, RTT, SYN retries, and a [`tcp::FlowRecord`] per flow.
//! - [`correlate::Correlator`] matches the same packets across capture points and
//!   reports where they were lost and why ([`findings::Finding`]).
//! - [`export::pcapng::PcapngWriter`] writes frames back out as pcapng, with a comment
//!   per frame (the evidence file of `netcap extract`).
//! - [`export`] (feature `parquet`) writes packets, flows, TCP events, findings and
//!   matches as Parquet tables, one schema per table defined next to its builder.
//!
//! The library never prints, never exits and never reads the clock: every time is a
//! capture timestamp in nanoseconds since the Unix epoch.
//!
//! # References
//! - pcap: draft-ietf-opsawg-pcap; pcapng: draft-ietf-opsawg-pcapng; link types:
//!   <https://www.tcpdump.org/linktypes.html>
//! - RFC 791 (IPv4), RFC 8200 (IPv6), RFC 768 (UDP), RFC 9293 (TCP), RFC 792 / 4443 (ICMP)
//! - RFC 1071 / 1624 (Internet checksum), RFC 6935 / 6936 (zero UDP checksums in tunnels)
//! - RFC 7348 (VXLAN), RFC 8926 (Geneve), RFC 2784 / 2890 (GRE), RFC 2003 / 4213 (IP-in-IP)

#![warn(missing_docs)]

pub mod analysis;
pub mod capture;
pub mod checksum;
pub mod correlate;
pub mod decode;
pub mod export;
pub mod findings;
pub mod flow;
pub mod record;
pub mod summary;
pub mod tcp;

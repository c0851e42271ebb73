//! netcap-core: read packet captures, decode every layer laxly, judge every checksum,
//! analyse TCP per capture point, and match packets across capture points.
//!
//! # Start here: the engine
//! [`analysis::Analysis`] is what every `netcap` command runs: files (memory-mapped),
//! capture points, clock offsets, the time-ordered merge, decoding, the TCP analysis and
//! the correlation on every core, and the findings — one call, each input read once.
//! An [`analysis::Observer`] sees every frame, segment, flow and packet path on the way.
//!
//! ```
//! use netcap_core::analysis::Analysis;
//!
//! let lab = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/lab/flannel/");
//! let outcome = Analysis::new()
//!     .files([format!("{lab}client_pod.pcap"), format!("{lab}server_underlay.pcap"), format!("{lab}server_pod.pcap")])
//!     .run(&mut ())?;
//! let finding = &outcome.report.as_ref().expect("correlated").findings[0];
//! assert_eq!((finding.kind, finding.points.clone()), ("dropped_bad_outer_checksum", vec!["server_underlay".to_string(), "server_pod".to_string()]));
//! # Ok::<(), netcap_core::analysis::AnalysisError<std::convert::Infallible>>(())
//! ```
//!
//! Runnable programs in `netcap-core/examples/`: `verdicts` (every checksum verdict),
//! `flows` (retransmissions and RTT per flow), `findings` (correlate and print the
//! findings), `vni_counter` (an observer of your own), `correlate_json` (`netcap
//! correlate --format json` in 14 lines). `docs/api.md` lists which entry point serves
//! which need.
//!
//! # The building blocks
//! - [`capture::CaptureReader`] streams timestamped frames out of a pcap, pcapng or
//!   gzip-, zstd- or xz-compressed file, one capture point per (file, interface).
//! - [`decode::Decoder`] walks the layers of one frame (Ethernet … tunnels … TCP) and
//!   attaches a [`checksum::Verdict`] to every checksummed layer, plus whether a Linux
//!   receiver would accept the frame; [`decode::Packet::five_tuple`] and
//!   [`decode::Packet::innermost_tcp`] say which connection the frame belongs to.
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

/// A hash map keyed by what a capture says (addresses, ports, packet fingerprints), for
/// the large maps a run consults per frame: its hasher (aHash) is seeded at random per
/// map, so that a crafted capture cannot put its keys in one bucket and make each lookup
/// a walk over all of them. FxHash (rustc-hash) is unkeyed and near linear — keys that
/// collide under it can be worked out offline — so it serves keys netcap makes itself
/// (docs/decisions.md 31).
pub(crate) type CaptureKeyed<K, V> = std::collections::HashMap<K, V, ahash::RandomState>;

pub mod analysis;
pub mod bundle;
pub mod capture;
pub mod checksum;
pub mod correlate;
pub mod decode;
pub mod export;
pub mod filter;
pub mod findings;
pub mod flow;
pub mod record;
pub mod summary;
pub mod tcp;

/// The README's example (the crate's page on crates.io), compiled with the doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

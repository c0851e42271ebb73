//! Exporters: netcap's results as files other tools read.
//!
//! - [`pcapng::PcapngWriter`] writes a pcapng file block by block to any
//!   [`std::io::Write`]: the evidence file of `netcap extract` (the frames a finding
//!   cites, each with a comment saying why it is there).
//! - `parquet` (cargo feature `parquet`, which pulls in the arrow and parquet
//!   crates): the tables `packets`, `flows`, `tcp_events`, `findings` and `matches`,
//!   each with its Arrow schema defined once, next to its builder. `netcap export`
//!   writes them; every column is documented in `docs/parquet.md`.
//!
//! The JSON of `netcap packets --format jsonl` and `netcap flows --format json` is the
//! serde form of [`crate::record::PacketRecord`] and [`crate::tcp::FlowRecord`].

#[cfg(feature = "parquet")]
pub mod parquet;
pub mod pcapng;

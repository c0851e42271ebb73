//! Writers of netcap's outputs.
//!
//! - [`pcapng::PcapngWriter`] writes a pcapng file block by block to any
//!   [`std::io::Write`]: the evidence file of `netcap extract` (the frames a finding
//!   cites, each with a comment saying why it is there).

pub mod pcapng;

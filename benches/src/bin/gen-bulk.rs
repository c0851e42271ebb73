//! `gen-bulk --size 1G --out FILE [--connections N] [--payload text|random]
//! [--loss PERCENT --delay-us US]`: writes a classic pcap of full-size (1514-byte)
//! TCP-in-VXLAN/8472 frames with correct checksums, as large as fits in `--size` bytes
//! (within one record of it). Streams through a `BufWriter`: memory does not grow with
//! the size. The same arguments always give the same bytes.
//!
//! `--loss` and `--delay-us` write the same stream as a capture point further along the
//! path sees it: every frame `US` microseconds later, and `PERCENT` % of them missing
//! (chosen by a hash of the frame number, so the same ones every time). With the same
//! `--size`, the two files hold the same packets but the lost ones: two capture points
//! for `netcap correlate`.
//!
//! Sizes: a plain byte count, or a number with `K`/`M`/`G`/`T` (also `KiB`… : powers of
//! 1024) or `KB`/`MB`/`GB`/`TB` (powers of 1000). `--out -` writes to standard output.
//! `--payload`: printable text (default) or random bytes; see [`Payload`].

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use netcap_benches::{
    write_pcap_header, write_pcap_record, BulkStream, Payload, FULL_FRAME, LINKTYPE_ETHERNET,
    PCAP_HEADER_LEN, PCAP_RECORD_HEADER_LEN,
};

const USAGE: &str =
    "usage: gen-bulk --size SIZE --out FILE [--connections N] [--payload text|random] [--loss PERCENT --delay-us US]\n\
SIZE: bytes, or with K/M/G/T (binary) or KB/MB/GB/TB (decimal) suffix, e.g. 1G, 256M";

fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num.parse().ok()?;
    let mult: u64 = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 1,
        "K" | "KIB" => 1 << 10,
        "M" | "MIB" => 1 << 20,
        "G" | "GIB" => 1 << 30,
        "T" | "TIB" => 1 << 40,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "TB" => 1_000_000_000_000,
        _ => return None,
    };
    n.checked_mul(mult)
}

struct Args {
    size: u64,
    out: String,
    connections: u16,
    payload: Payload,
    /// Frames left out, in millionths.
    loss_ppm: u64,
    delay_ns: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut size = None;
    let mut out = None;
    let mut connections = 4u16;
    let mut payload = Payload::Text;
    let mut loss_ppm = 0u64;
    let mut delay_ns = 0u64;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let (key, inline) = match a.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (a.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(format!("{key} needs a value"))
        };
        match key.as_str() {
            "--size" => {
                let v = value()?;
                size = Some(parse_size(&v).ok_or(format!("bad size {v:?}"))?);
            }
            "--out" | "-o" => out = Some(value()?),
            "--connections" => {
                let v = value()?;
                connections = v
                    .parse()
                    .map_err(|_| format!("bad connection count {v:?}"))?;
            }
            "--payload" => {
                payload = match value()?.as_str() {
                    "text" => Payload::Text,
                    "random" => Payload::Random,
                    v => return Err(format!("bad payload {v:?} (text or random)")),
                };
            }
            "--loss" => {
                let v = value()?;
                let pct: f64 = v.parse().ok().filter(|p: &f64| (0.0..=100.0).contains(p)).ok_or(format!("bad loss {v:?} (a percentage)"))?;
                loss_ppm = (pct * 10_000.0).round() as u64;
            }
            "--delay-us" => {
                let v = value()?;
                delay_ns = v.parse::<u64>().map_err(|_| format!("bad delay {v:?}"))?.saturating_mul(1000);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Args {
        size: size.ok_or("--size is required")?,
        out: out.ok_or("--out is required")?,
        connections: connections.max(1),
        payload,
        loss_ppm,
        delay_ns,
    })
}

fn generate(args: &Args, w: &mut impl Write) -> io::Result<(u64, u64)> {
    write_pcap_header(w, 262_144, LINKTYPE_ETHERNET)?;
    let record = (PCAP_RECORD_HEADER_LEN + FULL_FRAME) as u64;
    // Frames are counted against the size as if none were lost, so that a lossy copy
    // holds the same packets as the file without loss.
    let mut upstream = PCAP_HEADER_LEN as u64;
    let mut written = upstream;
    let mut kept = 0u64;
    let mut stream = BulkStream::new(args.connections, args.payload);
    while upstream + record <= args.size {
        let n = stream.frames();
        let (ts, data) = stream.next_frame();
        upstream += record;
        if lost(n, args.loss_ppm) {
            continue;
        }
        write_pcap_record(w, ts + args.delay_ns, data)?;
        written += record;
        kept += 1;
    }
    w.flush()?;
    Ok((kept, written))
}

/// Whether frame `n` (0-based) is left out at `ppm` millionths: a SplitMix64 hash of
/// its number, so the choice is spread evenly and the same on every run.
fn lost(n: u64, ppm: u64) -> bool {
    let mut z = n.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    z % 1_000_000 < ppm
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("gen-bulk: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let result = if args.out == "-" {
        let stdout = io::stdout();
        generate(&args, &mut BufWriter::with_capacity(1 << 20, stdout.lock()))
    } else {
        File::create(&args.out)
            .and_then(|f| generate(&args, &mut BufWriter::with_capacity(1 << 20, f)))
    };
    match result {
        Ok((frames, bytes)) => {
            eprintln!("gen-bulk: {frames} frames, {bytes} bytes -> {}", args.out);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen-bulk: error: {}: {e}", args.out);
            ExitCode::from(1)
        }
    }
}

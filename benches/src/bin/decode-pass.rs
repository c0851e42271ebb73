//! `decode-pass FILE [--repeat N]`: one thread reads FILE with `CaptureReader`, decodes
//! every frame with `Decoder::decode_into` (every checksum judged) and counts layers and
//! verdicts; prints frames, bytes, seconds and GB/s. `--in-memory` first copies the file
//! into memory (for files that fit) so the figure is decode + checksum + record parsing
//! without the `read` system calls. Run it under `taskset -c 0` for a one-core figure.

use std::io::Cursor;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use netcap_core::capture::CaptureReader;
use netcap_core::checksum::Status;
use netcap_core::decode::{Decoder, Packet};

#[derive(Default)]
struct Counts {
    frames: u64,
    bytes: u64,
    layers: u64,
    good: u64,
    not_good: u64,
}

fn pass(mut reader: CaptureReader) -> Result<Counts, String> {
    let decoder = Decoder::default();
    let mut packet = Packet::default();
    let mut c = Counts::default();
    while let Some(frame) = reader.next_frame().map_err(|e| e.to_string())? {
        decoder.decode_into(frame.link_type, frame.data, &mut packet);
        c.frames += 1;
        c.bytes += frame.data.len() as u64;
        c.layers += packet.layers.len() as u64;
        for l in &packet.layers {
            match l.checksum {
                Some(v) if v.status == Status::Good => c.good += 1,
                Some(_) => c.not_good += 1,
                None => {}
            }
        }
    }
    Ok(c)
}

fn main() -> ExitCode {
    let mut path = None;
    let mut in_memory = false;
    let mut repeat = 1u32;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--in-memory" => in_memory = true,
            "--repeat" => repeat = args.next().and_then(|v| v.parse().ok()).unwrap_or(1).max(1),
            _ if path.is_none() => path = Some(a),
            _ => {
                eprintln!("usage: decode-pass FILE [--in-memory] [--repeat N]");
                return ExitCode::from(2);
            }
        }
    }
    let Some(path) = path else {
        eprintln!("usage: decode-pass FILE [--in-memory] [--repeat N]");
        return ExitCode::from(2);
    };
    let memory: Option<Arc<[u8]>> = if in_memory {
        match std::fs::read(&path) {
            Ok(v) => Some(v.into()),
            Err(e) => {
                eprintln!("decode-pass: {path}: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        None
    };
    for _ in 0..repeat {
        let start = Instant::now();
        let reader = match &memory {
            Some(m) => CaptureReader::from_reader(&path, Cursor::new(Arc::clone(m))),
            None => CaptureReader::open(&path),
        };
        let counts = match reader.map_err(|e| e.to_string()).and_then(pass) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("decode-pass: {e}");
                return ExitCode::from(1);
            }
        };
        let secs = start.elapsed().as_secs_f64();
        println!(
            "decode-pass{}: frames {} bytes {} layers {} good {} not_good {} seconds {:.3} GB/s {:.3}",
            if memory.is_some() { " (in memory)" } else { "" },
            counts.frames,
            counts.bytes,
            counts.layers,
            counts.good,
            counts.not_good,
            secs,
            counts.bytes as f64 / secs / 1e9,
        );
    }
    ExitCode::SUCCESS
}

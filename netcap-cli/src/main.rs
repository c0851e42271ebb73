//! `netcap`: the command-line front end. Argument parsing, wiring, messages and exit
//! codes live here; the work is done by `netcap-core`.
//!
//! Exit status: 0 when every file was read to its end (warnings such as a file cut
//! mid-record do not count), 1 when any file could not be read or stopped at a corrupt
//! record, 2 for a usage error. A closed stdout (`netcap packets x | head`) ends quietly.

mod text;

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use netcap_core::capture::{CaptureError, CaptureReader, CapturePoint, Frame};
use netcap_core::decode::{DecodeOptions, Decoder, Packet};
use netcap_core::record::PacketRecord;
use netcap_core::summary::Summary;

/// Offline packet-capture analyzer: decodes every layer of tcpdump files (pcap, pcapng,
/// `-i any`, gzip) including VXLAN/Geneve/GRE/IP-in-IP tunnels, and judges every
/// checksum at every depth.
#[derive(Debug, Parser)]
#[command(name = "netcap", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Without a command: summarise these captures (same as `netcap summary`).
    #[command(flatten)]
    summary: SummaryArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One line per frame: the layer stack and every checksum verdict.
    Packets(PacketsArgs),
    /// Capture points, time span, encapsulations, checksum verdicts, decode stops.
    Summary(SummaryArgs),
}

#[derive(Debug, Args)]
struct Common {
    /// Capture files: pcap, pcapng, optionally gzip-compressed; `-` reads stdin.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Also decode UDP destination PORT as VXLAN (4789 and 8472 always are).
    #[arg(long = "vxlan-port", value_name = "PORT")]
    vxlan_ports: Vec<u16>,
    /// Also decode UDP destination PORT as Geneve (6081 always is).
    #[arg(long = "geneve-port", value_name = "PORT")]
    geneve_ports: Vec<u16>,
}

#[derive(Debug, Args)]
struct PacketsArgs {
    #[command(flatten)]
    common: Common,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PacketsFormat::Text)]
    format: PacketsFormat,
}

#[derive(Debug, Args)]
struct SummaryArgs {
    #[command(flatten)]
    common: Common,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
    /// Example frames listed per count.
    #[arg(long, value_name = "N", default_value_t = netcap_core::summary::DEFAULT_FIRST_FRAMES)]
    first_frames: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum PacketsFormat {
    Text,
    Jsonl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SummaryFormat {
    Text,
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = match cli.command {
        Some(Command::Packets(a)) => packets(&a, &mut out),
        Some(Command::Summary(a)) => summary(&a, &mut out),
        None if cli.summary.common.files.is_empty() => {
            eprintln!("netcap: no capture files given; try `netcap --help`");
            return ExitCode::from(2);
        }
        None => summary(&cli.summary, &mut out),
    };
    let result = result.and_then(|failed| out.flush().map(|()| failed));
    match result {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("netcap: error: writing output: {e}");
            ExitCode::from(1)
        }
    }
}

impl Common {
    fn decoder(&self) -> Decoder {
        let mut opts = DecodeOptions::default();
        for &p in &self.vxlan_ports {
            if !opts.vxlan_ports.contains(&p) {
                opts.vxlan_ports.push(p);
            }
        }
        for &p in &self.geneve_ports {
            if !opts.geneve_ports.contains(&p) {
                opts.geneve_ports.push(p);
            }
        }
        Decoder::new(opts)
    }

}

fn open(path: &std::path::Path) -> Result<CaptureReader, CaptureError> {
    if path.as_os_str() == "-" {
        CaptureReader::from_reader("-", io::stdin())
    } else {
        CaptureReader::open(path)
    }
}

/// Where decoded frames go: `point` is called once per new capture point and returns
/// the index later passed to `frame`.
trait Sink {
    fn point(&mut self, p: &CapturePoint) -> usize;
    fn frame(&mut self, point: usize, frame: &Frame<'_>, packet: &Packet) -> io::Result<()>;
}

/// Reads every file in turn and feeds each decoded frame to `sink`. Errors and
/// warnings go to stderr; the return value says whether any file failed.
fn for_each_frame(common: &Common, sink: &mut impl Sink) -> io::Result<bool> {
    if common.files.is_empty() {
        eprintln!("netcap: no capture files given");
    }
    let decoder = common.decoder();
    let mut packet = Packet::default();
    let mut failed = common.files.is_empty();
    for path in &common.files {
        let mut reader = match open(path) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("netcap: error: {e}");
                failed = true;
                continue;
            }
        };
        // Reader point id → sink index, filled as points appear.
        let mut ids: Vec<usize> = Vec::new();
        loop {
            let frame = match reader.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    eprintln!("netcap: error: {e}");
                    failed = true;
                    break;
                }
            };
            decoder.decode_into(frame.link_type, frame.data, &mut packet);
            let pid = frame.point.0 as usize;
            if let Some(&idx) = ids.get(pid) {
                sink.frame(idx, &frame, &packet)?;
                continue;
            }
            // A new point: the frame borrows the reader's buffer, so copy it out before
            // asking the reader for its points (rare: once per point).
            let data = frame.data.to_vec();
            let frame = Frame { data: &data, ..frame };
            while ids.len() <= pid {
                let Some(p) = reader.points().get(ids.len()) else { break };
                ids.push(sink.point(p));
            }
            if let Some(&idx) = ids.get(pid) {
                sink.frame(idx, &frame, &packet)?;
            }
        }
        for w in reader.take_warnings() {
            eprintln!("netcap: warning: {w}");
        }
    }
    Ok(failed)
}

struct PacketsSink<'w, W> {
    out: &'w mut W,
    format: PacketsFormat,
    names: Vec<String>,
}

impl<W: Write> Sink for PacketsSink<'_, W> {
    fn point(&mut self, p: &CapturePoint) -> usize {
        self.names.push(p.name.clone());
        self.names.len() - 1
    }

    fn frame(&mut self, point: usize, frame: &Frame<'_>, packet: &Packet) -> io::Result<()> {
        let name = self.names.get(point).map_or("?", String::as_str);
        match self.format {
            PacketsFormat::Jsonl => {
                serde_json::to_writer(&mut *self.out, &PacketRecord::new(name, frame, packet))?;
                self.out.write_all(b"\n")
            }
            PacketsFormat::Text => text::packet_line(self.out, name, frame, packet),
        }
    }
}

impl Sink for Summary {
    fn point(&mut self, p: &CapturePoint) -> usize {
        self.add_point(p)
    }

    fn frame(&mut self, point: usize, frame: &Frame<'_>, packet: &Packet) -> io::Result<()> {
        self.add(point, frame, packet);
        Ok(())
    }
}

fn packets(args: &PacketsArgs, out: &mut impl Write) -> io::Result<bool> {
    let mut sink = PacketsSink { out, format: args.format, names: Vec::new() };
    for_each_frame(&args.common, &mut sink)
}

fn summary(args: &SummaryArgs, out: &mut impl Write) -> io::Result<bool> {
    let mut s = Summary::new(args.first_frames);
    let failed = for_each_frame(&args.common, &mut s)?;
    let report = s.report();
    match args.format {
        SummaryFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            out.write_all(b"\n")?;
        }
        SummaryFormat::Text => text::summary(out, &report)?,
    }
    Ok(failed)
}

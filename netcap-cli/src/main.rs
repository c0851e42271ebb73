//! `netcap`: the command-line front end. Argument parsing, wiring, messages and exit
//! codes live here; the work is done by `netcap-core`.
//!
//! Exit status: 0 when every file was read to its end (warnings such as a file cut
//! mid-record do not count), 1 when any file could not be read or stopped at a corrupt
//! record, 2 for a usage error. A closed stdout (`netcap packets x | head`) ends quietly.

mod correlate;
mod evidence;
mod export;
mod extract;
mod man;
mod query;
mod report;
mod spill;
mod text;
mod ui;

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};
use netcap_core::analysis::{Analysis, AnalysisError, FrameEvent, Observer, Order, Outcome};
use netcap_core::decode::UdpTunnel;
use netcap_core::flow::table::FlowLimits;
use netcap_core::record::PacketRecord;
use netcap_core::summary::Summarize;

/// Offline packet-capture analyzer: decodes every layer of tcpdump files (pcap, pcapng,
/// `-i any`, gzip/zstd/xz; ring buffers, directories, Retina bundles, Inspektor Gadget pcapng) including VXLAN/Geneve/GRE/IP-in-IP tunnels, judges every checksum at
/// every depth, follows every TCP connection per capture point, and matches packets
/// across capture points to show where they were lost and why.
#[derive(Debug, Parser)]
#[command(name = "netcap", version, args_conflicts_with_subcommands = true)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// No progress bar and no warnings (errors are still printed).
    #[arg(short = 'q', long, global = true)]
    quiet: bool,
    /// Colour the text output: `auto` when it goes to a terminal and NO_COLOR is unset.
    #[arg(long, value_enum, global = true, value_name = "WHEN", default_value_t = ui::ColorChoice::Auto)]
    color: ui::ColorChoice,
    /// Without a command: summarise these captures (same as `netcap summary`).
    #[command(flatten)]
    summary: SummaryArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// One line per frame: the layer stack and every checksum verdict.
    Packets(PacketsArgs),
    /// Capture points, time span, encapsulations, checksum verdicts, decode stops, TCP
    /// health.
    Summary(SummaryArgs),
    /// TCP flows per capture point, the flows in trouble first: retransmissions, RTT,
    /// SYN retries, outcome.
    Flows(FlowsArgs),
    /// Match packets across capture points: where they were lost, and why.
    Correlate(CorrelateArgs),
    /// Write a report for a ticket: Markdown (`-o report.md`) or self-contained HTML
    /// with plots (`-o report.html`).
    Report(report::ReportArgs),
    /// Write the frames a finding, flow or frame list selects to an evidence pcapng,
    /// each with a comment saying why it is there.
    Extract(extract::ExtractArgs),
    /// Write packets, flows, TCP events, findings and matches as Parquet tables.
    Export(export::ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) of netcap or of one command, or write every page into a
    /// directory (--dir).
    Man(man::ManArgs),
}

#[derive(Debug, Args)]
struct Common {
    /// Capture files: pcap, pcapng, optionally compressed (gzip, zstd, xz); `-` reads
    /// stdin; a directory: every capture in it, recursively, each point named by its
    /// path in it.
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Also decode UDP destination PORT as VXLAN (4789 and 8472 always are).
    #[arg(long = "vxlan-port", value_name = "PORT")]
    vxlan_ports: Vec<u16>,
    /// Also decode UDP destination PORT as Geneve (6081 always is).
    #[arg(long = "geneve-port", value_name = "PORT")]
    geneve_ports: Vec<u16>,
    /// Decode UDP PORT as PROTO, or as plain UDP with `udp`, replacing what the port
    /// meant (tshark's `-d udp.port==PORT,PROTO` is accepted too). PROTO: vxlan, geneve,
    /// gre, mpls, vxlan-gpe, gtpu, teredo, capwap, ayiya, wireguard, esp.
    #[arg(long = "decode-as", value_name = "PORT=PROTO", value_parser = correlate::parse_decode_as)]
    decode_as: Vec<(u16, Option<UdpTunnel>)>,
    /// Most TCP flows tracked at once; past it the least recently seen are evicted.
    #[arg(long = "max-flows", value_name = "N", default_value_t = FlowLimits::default().max_flows)]
    max_flows: usize,
    /// A TCP flow idle this long (capture time, seconds) is finished.
    #[arg(long = "flow-timeout", value_name = "SECONDS", default_value_t = FlowLimits::default().idle_timeout_ns / 1_000_000_000)]
    flow_timeout: i64,
    /// Threads to use (0: one per core). The output is the same for every number.
    #[arg(long, value_name = "N", default_value_t = 0)]
    threads: usize,
    /// Analyse only the frames this capture filter keeps: tcpdump's expression, with
    /// libpcap's meaning (e.g. 'host 10.244.1.2 and tcp port 80'). The words after
    /// `--` are the same.
    #[arg(short = 'f', long = "filter", value_name = "EXPR")]
    filter: Option<String>,
    /// Read the capture filter from FILE (tcpdump's -F; `#` starts a comment).
    #[arg(short = 'F', long = "filter-file", value_name = "FILE")]
    filter_file: Option<PathBuf>,
    /// Analyse only the frames whose innermost packet this expression keeps: the
    /// VXLAN/Geneve/GRE/IP-in-IP payload, or the frame itself when it has no tunnel
    /// (e.g. --inner 'tcp port 8080' selects a pod's connection on the underlay).
    #[arg(long = "inner", value_name = "EXPR")]
    inner: Option<String>,
    /// Analyse only the first N frames the filters keep (tcpdump's -c).
    #[arg(short = 'c', long = "count", value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    count: Option<u64>,
    /// Analyse only the frames at or after TIME: RFC 3339 (2026-12-06T10:24:43Z) or a
    /// duration after the first frame (+90s, 250ms, 2m).
    #[arg(long, value_name = "TIME", value_parser = netcap_core::filter::TimeBound::parse)]
    from: Option<netcap_core::filter::TimeBound>,
    /// Analyse only the frames before TIME (as --from).
    #[arg(long, value_name = "TIME", value_parser = netcap_core::filter::TimeBound::parse)]
    to: Option<netcap_core::filter::TimeBound>,
    /// The capture filter as tcpdump takes it, after `--`.
    #[arg(last = true, value_name = "EXPRESSION")]
    expression: Vec<String>,
}

/// Where a command's text or JSON goes.
#[derive(Debug, Args)]
struct OutputArg {
    /// Write to FILE instead of standard output (`-`).
    #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "-")]
    output: PathBuf,
}

#[derive(Debug, Args)]
struct PacketsArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    output: OutputArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = PacketsFormat::Text)]
    format: PacketsFormat,
}

#[derive(Debug, Args)]
struct SummaryArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    output: OutputArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
    /// Example frames listed per count.
    #[arg(long, value_name = "N", default_value_t = netcap_core::summary::DEFAULT_FIRST_FRAMES)]
    first_frames: usize,
}

#[derive(Debug, Args)]
struct FlowsArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    output: OutputArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
    /// Text: list only the flows in trouble (retransmissions, lost segments, SYN
    /// retries, resets, failed handshakes).
    #[arg(long)]
    trouble: bool,
}

/// The inputs of the cross-point analysis shared by `correlate`, `report`, `extract`
/// and `export`: files, point names, clock offsets, NAT matching.
#[derive(Debug, Args)]
struct AnalysisArgs {
    #[command(flatten)]
    common: Common,
    /// Add NAME's clock offset to its timestamps (e.g. `server_underlay=-1.234567s`,
    /// `node2=+250ms`); points on one host share a clock and need none.
    #[arg(long = "clock-offset", value_name = "NAME=±DURATION")]
    clock_offsets: Vec<String>,
    /// Name a capture point: NAME=FILE for a file's (first) point, NAME=FILE#IFACE for
    /// one interface (its name, pcapng interface number or LINUX_SLL2 ifindex). The file
    /// is read even when not listed among FILE. NAME=PATTERN ('node1.pcap*', quoted or
    /// not) or NAME=DIR: one point read from several files (a ring buffer, rotated
    /// files), in the order of their first frame.
    #[arg(long = "point", value_name = "NAME=FILE[#IFACE]")]
    points: Vec<String>,
    /// Match UDP and ICMP packets whose addresses or ports a NAT rewrote (TCP always is).
    #[arg(long)]
    nat: bool,
}

#[derive(Debug, Args)]
struct CorrelateArgs {
    #[command(flatten)]
    analysis: AnalysisArgs,
    #[command(flatten)]
    output: OutputArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
    format: SummaryFormat,
    /// List every packet: where it was seen (point, frame, time) and where it is missing.
    #[arg(long)]
    packets: bool,
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

impl Cli {
    /// For a command that writes text or JSON to `-o FILE` (not `-`): the file, and
    /// the capture files the command reads (`--point` files included).
    fn output_file(&self) -> Option<(&Path, Vec<&Path>)> {
        let (o, inputs): (&OutputArg, Vec<&Path>) = match &self.command {
            Some(Command::Packets(a)) => (&a.output, a.common.files.iter().map(PathBuf::as_path).collect()),
            Some(Command::Summary(a)) => (&a.output, a.common.files.iter().map(PathBuf::as_path).collect()),
            Some(Command::Flows(a)) => (&a.output, a.common.files.iter().map(PathBuf::as_path).collect()),
            Some(Command::Correlate(a)) => (&a.output, a.analysis.inputs().collect()),
            None => (&self.summary.output, self.summary.common.files.iter().map(PathBuf::as_path).collect()),
            _ => return None,
        };
        (o.output.as_os_str() != "-").then_some((o.output.as_path(), inputs))
    }
}

impl AnalysisArgs {
    /// The capture files read: FILE arguments, then the files `--point NAME=FILE[#IFACE]`
    /// names.
    fn inputs(&self) -> impl Iterator<Item = &Path> {
        let named = self
            .points
            .iter()
            .filter_map(|p| p.split_once('='))
            .map(|(_, f)| Path::new(f.rsplit_once('#').map_or(f, |x| x.0)));
        self.common.files.iter().map(PathBuf::as_path).chain(named)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let output = cli.output_file();
    let target: Box<dyn Write> = match &output {
        Some((path, inputs)) if inputs.iter().any(|f| same_file(f, path)) => {
            ui::init(cli.quiet, cli.color, false);
            ui::error(format_args!("{}: the output is one of the input files", path.display()));
            return ExitCode::from(1);
        }
        Some((path, _)) => match std::fs::File::create(path) {
            Ok(f) => Box::new(f),
            Err(e) => {
                ui::init(cli.quiet, cli.color, false);
                ui::error(format_args!("{}: {e}", path.display()));
                return ExitCode::from(1);
            }
        },
        None => Box::new(io::stdout().lock()),
    };
    ui::init(cli.quiet, cli.color, output.is_none() && io::stdout().is_terminal());
    let mut out = BufWriter::with_capacity(1 << 16, target);
    let result = match cli.command {
        Some(Command::Packets(a)) => packets(&a, &mut out),
        Some(Command::Summary(a)) => summary(&a, &mut out),
        Some(Command::Flows(a)) => flows(&a, &mut out),
        Some(Command::Correlate(a)) => correlate::run(&a, &mut out),
        Some(Command::Report(a)) => report::run(&a, &mut out),
        Some(Command::Extract(a)) => extract::run(&a, &mut out),
        Some(Command::Export(a)) => export::run(&a, &mut out),
        Some(Command::Completions { shell }) => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "netcap", &mut out);
            Ok(false)
        }
        Some(Command::Man(a)) => man::run(&a, &mut out),
        None if cli.summary.common.files.is_empty() => {
            ui::error("no capture files given; try `netcap --help`");
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
            ui::error(format_args!("writing output: {e}"));
            ExitCode::from(1)
        }
    }
}

/// Runs `analysis` through `observer` with messages and progress on stderr; `Err` is
/// the observer's error, `Ok(None)` a run that could not start (said already).
fn run_analysis<O: Observer>(analysis: Analysis, files: &[PathBuf], observer: O) -> Result<Option<(Outcome, O)>, O::Error>
where
    O::Error: std::fmt::Display,
{
    let mut messages = correlate::Messages::new(files, observer);
    match analysis.run(&mut messages) {
        Ok(outcome) => Ok(Some((outcome, messages.inner))),
        Err(AnalysisError::Observer(e)) => Err(e),
        Err(e) => {
            ui::error(e);
            Ok(None)
        }
    }
}

/// The capture files of a per-file command, or the message that there are none (or
/// that an option is wrong).
fn per_file(common: &Common) -> Option<Analysis> {
    if common.files.is_empty() {
        ui::error("no capture files given");
        return None;
    }
    common.analysis(Order::Files).map_err(ui::error).ok()
}

/// Prints one line (or JSON line) per frame.
struct PacketsOut<'w, W> {
    out: &'w mut W,
    format: PacketsFormat,
}

impl<W: Write> Observer for PacketsOut<'_, W> {
    type Error = io::Error;

    fn frame(&mut self, e: &FrameEvent<'_>) -> io::Result<()> {
        let name = e.point_info.name.as_str();
        match self.format {
            PacketsFormat::Jsonl => {
                let record = PacketRecord { tcp: e.segment.copied(), ..PacketRecord::new(name, &e.frame, e.packet) };
                serde_json::to_writer(&mut *self.out, &record)?;
                self.out.write_all(b"\n")
            }
            PacketsFormat::Text => text::packet_line(self.out, name, &e.frame, e.packet, e.segment),
        }
    }
}

/// The command line as typed, each argument quoted for a POSIX shell where needed.
pub(crate) fn command_line() -> String {
    let mut parts = vec!["netcap".to_string()];
    parts.extend(std::env::args().skip(1).map(|a| shell_quote(&a)));
    parts.join(" ")
}

fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,#".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Whether two paths name the same existing file (an output must not overwrite an
/// input).
pub(crate) fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn packets(args: &PacketsArgs, out: &mut impl Write) -> io::Result<bool> {
    let Some(analysis) = per_file(&args.common) else { return Ok(true) };
    // Flows are not printed here: not kept, memory stays flat.
    let sink = PacketsOut { out, format: args.format };
    let run = run_analysis(analysis.keep_flows(false), &args.common.files, sink)?;
    Ok(run.is_none_or(|(o, _)| o.failed()))
}

fn flows(args: &FlowsArgs, out: &mut impl Write) -> io::Result<bool> {
    let Some(analysis) = per_file(&args.common) else { return Ok(true) };
    let Ok(Some((outcome, ()))) = run_analysis(analysis, &args.common.files, ()) else { return Ok(true) };
    let failed = outcome.failed();
    let mut flows = outcome.flows;
    // The flows in trouble first, worst first; then in order of appearance.
    flows.sort_by(|a, b| b.trouble().cmp(&a.trouble()).then(a.id.cmp(&b.id)));
    match args.format {
        SummaryFormat::Json => {
            let mut doc = serde_json::json!({ "flows": flows, "table": outcome.table });
            if let Some(s) = &outcome.selection {
                doc["selection"] = serde_json::json!(s);
            }
            if !outcome.names.is_empty() {
                doc["names"] = serde_json::json!(outcome.names);
            }
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            out.write_all(b"\n")?;
        }
        SummaryFormat::Text => {
            text::selection(out, outcome.selection.as_ref(), outcome.frames)?;
            text::flows(out, &flows, args.trouble, &outcome.names)?;
        }
    }
    Ok(failed)
}

fn summary(args: &SummaryArgs, out: &mut impl Write) -> io::Result<bool> {
    let Some(analysis) = per_file(&args.common) else { return Ok(true) };
    let summarize = Summarize::new(args.first_frames);
    let Ok(Some((outcome, summarize))) = run_analysis(analysis.keep_flows(false), &args.common.files, summarize) else {
        return Ok(true);
    };
    let report = summarize.report(&outcome);
    match args.format {
        SummaryFormat::Json => {
            // `selection` first when frames were selected, then the report's fields.
            #[derive(serde::Serialize)]
            struct Doc<'a> {
                #[serde(skip_serializing_if = "Option::is_none")]
                selection: Option<&'a netcap_core::filter::SelectionReport>,
                #[serde(skip_serializing_if = "netcap_core::analysis::Names::is_empty")]
                names: &'a netcap_core::analysis::Names,
                #[serde(flatten)]
                report: &'a netcap_core::summary::Report,
            }
            let doc = Doc { selection: outcome.selection.as_ref(), names: &outcome.names, report: &report };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            out.write_all(b"\n")?;
        }
        SummaryFormat::Text => {
            text::selection(out, outcome.selection.as_ref(), outcome.frames)?;
            text::summary(out, &report, &outcome.names)?;
        }
    }
    Ok(outcome.failed())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("fixtures/a.pcap"), "fixtures/a.pcap");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("--clock-offset=b=-1.5ms"), "--clock-offset=b=-1.5ms");
    }
}

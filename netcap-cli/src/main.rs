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
mod interrupt;
mod man;
mod output;
mod query;
mod report;
mod spill;
mod text;
mod ui;
mod verdict;

use std::borrow::Cow;
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
    /// Accepted for tcpdump's habit and ignored: netcap never resolves names (it shows
    /// the names a pcapng's name resolution blocks carry).
    #[arg(short = 'n', global = true, action = clap::ArgAction::Count)]
    numeric: u8,
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
    /// Most TCP flow records kept for the findings and the flows listing; past it they
    /// are analysed and counted, and the output says how many.
    #[arg(long = "max-flow-records", value_name = "N", default_value_t = netcap_core::analysis::MAX_FLOW_RECORDS)]
    max_flow_records: usize,
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
    /// Read FILE, as tcpdump's `-r FILE` (the same as giving FILE; may be repeated).
    #[arg(short = 'r', value_name = "FILE")]
    read: Vec<PathBuf>,
    #[command(flatten)]
    habits: Habits,
}

/// tcpdump's and tshark's options that netcap does not have, taken only to say what to
/// use instead (a usage error), rather than clap's "unexpected argument".
#[derive(Debug, Args)]
struct Habits {
    #[arg(short = 'w', hide = true, num_args = 0..=1, value_name = "FILE")]
    write: Option<Option<String>>,
    #[arg(short = 'Y', hide = true, num_args = 0..=1, value_name = "EXPR")]
    display_filter: Option<Option<String>>,
    #[arg(short = 'x', short_alias = 'X', hide = true, action = clap::ArgAction::Count)]
    hex: u8,
    #[arg(short = 'i', hide = true, num_args = 0..=1, value_name = "IFACE")]
    interface: Option<Option<String>>,
}

impl Habits {
    /// What to use instead of the first such option given, if any.
    fn refusal(&self) -> Option<&'static str> {
        if self.interface.is_some() {
            Some(
                "-i: netcap reads capture files, it does not capture. Capture with \
                 `tcpdump -i IFACE -w FILE` and give FILE, or read tcpdump live: \
                 `tcpdump -i IFACE -w - | netcap summary -`",
            )
        } else if self.write.is_some() {
            Some(
                "-w: netcap does not copy captures. `netcap extract FILE… -o OUT.pcapng` writes \
                 the frames a finding, flow, filter or frame list selects; `-o FILE` writes a \
                 command's output",
            )
        } else if self.display_filter.is_some() {
            Some(
                "-Y: netcap has no display filters (tshark's). Select frames with a capture \
                 filter, tcpdump's syntax with libpcap's meaning: -f 'EXPR', -F FILE, after \
                 `--`, or --inner 'EXPR' for the packet inside a tunnel",
            )
        } else if self.hex > 0 {
            Some(
                "-x, -X: netcap does not print packet bytes. Cut the frames with \
                 `netcap extract FILE… -o OUT.pcapng` and read them with `tcpdump -X -r OUT.pcapng` \
                 or Wireshark",
            )
        } else {
            None
        }
    }
}

/// Where a command's text or JSON goes.
#[derive(Debug, Args)]
struct OutputArg {
    /// Write to FILE instead of standard output (`-`): under a temporary name beside it,
    /// renamed over FILE once complete.
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
    #[command(flatten)]
    view: verdict::View,
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
    /// Most capture points on one direction's path; a direction seen at more keeps those
    /// that saw the most of its packets, and the output says so.
    #[arg(long = "max-path-points", value_name = "N", default_value_t = netcap_core::correlate::MAX_PATH_POINTS, value_parser = clap::builder::TypedValueParser::map(clap::value_parser!(u16).range(2..), usize::from))]
    max_path_points: usize,
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
    #[command(flatten)]
    view: verdict::View,
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

    /// The FILE and filter arguments of the command given.
    fn common_mut(&mut self) -> Option<&mut Common> {
        match &mut self.command {
            Some(Command::Packets(a)) => Some(&mut a.common),
            Some(Command::Summary(a)) => Some(&mut a.common),
            Some(Command::Flows(a)) => Some(&mut a.common),
            Some(Command::Correlate(a)) => Some(&mut a.analysis.common),
            Some(Command::Report(a)) => Some(&mut a.analysis.common),
            Some(Command::Extract(a)) => Some(&mut a.analysis.common),
            Some(Command::Export(a)) => Some(&mut a.analysis.common),
            Some(Command::Completions { .. } | Command::Man { .. }) => None,
            None => Some(&mut self.summary.common),
        }
    }

    /// `-r FILE` joins the FILE arguments; a tcpdump or tshark option netcap does not
    /// have is a usage error saying what to use instead, and so is a `--label` that
    /// cannot be a column.
    fn settle(&mut self) -> Result<(), Cow<'static, str>> {
        let json_view = match &self.command {
            Some(Command::Summary(a)) => (a.format == SummaryFormat::Json).then_some(a.view),
            Some(Command::Correlate(a)) => (a.format == SummaryFormat::Json).then_some(a.view),
            None => (self.summary.format == SummaryFormat::Json).then_some(self.summary.view),
            _ => None,
        };
        if json_view.is_some_and(|v| v.min_severity != verdict::Level::Info) {
            return Err("--min-severity shapes the text; JSON carries every finding (keep the ones you want with jq: \
                        '.findings[] | select(.severity == \"error\")')"
                .into());
        }
        if let Some(Command::Export(a)) = &self.command {
            a.labels().map_err(|e| format!("--label: {e}"))?;
        }
        let Some(common) = self.common_mut() else { return Ok(()) };
        if let Some(msg) = common.habits.refusal() {
            return Err(msg.into());
        }
        let read = std::mem::take(&mut common.read);
        common.files.extend(read);
        Ok(())
    }
}

/// The options every command takes (`-q`, `-n`, `--color`), written before the
/// command's name (`netcap -q summary f.pcap`), are moved after it: clap reads options
/// before a name as the bare `netcap FILE…` form's, and the name as a FILE.
fn hoist_global_options(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let cmd = <Cli as clap::CommandFactory>::command();
    let mut i = 1;
    while let Some(a) = args.get(i).and_then(|a| a.to_str()) {
        let short_flags = a.len() > 1 && a.starts_with('-') && !a.starts_with("--") && a[1..].chars().all(|c| c == 'q' || c == 'n');
        if short_flags || a == "--quiet" || a.starts_with("--color=") {
            i += 1;
        } else if a == "--color" {
            i += 2;
        } else {
            break;
        }
    }
    let Some(name) = args.get(i).and_then(|a| a.to_str()) else { return args };
    if i == 1 || cmd.find_subcommand(name).is_none() {
        return args;
    }
    let mut out = Vec::with_capacity(args.len());
    out.push(args[0].clone());
    out.push(args[i].clone());
    out.extend_from_slice(&args[1..i]);
    out.extend_from_slice(&args[i + 1..]);
    out
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
    let mut cli = Cli::parse_from(hoist_global_options(std::env::args_os().collect()));
    if let Err(msg) = cli.settle() {
        ui::init(cli.quiet, cli.color, false);
        ui::error(msg);
        return ExitCode::from(2);
    }
    let output = cli.output_file();
    let target = match &output {
        Some((path, inputs)) => {
            if let Some(msg) = output::refusal(path, inputs.iter().copied()) {
                ui::init(cli.quiet, cli.color, false);
                ui::error(msg);
                return ExitCode::from(1);
            }
            match output::OutputFile::create(path) {
                Ok(f) => Target::File(f),
                Err(msg) => {
                    ui::init(cli.quiet, cli.color, false);
                    ui::error(msg);
                    return ExitCode::from(1);
                }
            }
        }
        None => Target::Stdout(io::stdout().lock()),
    };
    ui::init(cli.quiet, cli.color, output.is_none() && io::stdout().is_terminal());
    interrupt::install();
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
    // The output file takes its name only when everything was written: not after a
    // write error, nor when a failed run wrote nothing (no empty file).
    let result = result.and_then(|failed| out.flush().map(|()| failed));
    let result = match (result, out.into_inner().map_err(io::IntoInnerError::into_error)) {
        (Ok(failed), Ok(Target::File(f))) if !(failed && f.written() == 0) => f.commit().map(|()| failed).map_err(|m| io::Error::other(output::Failed(m))),
        (Ok(failed), _) => Ok(failed),
        (Err(e), _) => Err(e),
    };
    if let Some(status) = interrupt::exit_status() {
        ui::warn(format_args!("interrupted ({}): the output covers the frames read before it", interrupt::signal_name()));
        if let Err(e) = result.as_ref() {
            if e.kind() != io::ErrorKind::BrokenPipe {
                write_error(e);
            }
        }
        return ExitCode::from(status);
    }
    match result {
        Ok(false) => ExitCode::SUCCESS,
        Ok(true) => ExitCode::from(1),
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            write_error(&e);
            ExitCode::from(1)
        }
    }
}

/// Where the text or JSON goes: standard output or an output file (written under a
/// temporary name, `crate::output`).
enum Target {
    Stdout(io::StdoutLock<'static>),
    File(output::OutputFile),
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Target::Stdout(s) => s.write(buf),
            Target::File(f) => f.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Target::Stdout(s) => s.flush(),
            Target::File(f) => f.flush(),
        }
    }
}

/// An error writing the output: an output file's own message names it, else standard
/// output's is `writing output: …`.
fn write_error(e: &io::Error) {
    if output::is_write_failure(e) {
        ui::error(e);
    } else {
        ui::error(format_args!("writing output: {e}"));
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

fn packets(args: &PacketsArgs, out: &mut impl Write) -> io::Result<bool> {
    let Some(analysis) = per_file(&args.common) else { return Ok(true) };
    // Flows are not printed here: not kept, memory stays flat.
    let sink = PacketsOut { out, format: args.format };
    let run = run_analysis(analysis.keep_flows(false), &args.common.files, sink)?;
    Ok(run.is_none_or(|(o, _)| o.failed()))
}

fn flows(args: &FlowsArgs, out: &mut impl Write) -> io::Result<bool> {
    let Some(analysis) = per_file(&args.common) else { return Ok(true) };
    let Ok(Some((mut outcome, ()))) = run_analysis(analysis, &args.common.files, ()) else { return Ok(true) };
    if outcome.read_nothing() {
        return Ok(true);
    }
    let failed = outcome.failed();
    let mut flows = std::mem::take(&mut outcome.flows);
    // The flows in trouble first, worst first; then in order of appearance.
    flows.sort_by(|a, b| b.trouble().cmp(&a.trouble()).then(a.id.cmp(&b.id)));
    match args.format {
        SummaryFormat::Json => {
            let mut doc = serde_json::json!({ "flows": flows, "table": outcome.table });
            if outcome.interrupted {
                doc["interrupted"] = serde_json::json!(true);
            }
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
            text::interrupted(out, &outcome)?;
            text::selection(out, outcome.selection.as_ref(), outcome.frames)?;
            text::flows(out, &flows, args.trouble, &outcome.names)?;
            if outcome.table.not_kept > 0 {
                writeln!(
                    out,
                    "{} more flow records were analysed but not listed, past the first {} (--max-flow-records).",
                    outcome.table.not_kept,
                    flows.len()
                )?;
            }
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
    // Nothing read: the errors said so; no empty report.
    if outcome.read_nothing() {
        return Ok(true);
    }
    let report = summarize.report(&outcome);
    match args.format {
        SummaryFormat::Json => {
            // `selection` first when frames were selected, then the report's fields.
            #[derive(serde::Serialize)]
            struct Doc<'a> {
                #[serde(skip_serializing_if = "std::ops::Not::not")]
                interrupted: bool,
                #[serde(skip_serializing_if = "Option::is_none")]
                selection: Option<&'a netcap_core::filter::SelectionReport>,
                #[serde(skip_serializing_if = "netcap_core::analysis::Names::is_empty")]
                names: &'a netcap_core::analysis::Names,
                #[serde(flatten)]
                report: &'a netcap_core::summary::Report,
            }
            let doc = Doc { interrupted: outcome.interrupted, selection: outcome.selection.as_ref(), names: &outcome.names, report: &report };
            serde_json::to_writer_pretty(&mut *out, &doc)?;
            out.write_all(b"\n")?;
        }
        SummaryFormat::Text => {
            text::interrupted(out, &outcome)?;
            text::selection(out, outcome.selection.as_ref(), outcome.frames)?;
            text::summary(out, &report, &outcome.names, &args.view)?;
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

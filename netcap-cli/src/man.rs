//! `netcap man`: the manual pages, one for netcap and one per command
//! (`netcap-summary(1)`, …), so that every page the SUBCOMMANDS section of netcap(1)
//! names exists.
//!
//! clap_mangen renders what the command-line definitions say (NAME, SYNOPSIS,
//! DESCRIPTION, OPTIONS, SUBCOMMANDS, VERSION); the sections it knows nothing of —
//! EXIT STATUS, EXAMPLES and SEE ALSO — are written here from [`PAGES`], one entry per
//! page, in the order man-pages(7) gives. The examples are command lines of the README
//! and docs/, on the captures under `fixtures/` or on generic names (`node1.pcap`);
//! `netcap-cli/tests/man.rs` runs those on fixtures and renders every page with man.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{Args, CommandFactory};
use clap_mangen::roff::{bold, roman, Roff};
use clap_mangen::Man;

/// Print the man page (roff) of netcap or of one command, or write them all to a
/// directory.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// The page of this command (`netcap man correlate`: netcap-correlate(1)) instead
    /// of netcap(1).
    #[arg(value_name = "COMMAND", value_parser = parse_command, conflicts_with = "dir")]
    command: Option<String>,
    /// Write every page into DIR (created if missing): netcap.1 and netcap-COMMAND.1 for
    /// each command (e.g. --dir ~/.local/share/man/man1).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// What a page says beyond the command-line definitions.
struct Page {
    /// The command (`""`: netcap itself).
    command: &'static str,
    /// (status, meaning); [`CLOSED_STDOUT`] follows on every page.
    exit_status: &'static [(&'static str, &'static str)],
    /// An opening paragraph (or none), then (what it does, the command lines, one a
    /// line).
    examples: (&'static str, &'static [(&'static str, &'static str)]),
    /// Other pages, `name(section)`.
    see_also: &'static [&'static str],
}

/// Status 0 and 1 of the commands that read captures and write text or JSON.
const READ_OK: (&str, &str) =
    ("0", "Every capture file was read to its end. Warnings, such as a file cut off mid-record, do not count.");
const READ_FAILED: (&str, &str) = (
    "1",
    "A capture file could not be opened or stopped at a corrupt record (the other files were still read), \
     no capture file was given or one was given twice, a capture filter did not compile, or the output file \
     could not be created or written (a full disk, a file-size limit: the message names the file, the bytes \
     written and the reason, and an older file of that name is left as it was) or is one of the inputs under \
     any name (a symbolic or hard link).",
);
const USAGE: (&str, &str) = (
    "2",
    "A usage error: an unknown option, a value that is missing or malformed (--from, --to, -c, say), or an option \
     of tcpdump's or tshark's that netcap does not have (-i, -w, -Y, -x: the message says what to use instead).",
);
/// Ctrl-C or SIGTERM during a run.
const SIGNALLED: (&str, &str) = (
    "130, 143",
    "Ctrl-C (SIGINT: 130) or SIGTERM (143) stopped the run: the output covers the frames read until then and says \
     so. A second signal exits at once and removes the temporary file or directory being written, leaving an \
     older output as it was.",
);
const READING: &[(&str, &str)] = &[READ_OK, READ_FAILED, USAGE, SIGNALLED];

/// Said after every list of statuses.
const CLOSED_STDOUT: &str =
    "A closed standard output (netcap packets FILE | head) ends the command quietly with status 0.";

/// The examples' opening paragraph when they name captures of netcap's source tree.
const FIXTURES: &str = "Paths under fixtures/ are captures in netcap's source tree (run from its root); \
                        node1.pcap and the like stand for your own.";

/// Every page: netcap's own first, then one per command in the order of `netcap --help`.
const PAGES: &[Page] = &[
    Page {
        command: "",
        exit_status: &[
            READ_OK,
            READ_FAILED,
            ("2", "A usage error: an unknown option or command, a malformed value, or no command and no capture file."),
            SIGNALLED,
        ],
        examples: (
            FIXTURES,
            &[
                (
                    "Summarise a capture: frames, encapsulations, checksum verdicts per layer and depth, TCP health \
                     (the same as netcap summary):",
                    "netcap fixtures/lab/flannel/server_underlay.pcap",
                ),
                (
                    "Where did it die? Match packets across capture points:",
                    "netcap correlate fixtures/lab/flannel/*.pcap",
                ),
                (
                    "Install the completions and the manual pages for the current user:",
                    "mkdir -p ~/.local/share/bash-completion/completions ~/.local/share/man/man1\n\
                     netcap completions bash > ~/.local/share/bash-completion/completions/netcap\n\
                     netcap man --dir ~/.local/share/man/man1",
                ),
            ],
        ),
        see_also: &["tcpdump(1)", "pcap-filter(7)", "tshark(1)"],
    },
    Page {
        command: "packets",
        exit_status: READING,
        examples: (
            FIXTURES,
            &[
                (
                    "One line per frame, every checksum verdict at every depth, and whether a Linux receiver drops it:",
                    "netcap packets fixtures/lab/flannel/server_underlay.pcap",
                ),
                (
                    "The same as JSON lines, for scripts: the frames a receiver drops:",
                    "netcap packets --format jsonl capture.pcapng | jq 'select(.receiver_accepts == false)'",
                ),
                (
                    "A tunnel on a non-standard port (tshark's spelling works too: --decode-as udp.port==4800,vxlan):",
                    "netcap packets --decode-as 4800=vxlan capture.pcap",
                ),
            ],
        ),
        see_also: &["netcap(1)", "netcap-summary(1)", "netcap-flows(1)", "pcap-filter(7)"],
    },
    Page {
        command: "summary",
        exit_status: READING,
        examples: (
            FIXTURES,
            &[
                (
                    "Totals, encapsulations, verdicts per layer and depth, and the first frames of each problem:",
                    "netcap summary fixtures/lab/flannel/server_underlay.pcap",
                ),
                (
                    "Several captures, one of them compressed, as JSON:",
                    "netcap summary --format json node1.pcap node2.pcap.gz",
                ),
                ("Every capture in a directory, each a capture point:", "netcap summary captures/"),
                ("From a pipe:", "tcpdump -i any -w - | netcap summary -"),
            ],
        ),
        see_also: &["netcap(1)", "netcap-packets(1)", "netcap-flows(1)", "netcap-correlate(1)", "pcap-filter(7)"],
    },
    Page {
        command: "flows",
        exit_status: READING,
        examples: (
            FIXTURES,
            &[
                (
                    "TCP flows, the ones in trouble first: retransmissions, SYN retries, RTT, outcome:",
                    "netcap flows fixtures/lab/flannel/client_pod.pcap",
                ),
                ("Only the flows in trouble:", "netcap flows --trouble fixtures/lab/tcp-loss/sender.pcap"),
                (
                    "The flows with retransmissions, from the JSON:",
                    "netcap flows --format json capture.pcap | jq '.flows[] | select(.c2s.retransmissions > 0)'",
                ),
                (
                    "Only what a tcpdump filter keeps, the first 1000 such frames, from 30 s after the first frame:",
                    "netcap flows node1.pcap -f 'host 10.244.1.2 and tcp port 80' -c 1000 --from +30s",
                ),
            ],
        ),
        see_also: &["netcap(1)", "netcap-packets(1)", "netcap-extract(1)", "pcap-filter(7)"],
    },
    Page {
        command: "correlate",
        exit_status: READING,
        examples: (
            FIXTURES,
            &[
                (
                    "Where did it die? The flannel incident captured at six points:",
                    "netcap correlate fixtures/lab/flannel/{client_pod,client_vxlan,client_underlay,server_underlay,server_vxlan,server_pod}.pcap",
                ),
                (
                    "Microsoft Retina capture bundles, one per node: points named node/interface, findings citing each \
                     node's kernel counters:",
                    "netcap correlate fixtures/lab/retina/*.tar.gz",
                ),
                (
                    "A ring buffer (tcpdump -C 100 -W 10 -w node1.pcap) as one point:",
                    "netcap correlate client_pod.pcap --point 'node1=node1.pcap*'",
                ),
                (
                    "A pod's connection inside the overlay: the filter on each frame's innermost packet:",
                    "netcap correlate client_pod.pcap --point node2=node2_underlay.pcap --inner 'tcp port 8080'",
                ),
            ],
        ),
        see_also: &["netcap(1)", "netcap-report(1)", "netcap-extract(1)", "netcap-export(1)", "pcap-filter(7)"],
    },
    Page {
        command: "report",
        exit_status: &[
            ("0", "The report was written and every capture file was read to its end."),
            (
                "1",
                "A capture file could not be read or stopped at a corrupt record (the report is still written, from \
                 what was read); --flow names no TCP flow (nothing is written); -o names a format netcap does not \
                 write (.pdf, say: said before any capture is read); or the output could not be created or is one \
                 of the inputs.",
            ),
            USAGE,
            SIGNALLED,
        ],
        examples: (
            FIXTURES,
            &[
                (
                    "Self-contained HTML with plots, for a ticket:",
                    "netcap report fixtures/lab/flannel/*.pcap -o report.html",
                ),
                ("Markdown:", "netcap report fixtures/lab/flannel/*.pcap -o report.md"),
                (
                    "The time-sequence and RTT plots of flow 0, the HTML on standard output:",
                    "netcap report fixtures/lab/tcp-loss/sender.pcap --flow 0 --format html -o - > sender.html",
                ),
            ],
        ),
        see_also: &["netcap(1)", "netcap-correlate(1)", "netcap-extract(1)"],
    },
    Page {
        command: "extract",
        exit_status: &[
            ("0", "The evidence file was written and every capture file was read to its end."),
            (
                "1",
                "A selector matched no frame, or --finding N is beyond the findings (nothing is written); a capture \
                 file could not be read; a file that stopped at a corrupt record keeps the frames before it, and \
                 the status is 1 after writing.",
            ),
            (
                "2",
                "A malformed selector (--finding 0, --frames client_pod, --flow a-b), a --frames-from file that \
                 cannot be read or has no point and frame columns, no selector at all, or another usage error.",
            ),
            SIGNALLED,
        ],
        examples: (
            FIXTURES,
            &[
                (
                    "The frames finding 1 cites (and the findings it follows from), each with a comment saying why, \
                     for Wireshark:",
                    "netcap extract fixtures/lab/flannel/*.pcap --finding 1 -o evidence.pcapng",
                ),
                (
                    "A TCP flow by its id, as netcap flows shows it:",
                    "netcap extract fixtures/lab/tcp-loss/sender.pcap --flow 0 -o flow0.pcapng",
                ),
                (
                    "Frames of one point by number:",
                    "netcap extract fixtures/lab/flannel/server_underlay.pcap --frames server_underlay:1-2 -o frames.pcapng",
                ),
                (
                    "The frames a query over netcap export's tables selects:",
                    "duckdb -c \"COPY (SELECT point, frame FROM 'out/packets/**/*.parquet' WHERE NOT receiver_accepts) TO 'drops.parquet'\"\n\
                     netcap extract --frames-from drops.parquet node1.pcap node2.pcap -o drops.pcapng",
                ),
            ],
        ),
        see_also: &["netcap(1)", "netcap-correlate(1)", "netcap-export(1)", "tshark(1)"],
    },
    Page {
        command: "export",
        exit_status: &[
            ("0", "Every table was written and every capture file was read to its end."),
            (
                "1",
                "A capture file could not be read (the others are still exported); a table already exists in DIR \
                 and --force was not given, or --force would replace an input (refused before any capture is \
                 read); or DIR or a table could not be written (the old tables are then left as they were).",
            ),
            USAGE,
            SIGNALLED,
        ],
        examples: (
            FIXTURES,
            &[
                (
                    "Parquet tables (packets, tcp_events, flows, findings, pairs, matches) for DuckDB, Polars, Spark:",
                    "netcap export fixtures/lab/flannel/*.pcap -o out",
                ),
                (
                    "Hive partitions by point and hour, replacing an earlier export:",
                    "netcap export node1.pcap node2.pcap -o out --split-by point --split-by hour --force",
                ),
                (
                    "Every row labelled with its case, for queries over many exports ('cases/*/packets/**/*.parquet'):",
                    "netcap export fixtures/lab/flannel/*.pcap -o cases/inc-1234 --label case=INC-1234",
                ),
                (
                    "The frames each point saw that a Linux receiver drops (each table is a directory, OUT/TABLE/):",
                    "duckdb -c \"SELECT point, count(*) FROM 'out/packets/**/*.parquet' WHERE NOT receiver_accepts GROUP BY point\"",
                ),
            ],
        ),
        see_also: &["netcap(1)", "netcap-correlate(1)", "netcap-extract(1)"],
    },
    Page {
        command: "completions",
        exit_status: &[
            ("0", "The script was written."),
            ("1", "Standard output could not be written."),
            ("2", "An unknown shell, or another usage error."),
        ],
        examples: (
            "",
            &[
                (
                    "bash, for the current user:",
                    "mkdir -p ~/.local/share/bash-completion/completions\n\
                     netcap completions bash > ~/.local/share/bash-completion/completions/netcap",
                ),
                ("fish:", "netcap completions fish > ~/.config/fish/completions/netcap.fish"),
                ("zsh, into a directory on $fpath:", "netcap completions zsh > ~/.zfunc/_netcap"),
            ],
        ),
        see_also: &["netcap(1)"],
    },
    Page {
        command: "man",
        exit_status: &[
            ("0", "The page or pages were written."),
            ("1", "A page could not be written (DIR could not be created, say)."),
            ("2", "COMMAND is not a netcap command, or another usage error."),
        ],
        examples: (
            "",
            &[
                ("Every page, for the current user:", "netcap man --dir ~/.local/share/man/man1"),
                ("Read the page of one command without installing it:", "netcap man correlate | man -l -"),
                ("netcap's own page to a file:", "netcap man > netcap.1"),
            ],
        ),
        see_also: &["netcap(1)", "man(1)"],
    },
];

/// Runs `netcap man`: one page to `out`, or every page into `--dir`; `Ok(true)` when a
/// page could not be written (said already).
pub fn run(args: &ManArgs, out: &mut impl Write) -> io::Result<bool> {
    let root = tree();
    let Some(dir) = &args.dir else {
        let name = args.command.as_deref().unwrap_or("");
        let page = PAGES.iter().find(|p| p.command == name).ok_or_else(|| io::Error::other("no such page"))?;
        render(&root, page, out)?;
        return Ok(false);
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        crate::ui::error(format_args!("{}: {e}", dir.display()));
        return Ok(true);
    }
    for page in PAGES {
        let path = dir.join(file_name(page));
        let written = crate::output::OutputFile::create(&path).and_then(|mut f| {
            let mut w = BufWriter::new(&mut f);
            let rendered = render(&root, page, &mut w).and_then(|()| w.flush());
            drop(w);
            match rendered {
                Ok(()) => f.commit(),
                Err(e) if crate::output::is_write_failure(&e) => Err(e.to_string()),
                Err(e) => Err(format!("{}: {e}", path.display())),
            }
        });
        if let Err(msg) = written {
            crate::ui::error(msg);
            return Ok(true);
        }
    }
    crate::ui::note(format_args!("wrote {} pages to {}", PAGES.len(), dir.display()));
    Ok(false)
}

/// `netcap man`'s value parser: a command that has a page.
fn parse_command(s: &str) -> Result<String, String> {
    if !s.is_empty() && PAGES.iter().any(|p| p.command == s) {
        return Ok(s.to_string());
    }
    let names: Vec<&str> = PAGES.iter().map(|p| p.command).filter(|c| !c.is_empty()).collect();
    Err(format!("not a netcap command; the commands are {}", names.join(", ")))
}

/// netcap's command tree as the pages show it: built (so that each command knows its
/// name `netcap-COMMAND` and has the global options), without the `help` command.
fn tree() -> clap::Command {
    let mut root = crate::Cli::command().disable_help_subcommand(true);
    root.build();
    root
}

/// The file name of a page: `netcap.1`, `netcap-COMMAND.1`.
fn file_name(page: &Page) -> String {
    if page.command.is_empty() {
        "netcap.1".to_string()
    } else {
        format!("netcap-{}.1", page.command)
    }
}

/// Writes one page: clap_mangen's sections, then [`sections`].
fn render(root: &clap::Command, page: &Page, out: &mut dyn Write) -> io::Result<()> {
    let cmd = if page.command.is_empty() {
        root.clone()
    } else {
        let cmd = root.find_subcommand(page.command);
        cmd.cloned().ok_or_else(|| io::Error::other(format!("no command {}", page.command)))?
    };
    let has_subcommands = cmd.get_subcommands().next().is_some();
    let man = Man::new(cmd).source(format!("netcap {}", env!("CARGO_PKG_VERSION")));
    man.render_title(out)?;
    without_preamble(out, |w| man.render_name_section(w))?;
    without_preamble(out, |w| man.render_synopsis_section(w))?;
    without_preamble(out, |w| man.render_description_section(w))?;
    without_preamble(out, |w| man.render_options_section(w))?;
    if has_subcommands {
        without_preamble(out, |w| man.render_subcommands_section(w))?;
    }
    without_preamble(out, |w| sections(page).to_writer(w))?;
    // Only netcap itself carries the version (the commands' pages have it in the footer).
    if page.command.is_empty() {
        without_preamble(out, |w| man.render_version_section(w))?;
    }
    Ok(())
}

/// Writes what `render` writes without the preamble each roff document opens with (the
/// definition of the apostrophe string): the title wrote it already.
fn without_preamble(out: &mut dyn Write, render: impl FnOnce(&mut dyn Write) -> io::Result<()>) -> io::Result<()> {
    let mut buf = Vec::new();
    render(&mut buf)?;
    let preamble = Roff::new().render();
    out.write_all(buf.strip_prefix(preamble.as_bytes()).unwrap_or(&buf))
}

/// EXIT STATUS, EXAMPLES and SEE ALSO of a page.
fn sections(page: &Page) -> Roff {
    let mut r = Roff::new();
    r.control("SH", ["EXIT STATUS"]);
    for &(status, meaning) in page.exit_status {
        r.control("TP", []).text([bold(status)]).text([roman(meaning)]);
    }
    r.control("PP", []).text([roman(CLOSED_STDOUT)]);

    r.control("SH", ["EXAMPLES"]);
    let (opening, examples) = page.examples;
    if !opening.is_empty() {
        r.text([roman(opening)]);
    }
    for &(what, lines) in examples {
        r.control("PP", []).text([roman(what)]);
        r.control("RS", ["4"]).control("nf", []);
        for line in lines.lines() {
            r.text([roman(line)]);
        }
        r.control("fi", []).control("RE", []);
    }

    r.control("SH", ["SEE ALSO"]);
    let mut refs = Vec::new();
    for (i, name) in page.see_also.iter().enumerate() {
        let (page, section) = name.split_once('(').unwrap_or((name, ""));
        if i > 0 {
            refs.push(roman(", "));
        }
        refs.push(bold(page));
        refs.push(roman(format!("({section}")));
    }
    r.text(refs);
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every command has a page and every page a command, in `netcap --help`'s order.
    #[test]
    fn a_page_per_command() {
        let root = tree();
        let commands: Vec<&str> = root.get_subcommands().map(|c| c.get_name()).collect();
        let pages: Vec<&str> = PAGES.iter().skip(1).map(|p| p.command).collect();
        assert_eq!(commands, pages);
        assert_eq!(PAGES.first().map(|p| p.command), Some(""));
    }

    #[test]
    fn unknown_command() {
        assert_eq!(parse_command("flows"), Ok("flows".to_string()));
        assert!(parse_command("help").is_err());
        assert!(parse_command("").is_err());
    }
}

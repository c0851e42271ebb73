//! `netcap man`: a page for netcap and one per command, each with EXIT STATUS, EXAMPLES
//! and SEE ALSO; every netcap page a page names is there; man renders each without a
//! warning; the examples run.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{netcap, root};

/// Every page, written by `netcap man --dir` into a directory it creates: (file name,
/// roff source), and the scratch directory that holds them.
fn pages() -> (tempfile::TempDir, Vec<(String, String)>) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("share/man/man1");
    let out = netcap(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let mut pages: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    pages.sort();
    (tmp, pages)
}

/// The text of roff source with netcap's escapes undone: fonts, `\-`, the apostrophe
/// string, `\&`, `\\`.
fn plain(roff: &str) -> String {
    roff.replace(r"\fB", "")
        .replace(r"\fI", "")
        .replace(r"\fR", "")
        .replace(r"\-", "-")
        .replace(r"\*(Aq", "'")
        .replace(r"\&", "")
        .replace(r"\\", r"\")
}

/// The names `netcap-NAME(1)` cites.
fn cited(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (i, _) in text.match_indices("netcap-") {
        let rest = &text[i + "netcap-".len()..];
        let name: String = rest.chars().take_while(|c| c.is_ascii_lowercase()).collect();
        if !name.is_empty() && rest[name.len()..].starts_with("(1)") {
            names.insert(name);
        }
    }
    names
}

#[test]
fn a_page_per_command_with_its_sections() {
    let (_tmp, pages) = pages();
    let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    let commands = ["packets", "summary", "flows", "correlate", "report", "extract", "export", "completions", "man"];
    let mut expected: Vec<String> = commands.iter().map(|c| format!("netcap-{c}.1")).collect();
    expected.push("netcap.1".to_string());
    expected.sort();
    assert_eq!(names, expected);
    for (name, roff) in &pages {
        let sections =
            [".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS", ".SH \"EXIT STATUS\"", ".SH EXAMPLES", ".SH \"SEE ALSO\""];
        for section in sections {
            assert!(roff.contains(&format!("\n{section}\n")), "{name} lacks {section}");
        }
        // The title names the page, and the apostrophe string is defined once, first.
        let title = name.trim_end_matches(".1");
        assert!(roff.contains(&format!("\n.TH {title} 1 ")), "{name}");
        assert!(roff.starts_with(".ie \\n(.g .ds Aq"), "{name}");
        assert_eq!(roff.matches(".ds Aq").count(), 2, "{name}: the preamble once");
    }
    // netcap(1) lists every command, as a page.
    let top = &pages.iter().find(|(n, _)| n == "netcap.1").unwrap().1;
    let listed = cited(&plain(top));
    assert_eq!(listed, commands.iter().map(|c| c.to_string()).collect());
}

#[test]
fn every_page_cited_exists() {
    let (_tmp, pages) = pages();
    let files: BTreeSet<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
    for (name, roff) in &pages {
        for page in cited(&plain(roff)) {
            let file = format!("netcap-{page}.1");
            assert!(files.contains(file.as_str()), "{name} cites netcap-{page}(1), which is not written");
        }
    }
}

/// One page to standard output is the page `--dir` writes; an unknown command is a usage
/// error.
#[test]
fn one_page_to_stdout() {
    let (_tmp, pages) = pages();
    for (args, file) in [(vec!["man"], "netcap.1"), (vec!["man", "correlate"], "netcap-correlate.1")] {
        let out = netcap(&args);
        assert!(out.status.success());
        let page = &pages.iter().find(|(n, _)| n == file).unwrap().1;
        assert_eq!(&String::from_utf8(out.stdout).unwrap(), page, "{args:?}");
    }
    let out = netcap(&["man", "help"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a netcap command"));
    let out = netcap(&["man", "flows", "--dir", "x"]);
    assert_eq!(out.status.code(), Some(2), "COMMAND or --dir");
}

/// A directory that cannot be created: named, status 1.
#[test]
fn unwritable_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("file");
    std::fs::write(&file, "").unwrap();
    let dir = file.join("man1");
    let out = netcap(&["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains(dir.to_str().unwrap()));
}

/// man, if installed; `NETCAP_REQUIRE_MAN=1` (set by `.ci/run`) makes its absence a
/// failure.
fn man() -> bool {
    let found = Command::new("man").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found && std::env::var("NETCAP_REQUIRE_MAN").is_ok_and(|v| v == "1") {
        panic!("NETCAP_REQUIRE_MAN=1 but man is not installed");
    }
    found
}

/// man-db renders every page at 80 columns, groff's warnings on: none.
#[test]
fn man_renders_every_page_without_warnings() {
    if !man() {
        common::skip(format_args!("skipped: man not installed"));
        return;
    }
    let (tmp, pages) = pages();
    for (name, _) in &pages {
        let path = tmp.path().join("share/man/man1").join(name);
        let out = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&path)
            .env("MANWIDTH", "80")
            .env_remove("MAN_KEEP_FORMATTING")
            .output()
            .unwrap();
        assert!(out.status.success(), "{name}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.is_empty(), "{name}: {stderr}");
        let text = String::from_utf8_lossy(&out.stdout);
        for heading in ["EXIT STATUS", "EXAMPLES", "SEE ALSO"] {
            assert!(text.contains(&format!("\n{heading}\n")), "{name}: {heading} not rendered");
        }
    }
}

/// The command lines of every page's EXAMPLES, as a shell reads them.
fn examples(roff: &str) -> Vec<String> {
    let section = roff.split("\n.SH EXAMPLES\n").nth(1).unwrap_or("");
    let section = section.split("\n.SH ").next().unwrap_or("");
    let mut lines = Vec::new();
    let mut verbatim = false;
    for line in section.lines() {
        match line {
            ".nf" => verbatim = true,
            ".fi" => verbatim = false,
            _ if verbatim => lines.push(plain(line)),
            _ => {}
        }
    }
    lines
}

/// Every example that runs netcap runs: on the captures under fixtures/ it succeeds; on
/// generic names (node1.pcap) it may fail to find them, but it is not a usage error
/// (except for a file read while the arguments are parsed: `--frames-from`). A pipe's
/// other end is left out; `~` is a scratch directory.
#[test]
fn the_examples_run() {
    let (tmp, pages) = pages();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(root().join("fixtures"), home.join("fixtures")).unwrap();
    let bin = Path::new(env!("CARGO_BIN_EXE_netcap")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(PathBuf::from(bin)).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let mut ran = 0;
    for (name, roff) in &pages {
        for line in examples(roff) {
            let line = line.split(" | ").next().unwrap_or(&line).to_string();
            if !line.starts_with("netcap ") {
                continue;
            }
            let out = Command::new("bash")
                .args(["-c", &line])
                .current_dir(&home)
                .env("HOME", &home)
                .env("PATH", &path)
                .output()
                .expect("bash");
            let stderr = String::from_utf8_lossy(&out.stderr);
            if line.contains("fixtures/") {
                assert!(out.status.success(), "{name}: `{line}`: {stderr}");
            } else {
                let missing = stderr.contains("No such file or directory");
                assert!(out.status.code() != Some(2) || missing, "{name}: `{line}` is a usage error: {stderr}");
            }
            ran += 1;
        }
    }
    assert!(ran >= 25, "{ran} examples run");
}

//! Shared by the `netcap` binary's integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The workspace root, where `netcap` runs so that paths in its output are stable.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `netcap ARGS` in the workspace root.
pub fn netcap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netcap")).args(args).current_dir(root()).output().expect("run netcap")
}

/// Says on the test process's own stderr that a test (or part of one) is skipped and
/// why: written past libtest's output capture, so the line shows without --nocapture.
pub fn skip(what: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{what}");
}

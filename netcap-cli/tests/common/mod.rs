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

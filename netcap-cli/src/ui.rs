//! What netcap says to the person at the terminal, apart from its output: errors and
//! warnings on stderr, a progress bar on stderr while files are read (only when stderr
//! is a terminal, never with `--quiet`), and colour in the text output
//! (`--color auto|always|never`; `auto` colours only a terminal, and honours
//! `NO_COLOR`).

use std::fmt::Display;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use clap::ValueEnum;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

static QUIET: AtomicBool = AtomicBool::new(false);
static COLOR: AtomicBool = AtomicBool::new(false);
/// The bar on screen, if any: messages are printed above it.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Sets the policy once, from the command line; `to_terminal` says whether the text
/// output goes to a terminal.
pub fn init(quiet: bool, color: ColorChoice, to_terminal: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
    let on = match color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    };
    COLOR.store(on, Ordering::Relaxed);
}

fn say(line: String) {
    let bar = BAR.lock().ok().and_then(|b| b.clone());
    match bar {
        Some(b) => b.suspend(|| eprintln!("{line}")),
        None => eprintln!("{line}"),
    }
}

/// `netcap: error: …`, always printed.
pub fn error(msg: impl Display) {
    say(format!("netcap: {}: {msg}", paint(Paint::Bad, "error")));
}

/// `netcap: warning: …`, unless `--quiet`.
pub fn warn(msg: impl Display) {
    if !QUIET.load(Ordering::Relaxed) {
        say(format!("netcap: {}: {msg}", paint(Paint::Warn, "warning")));
    }
}

/// `netcap: …`, a note on what was done (`wrote 8 frames to …`), unless `--quiet`.
pub fn note(msg: impl Display) {
    if !QUIET.load(Ordering::Relaxed) {
        say(format!("netcap: {msg}"));
    }
}

/// What a piece of text means, for its colour.
#[derive(Debug, Clone, Copy)]
pub enum Paint {
    /// A fault: a bad checksum, a dropped frame, an error finding, lost packets.
    Bad,
    /// Worth a look: a warning finding, a partial checksum.
    Warn,
    /// Information only: a partial or absent checksum, an info finding.
    Info,
}

/// `s` in the colour of `p` when colour is on (ANSI SGR), else `s` itself.
pub fn paint(p: Paint, s: &str) -> String {
    if !COLOR.load(Ordering::Relaxed) {
        return s.to_string();
    }
    let code = match p {
        Paint::Bad => "1;31",
        Paint::Warn => "33",
        Paint::Info => "36",
    };
    format!("\x1b[{code}m{s}\x1b[0m")
}

/// The colour of a finding's severity.
pub fn severity(s: &str) -> String {
    let p = match s {
        "error" => Paint::Bad,
        "warning" => Paint::Warn,
        _ => Paint::Info,
    };
    paint(p, s)
}

/// Progress over a set of files: bytes read of their total when every file is a plain
/// regular file (offsets in a compressed stream are not the file's), else a spinner counting
/// frames. Hidden unless stderr is a terminal, and with `--quiet`.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    by_bytes: bool,
}

impl Progress {
    pub fn new(files: &[PathBuf]) -> Self {
        let show = !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal();
        let sizes: Option<Vec<u64>> = files.iter().map(|f| plain_size(f)).collect();
        let by_bytes = sizes.is_some();
        let bar = show.then(|| {
            let bar = match &sizes {
                Some(s) => {
                    let bar = ProgressBar::with_draw_target(Some(s.iter().sum()), ProgressDrawTarget::stderr());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {bytes}/{total_bytes} [{bar:30}] {percent}% {bytes_per_sec}, {eta} left")
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("=> "),
                    );
                    bar
                }
                None => {
                    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
                    bar.set_style(
                        ProgressStyle::with_template("{spinner} {pos} frames, {per_sec}, {elapsed}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    );
                    bar
                }
            };
            bar.enable_steady_tick(Duration::from_millis(200));
            if let Ok(mut b) = BAR.lock() {
                *b = Some(bar.clone());
            }
            bar
        });
        Progress { bar, by_bytes }
    }

    /// Where the run is.
    pub fn update(&mut self, p: &netcap_core::analysis::Progress) {
        let Some(bar) = &self.bar else { return };
        bar.set_position(if self.by_bytes { p.bytes } else { p.frames });
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            if let Ok(mut b) = BAR.lock() {
                *b = None;
            }
        }
    }
}

/// The size of a regular, uncompressed file; `None` for stdin, compressed files, or what cannot
/// be read.
fn plain_size(f: &Path) -> Option<u64> {
    if f.as_os_str() == "-" {
        return None;
    }
    let meta = std::fs::metadata(f).ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut magic = [0u8; 2];
    let mut file = std::fs::File::open(f).ok()?;
    std::io::Read::read_exact(&mut file, &mut magic).ok()?;
    (magic != [0x1f, 0x8b]).then_some(meta.len())
}

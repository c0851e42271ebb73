//! Ctrl-C and SIGTERM. The first ends the run early: reading stops, and the command
//! prints (or writes) its result for the frames read so far, marked as interrupted,
//! then exits with 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM). The
//! second exits at once with that status, removing the output file being written (or
//! the table directories `export` is filling), so that no cut-short file is left under
//! a name that looks complete.
//!
//! The signals are taken by a thread of their own (signal-hook's iterator), so nothing
//! here runs in a signal handler.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
/// The first signal's number, 0 before any.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// Output files being written: removed when a second signal exits at once.
static WRITING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
/// Output directories this run created and is filling (`export`'s tables): removed,
/// with what is in them, when a second signal exits at once.
static WRITING_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// The flag the analyses stop on ([`netcap_core::analysis::Analysis::stop_on`]).
pub fn flag() -> Arc<AtomicBool> {
    Arc::clone(STOP.get_or_init(|| Arc::new(AtomicBool::new(false))))
}

/// Starts listening for SIGINT and SIGTERM; without it they end the process as usual.
pub fn install() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else { return };
        let stop = flag();
        let spawned = std::thread::Builder::new().name("signals".into()).spawn(move || {
            for sig in signals.forever() {
                if SIGNAL.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                    stop.store(true, Ordering::SeqCst);
                    continue;
                }
                // The second: no waiting for a blocked read or a long write.
                if let Ok(files) = WRITING.lock() {
                    for f in files.iter() {
                        let _ = std::fs::remove_file(f);
                    }
                }
                if let Ok(dirs) = WRITING_DIRS.lock() {
                    for d in dirs.iter() {
                        let _ = std::fs::remove_dir_all(d);
                    }
                }
                std::process::exit(128 + SIGNAL.load(Ordering::SeqCst));
            }
        });
        drop(spawned);
    }
}

/// The exit status of a run a signal stopped: 128 + its number.
pub fn exit_status() -> Option<u8> {
    match SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        sig => u8::try_from(128 + sig).ok(),
    }
}

/// The signal's name for messages (`Ctrl-C`, `SIGTERM`).
pub fn signal_name() -> &'static str {
    #[cfg(unix)]
    if SIGNAL.load(Ordering::SeqCst) == signal_hook::consts::SIGTERM {
        return "SIGTERM";
    }
    "Ctrl-C"
}

/// `path` is being written: a second signal removes it.
pub fn writing(path: &Path) {
    if let Ok(mut files) = WRITING.lock() {
        files.push(path.to_path_buf());
    }
}

/// `dir`, which this run created, is being filled: a second signal removes it and
/// everything in it.
pub fn writing_dir(dir: &Path) {
    if let Ok(mut dirs) = WRITING_DIRS.lock() {
        dirs.push(dir.to_path_buf());
    }
}

//! Ctrl-C and SIGTERM. The first ends the run early: reading stops, and the command
//! prints (or writes) its result for the frames read so far, marked as interrupted,
//! then exits with 128 + the signal's number (130 for Ctrl-C, 143 for SIGTERM). The
//! second exits at once with that status, removing the temporary files and directories
//! being written (`crate::output`), so that nothing cut short is left and an older
//! output keeps its place. A second signal while an output is being renamed into place
//! ([`settled`]) waits for those few renames.
//!
//! SIGXFSZ (a file over `ulimit -f`) is caught too and does nothing: the write that
//! went past the limit then fails with `File too large` (EFBIG), which the output says,
//! instead of the signal killing the process without a word.
//!
//! The signals are taken by a thread of their own (signal-hook's iterator), so nothing
//! here runs in a signal handler.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

static STOP: OnceLock<Arc<AtomicBool>> = OnceLock::new();
/// The first signal's number, 0 before any.
static SIGNAL: AtomicI32 = AtomicI32::new(0);
/// What a second signal removes before it exits, in the order registered.
static WRITING: Mutex<Vec<Partial>> = Mutex::new(Vec::new());
/// Held while an output is renamed into place; a second signal waits for it.
static SETTLING: Mutex<()> = Mutex::new(());

/// Something being written that must not outlive a second signal.
#[derive(Debug, PartialEq, Eq)]
enum Partial {
    /// A temporary file.
    File(PathBuf),
    /// A temporary directory and everything in it.
    Tree(PathBuf),
    /// A directory this run created, removed only if it is empty by then.
    EmptyDir(PathBuf),
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Removes what is registered (the second signal).
fn remove_partial() {
    for p in lock(&WRITING).iter() {
        match p {
            Partial::File(f) => {
                let _ = std::fs::remove_file(f);
            }
            Partial::Tree(d) => {
                // A writer thread may still be creating a file in it: a few tries.
                for _ in 0..3 {
                    if std::fs::remove_dir_all(d).is_ok() || !d.exists() {
                        break;
                    }
                }
            }
            Partial::EmptyDir(d) => {
                let _ = std::fs::remove_dir(d);
            }
        }
    }
}

/// The flag the analyses stop on ([`netcap_core::analysis::Analysis::stop_on`]).
pub fn flag() -> Arc<AtomicBool> {
    Arc::clone(STOP.get_or_init(|| Arc::new(AtomicBool::new(false))))
}

/// Starts listening for SIGINT and SIGTERM; without it they end the process as usual.
pub fn install() {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        // Caught and ignored: the write past `ulimit -f` fails with EFBIG instead.
        let _ = signal_hook::flag::register(signal_hook::consts::SIGXFSZ, Arc::new(AtomicBool::new(false)));
        let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else { return };
        let stop = flag();
        let spawned = std::thread::Builder::new().name("signals".into()).spawn(move || {
            for sig in signals.forever() {
                if SIGNAL.compare_exchange(0, sig, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
                    stop.store(true, Ordering::SeqCst);
                    continue;
                }
                // The second: no waiting for a blocked read or a long write; only for
                // an output being renamed into place.
                let settling = lock(&SETTLING);
                remove_partial();
                drop(settling);
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

/// Temporary file `path` is being written: a second signal removes it.
pub fn writing(path: &Path) {
    lock(&WRITING).push(Partial::File(path.to_path_buf()));
}

/// Temporary directory `dir` is being filled: a second signal removes it and everything
/// in it.
pub fn writing_dir(dir: &Path) {
    lock(&WRITING).push(Partial::Tree(dir.to_path_buf()));
}

/// `dir` was created by this run for its output: a second signal removes it if it is
/// empty then (after the temporary directories in it).
pub fn created_dir(dir: &Path) {
    lock(&WRITING).push(Partial::EmptyDir(dir.to_path_buf()));
}

/// `path`, registered by [`writing`], [`writing_dir`] or [`created_dir`], is no longer
/// a second signal's to remove (renamed into place, or removed already).
pub fn done(path: &Path) {
    lock(&WRITING).retain(|p| match p {
        Partial::File(f) | Partial::Tree(f) | Partial::EmptyDir(f) => f != path,
    });
}

/// Runs `f` (renames that put an output in place) without a second signal cutting it
/// short: the signal's exit waits until `f` returns.
pub fn settled<T>(f: impl FnOnce() -> T) -> T {
    let _settling = lock(&SETTLING);
    f()
}

//! Memory-mapped reading of regular files, and the guard that turns a file truncated
//! under the mapping into an error instead of a crash.
//!
//! A mapped file is read without copying it: frames are slices of the mapping. The
//! risk of a mapping is another process shrinking the file while it is read (a log
//! rotation by `copytruncate`, say): touching a page past the new end raises SIGBUS,
//! which kills the process. [`Mapping`] therefore registers its address range with a
//! process-wide SIGBUS handler, installed once. On a fault inside a registered range
//! the handler maps a page of zeros over the faulting page (`MAP_FIXED`) and marks the
//! mapping as truncated; the read resumes, and the reader turns the mark into an
//! error naming the file and the offset ([`super::CaptureErrorKind::Shrunk`]). A fault
//! anywhere else is not netcap's: the previous disposition of SIGBUS is restored and
//! the fault repeats under it.
//!
//! This and `filter/libpcap.rs` (the calls into libpcap) are the two modules of netcap
//! with `unsafe` code. Here: the map itself (memmap2's `Mmap::map` is unsafe because
//! the file may change underneath, which the guard covers), and the signal handler. `mmap` is not on POSIX's list of async-signal-safe
//! functions, but this SIGBUS is synchronous — raised by the faulting read in netcap's
//! own code, not delivered at a random point — and `mmap` is a plain system call on
//! Linux.
//!
//! Without the guard (more mappings alive than [`SLOTS`], a platform other than Linux,
//! or `sigaction` failing), files are read through the streaming path instead.
#![allow(unsafe_code)]

use std::fs::File;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::OnceLock;

/// Mappings guarded at once; a file opened beyond them is streamed.
pub(crate) const SLOTS: usize = 256;

/// A regular file mapped read-only, guarded against truncation.
pub(crate) struct Mapping {
    map: memmap2::Mmap,
    slot: usize,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping").field("len", &self.map.len()).field("slot", &self.slot).finish()
    }
}

/// Per slot: the start (0: free, `usize::MAX`: being set up) and end address of a
/// mapping, and whether the handler replaced one of its pages.
static STARTS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static ENDS: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];
static FAULTED: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];
static PAGE: AtomicUsize = AtomicUsize::new(0);
/// The disposition of SIGBUS before the guard; `None` when installing failed.
static PREVIOUS: OnceLock<Option<libc::sigaction>> = OnceLock::new();

impl Mapping {
    /// Maps `file` when it is a non-empty regular file and the guard is in place;
    /// `None` otherwise (the caller streams it).
    pub(crate) fn new(file: &File) -> Option<Mapping> {
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() == 0 || !guard_installed() {
            return None;
        }
        let slot = reserve()?;
        // SAFETY: the mapping is read-only and private; if the file shrinks while it is
        // mapped, reading past the new end raises SIGBUS, which the guard registered
        // below turns into a page of zeros and a mark that `truncated` reports.
        let map = match unsafe { memmap2::MmapOptions::new().map(file) } {
            Ok(m) => m,
            Err(_) => {
                STARTS[slot].store(0, Ordering::Release);
                return None;
            }
        };
        // Sequential reading: ask the kernel to read ahead. Advice only; failure is
        // harmless. (MADV_POPULATE_READ ahead of the reader was measured slower than
        // the page faults it saves: docs/performance.md.)
        let _ = map.advise(memmap2::Advice::Sequential);
        let start = map.as_ptr() as usize;
        ENDS[slot].store(start.saturating_add(map.len()), Ordering::Release);
        FAULTED[slot].store(false, Ordering::Release);
        STARTS[slot].store(start, Ordering::Release);
        Some(Mapping { map, slot })
    }

    /// The file's bytes, as long as it was when mapped.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Reads one byte of every page of `len` bytes at `offset`: the page faults happen
    /// now, on the calling thread (a worker of the engine's pool mapping ahead of the
    /// reader), and a page lost to truncation is found now ([`Mapping::truncated`]), not
    /// after the bytes were lent out (the reader, before it yields a record).
    pub(crate) fn prefetch(&self, offset: usize, len: usize) {
        let Some(len) = self.clamp(offset, len) else { return };
        let bytes = &self.map[offset..offset + len];
        // The first byte, the first byte of every later page, the last byte.
        let mut at = 0;
        while at < bytes.len() {
            std::hint::black_box(bytes[at]);
            let next_page = ((offset + at) | 4095) + 1 - offset;
            at = next_page.min(bytes.len().saturating_sub(1).max(at + 1));
        }
    }

    /// Drops `len` bytes at `offset` from the process's page tables: memory stays
    /// bounded by what is read, not by the file's size. The pages stay in the page
    /// cache, and reading them again maps them again: the bytes are the file's.
    pub(crate) fn release(&self, offset: usize, len: usize) {
        if let Some(len) = self.clamp(offset, len) {
            // SAFETY: the mapping is private and never written, so dropping its pages
            // loses nothing: the next read maps the file's bytes again. The range is
            // clamped to the mapping (madvise must not reach a neighbouring mapping).
            let _ = unsafe { self.map.unchecked_advise_range(memmap2::UncheckedAdvice::DontNeed, offset, len) };
        }
    }

    /// `len` cut to the mapping; `None` when nothing of it is inside.
    fn clamp(&self, offset: usize, len: usize) -> Option<usize> {
        let len = len.min(self.map.len().checked_sub(offset)?);
        (len > 0).then_some(len)
    }

    /// Whether the file shrank under the mapping: some of its pages now read as zeros.
    pub(crate) fn truncated(&self) -> bool {
        FAULTED[self.slot].load(Ordering::Acquire)
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Unregistered before the map is unmapped (fields drop after this).
        STARTS[self.slot].store(0, Ordering::Release);
    }
}

/// A free slot, marked as being set up.
fn reserve() -> Option<usize> {
    (0..SLOTS).find(|&i| STARTS[i].compare_exchange(0, usize::MAX, Ordering::AcqRel, Ordering::Acquire).is_ok())
}

/// Installs the SIGBUS handler once; whether it is in place.
fn guard_installed() -> bool {
    PREVIOUS
        .get_or_init(|| {
            // SAFETY: sysconf has no preconditions.
            let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
            let page = usize::try_from(page).ok().filter(|p| p.is_power_of_two())?;
            PAGE.store(page, Ordering::Release);
            // SAFETY: a zeroed sigaction is a valid value to fill in; the handler has
            // the SA_SIGINFO signature; `previous` receives the old disposition.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_sigbus as *const () as usize;
                action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut action.sa_mask);
                let mut previous: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, &action, &mut previous) != 0 {
                    return None;
                }
                Some(previous)
            }
        })
        .is_some()
}

/// The SIGBUS handler: a page of zeros over a faulting page of a registered mapping,
/// else the previous disposition back.
extern "C" fn on_sigbus(_signal: libc::c_int, info: *mut libc::siginfo_t, _context: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo_t for an SA_SIGINFO handler.
    let addr = unsafe { (*info).si_addr() } as usize;
    let page = PAGE.load(Ordering::Acquire);
    for slot in 0..SLOTS {
        let start = STARTS[slot].load(Ordering::Acquire);
        if start == 0 || start == usize::MAX || addr < start || addr >= ENDS[slot].load(Ordering::Acquire) || page == 0 {
            continue;
        }
        let base = addr & !(page - 1);
        // SAFETY: the page lies inside a live read-only mapping of ours (registered
        // slots are unregistered before they are unmapped); replacing it with an
        // anonymous page changes what it reads, nothing else.
        let replaced = unsafe {
            libc::mmap(
                base as *mut libc::c_void,
                page,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                -1,
                0,
            )
        };
        if replaced != libc::MAP_FAILED {
            FAULTED[slot].store(true, Ordering::Release);
            return;
        }
    }
    // Not ours: restore what was there before and let the fault repeat under it.
    if let Some(Some(previous)) = PREVIOUS.get() {
        // SAFETY: `previous` is the disposition sigaction returned at install.
        unsafe {
            libc::sigaction(libc::SIGBUS, previous, std::ptr::null_mut());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_file_truncated_under_the_mapping_reads_zeros_and_is_marked() {
        let dir = std::env::temp_dir().join(format!("netcap-mapped-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("shrinks.bin");
        let mut f = File::create(&path).unwrap();
        f.write_all(&vec![0xab; 1 << 20]).unwrap();
        f.sync_all().unwrap();
        let file = File::open(&path).unwrap();
        let m = Mapping::new(&file).expect("a regular file is mapped");
        assert_eq!(m.bytes()[(1 << 20) - 1], 0xab);
        assert!(!m.truncated());
        // Another writer cuts the file to 4 KiB while it is mapped.
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(4096).unwrap();
        // Past the new end: a SIGBUS without the guard; zeros with it.
        let byte = std::hint::black_box(m.bytes())[(1 << 20) - 1];
        assert_eq!(byte, 0);
        assert!(m.truncated());
        // Before the new end the file's bytes are still there.
        assert_eq!(m.bytes()[100], 0xab);
        drop(m);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn slots_are_freed_when_mappings_drop() {
        let file = File::open(std::env::current_exe().unwrap()).unwrap();
        for _ in 0..(SLOTS * 2) {
            assert!(Mapping::new(&file).is_some());
        }
    }
}

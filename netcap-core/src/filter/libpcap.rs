//! libpcap, loaded at run time: its filter compiler and its BPF interpreter
//! (`bpf_filter`, what `pcap_offline_filter` runs), so that an expression means
//! exactly what it means to tcpdump (`docs/decisions.md` 18).
//!
//! `tcpdump -r FILE` compiles on the handle of the file it reads, and libpcap's code
//! generator looks at that handle: reading a file, it maps the file's LINKTYPE to its
//! DLT, accepts every BSD's `AF_INET6` in a loopback header, and reads that header in
//! the file's byte order. A handle of the same kind is made here: libpcap opens a
//! capture file holding only a pcap header with the link type and byte order of the
//! frames (written to the temporary directory and removed once open), and every
//! expression for such frames is compiled on it.
//!
//! The library is opened with `dlopen` the first time a filter is compiled, not linked:
//! netcap builds and runs without libpcap's headers, and only filtering needs the
//! library (`libpcap0.8` on Debian, `libpcap` on Fedora, the system's on macOS, Npcap
//! on Windows). `NETCAP_LIBPCAP` names a library file to use instead.
//!
//! With `mapped.rs`, the one other module with `unsafe` code: the calls into C. Each
//! compiled program is copied out of libpcap's memory into a `Vec` before
//! `pcap_freecode`, so a [`Program`] owns its instructions, is `Send + Sync`, and
//! `bpf_filter` (re-entrant: it reads the program and the packet, nothing else) runs
//! on every thread at once. Compiling is serialised: libpcap's compiler keeps state
//! per handle, and only since 1.8 is it safe across handles.
#![allow(unsafe_code)]

use std::ffi::{c_char, c_int, c_uint, CStr, CString};
use std::sync::{Mutex, OnceLock};

/// One BPF instruction, as `struct bpf_insn` lays it out.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    /// The operation.
    pub code: u16,
    /// Jump offset if true.
    pub jt: u8,
    /// Jump offset if false.
    pub jf: u8,
    /// The operand.
    pub k: u32,
}

/// `struct bpf_program`.
#[repr(C)]
struct BpfProgram {
    len: c_uint,
    insns: *mut Insn,
}

/// The snapshot length of the handles: libpcap's largest, so that every accepting
/// `ret` returns a non-zero length.
const SNAPLEN: u32 = 262_144;

type OpenOffline = unsafe extern "C" fn(*const c_char, *mut c_char) -> *mut std::ffi::c_void;
type Compile = unsafe extern "C" fn(*mut std::ffi::c_void, *mut BpfProgram, *const c_char, c_int, u32) -> c_int;
type GetErr = unsafe extern "C" fn(*mut std::ffi::c_void) -> *const c_char;
type FreeCode = unsafe extern "C" fn(*mut BpfProgram);
type Filter = unsafe extern "C" fn(*const Insn, *const u8, c_uint, c_uint) -> c_uint;
type LibVersion = unsafe extern "C" fn() -> *const c_char;

/// The functions netcap calls, from a library that is never unloaded.
struct Lib {
    open_offline: OpenOffline,
    compile: Compile,
    geterr: GetErr,
    freecode: FreeCode,
    filter: Filter,
    version: String,
    /// The handles made so far, by (LINKTYPE, big-endian); held for `compile`: one
    /// compilation at a time.
    handles: Mutex<Vec<((u16, bool), Handle)>>,
    _lib: libloading::Library,
}

/// The names tried, in order, when `NETCAP_LIBPCAP` is unset.
const NAMES: &[&str] = if cfg!(target_os = "macos") {
    &["libpcap.A.dylib", "libpcap.dylib"]
} else if cfg!(windows) {
    &["wpcap.dll"]
} else {
    &["libpcap.so.1", "libpcap.so.0.8", "libpcap.so"]
};

static LIB: OnceLock<Result<Lib, String>> = OnceLock::new();

fn lib() -> Result<&'static Lib, String> {
    LIB.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn load() -> Result<Lib, String> {
    let names: Vec<String> = match std::env::var("NETCAP_LIBPCAP") {
        Ok(path) if !path.is_empty() => vec![path],
        _ => NAMES.iter().map(|s| s.to_string()).collect(),
    };
    let mut last = String::new();
    for name in &names {
        // SAFETY: libpcap's initialisers only set up its own state.
        match unsafe { libloading::Library::new(name) } {
            Ok(lib) => return symbols(lib).map_err(|e| format!("{name}: {e}")),
            Err(e) => last = e.to_string(),
        }
    }
    Err(format!(
        "filters need libpcap, which was not found (tried {}; {last}): install it (Debian: libpcap0.8, Fedora: libpcap) or set NETCAP_LIBPCAP to the library file",
        names.join(", ")
    ))
}

fn symbols(lib: libloading::Library) -> Result<Lib, libloading::Error> {
    // SAFETY: each symbol is declared with the signature libpcap's headers give it
    // (pcap/pcap.h, pcap/bpf.h), and the fn pointers are used only while `lib`, kept
    // in the same static, is loaded.
    unsafe {
        let version: LibVersion = *lib.get(b"pcap_lib_version\0")?;
        let version = CStr::from_ptr(version()).to_string_lossy().into_owned();
        Ok(Lib {
            open_offline: *lib.get(b"pcap_open_offline\0")?,
            compile: *lib.get(b"pcap_compile\0")?,
            geterr: *lib.get(b"pcap_geterr\0")?,
            freecode: *lib.get(b"pcap_freecode\0")?,
            filter: *lib.get(b"bpf_filter\0")?,
            version,
            handles: Mutex::new(Vec::new()),
            _lib: lib,
        })
    }
}

/// libpcap's version string (`pcap_lib_version`), or why it could not be loaded.
pub(crate) fn version() -> Result<String, String> {
    lib().map(|l| l.version.clone())
}

/// A compiled filter: libpcap's BPF instructions, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Program {
    insns: Vec<Insn>,
}

/// What went wrong compiling: libpcap could not be loaded, or its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CompileError {
    NoLibrary(String),
    Expression(String),
}

/// A `pcap_t` of libpcap's, kept open for compiling.
struct Handle(*mut std::ffi::c_void);

// SAFETY: a handle is used only with `Lib::handles` locked, one thread at a time.
unsafe impl Send for Handle {}

/// Opens a capture file handle for frames of `linktype` in a file of the given byte
/// order: a pcap header alone, written to a temporary file, opened, removed.
fn open_handle(lib: &Lib, linktype: u16, big_endian: bool) -> Result<Handle, String> {
    static SERIAL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let serial = SERIAL.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("netcap-{}-{serial}-linktype-{linktype}.pcap", std::process::id()));
    let field = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut header = Vec::with_capacity(24);
    header.extend_from_slice(&field(0xa1b2_c3d4));
    header.extend_from_slice(&(if big_endian { [0, 2, 0, 4] } else { [2, 0, 4, 0] }));
    header.extend_from_slice(&[0; 8]);
    header.extend_from_slice(&field(SNAPLEN));
    header.extend_from_slice(&field(u32::from(linktype)));
    let written = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).and_then(|mut f| std::io::Write::write_all(&mut f, &header));
    if let Err(e) = written {
        return Err(format!("{}: {e}", path.display()));
    }
    let name = CString::new(path.to_string_lossy().into_owned()).map_err(|_| "temporary path with a NUL byte".to_string())?;
    let mut errbuf = [0 as c_char; 512];
    // SAFETY: `name` is a NUL-terminated path, `errbuf` is larger than libpcap's
    // PCAP_ERRBUF_SIZE (256).
    let handle = unsafe { (lib.open_offline)(name.as_ptr(), errbuf.as_mut_ptr()) };
    let _ = std::fs::remove_file(&path);
    if handle.is_null() {
        // SAFETY: libpcap wrote a NUL-terminated message into `errbuf`.
        let msg = unsafe { CStr::from_ptr(errbuf.as_ptr()) }.to_string_lossy().into_owned();
        return Err(format!("libpcap cannot read link type {linktype}: {msg}"));
    }
    Ok(Handle(handle))
}

/// Compiles `expr` for frames of LINKTYPE `linktype` from a file (or pcapng section)
/// of the given byte order, netmask unknown (0), optimised when `optimize` (as
/// `tcpdump -r` compiles: its optimiser also refuses an expression that rejects every
/// packet).
pub(crate) fn compile(linktype: u16, big_endian: bool, expr: &str, optimize: bool) -> Result<Program, CompileError> {
    let lib = lib().map_err(CompileError::NoLibrary)?;
    let text = CString::new(expr).map_err(|_| CompileError::Expression("the expression contains a NUL byte".to_string()))?;
    let mut handles = lib.handles.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let key = (linktype, big_endian);
    let handle = match handles.iter().find(|(k, _)| *k == key) {
        Some((_, h)) => h.0,
        None => {
            let h = open_handle(lib, linktype, big_endian).map_err(CompileError::Expression)?;
            let raw = h.0;
            handles.push((key, h));
            raw
        }
    };
    // SAFETY: the handle is open (never closed) and used only under the lock; the
    // program is read only after pcap_compile succeeded, copied, then freed.
    unsafe {
        let mut prog = BpfProgram { len: 0, insns: std::ptr::null_mut() };
        if (lib.compile)(handle, &mut prog, text.as_ptr(), c_int::from(optimize), 0) == 0 {
            let insns = if prog.insns.is_null() || prog.len == 0 {
                Vec::new()
            } else {
                std::slice::from_raw_parts(prog.insns, prog.len as usize).to_vec()
            };
            (lib.freecode)(&mut prog);
            Ok(Program { insns })
        } else {
            let msg = (lib.geterr)(handle);
            let msg = if msg.is_null() { String::from("error") } else { CStr::from_ptr(msg).to_string_lossy().into_owned() };
            Err(CompileError::Expression(msg))
        }
    }
}

impl Program {
    /// Whether the program accepts a packet whose captured bytes are `data` and whose
    /// length on the wire was `wirelen` (`len`, `greater` and `less` read it).
    pub fn matches(&self, data: &[u8], wirelen: u32) -> bool {
        if self.insns.is_empty() {
            return false;
        }
        let Ok(lib) = lib() else { return false };
        let buflen = c_uint::try_from(data.len()).unwrap_or(c_uint::MAX);
        // SAFETY: bpf_filter reads at most `buflen` bytes of `data` (it bounds every
        // load) and the instructions, which libpcap's compiler produced and validated;
        // both outlive the call.
        unsafe { (lib.filter)(self.insns.as_ptr(), data.as_ptr(), wirelen, buflen) != 0 }
    }

    /// The instructions (for tests and `--dump`-style diagnostics).
    pub fn instructions(&self) -> &[Insn] {
        &self.insns
    }
}

//! Output files written whole or not at all.
//!
//! Every file netcap writes (`-o FILE` of every command, the report, the evidence
//! pcapng, the man pages of `man --dir`) goes first to a temporary file beside it,
//! `.NAME.netcap-tmp-PID` in the same directory, is flushed and synced to disk, and is
//! only then renamed over NAME: a reader of NAME sees the old file or the whole new one,
//! never a part. A failed write (a full disk, `ulimit -f`), an error of the run or a
//! second Ctrl-C removes the temporary file and leaves NAME as it was; the message
//! names the file, the operating system's reason and the bytes written. `export`'s
//! tables take the same path as a directory (`crate::export`).
//!
//! An output that is a symbolic link is written where the link points (the link stays);
//! one that is an input under any name (the same path, a symbolic link to it, a hard
//! link) is refused before anything is read ([`refusal`]). One that exists and is not a
//! regular file (`/dev/null`, `/dev/stdout`, a FIFO, `>(gzip > f)`) is written directly:
//! there is nothing to rename, and renaming over a device would replace it.
//!
//! # References
//! - POSIX `rename(2)`: the new name refers to the old file or the new one, never
//!   neither, for a process that looks it up.
//! - `fsync(2)` on the directory after the rename, so that the new name survives a
//!   crash (ext4's and XFS's documentation of `auto_da_alloc` explain why the file's
//!   own fsync comes before the rename).

use std::fmt;
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The temporary name of output `path`: `.NAME.netcap-tmp-PID` beside it.
pub fn temporary_name(path: &Path) -> PathBuf {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.netcap-tmp-{}", std::process::id()))
}

/// A file being written under its temporary name; [`OutputFile::commit`] renames it
/// over the final name, and dropping it without commit removes it.
#[derive(Debug)]
pub struct OutputFile {
    /// The name given, for messages.
    path: PathBuf,
    /// Where the file goes: `path`, or where `path` points when it is a symbolic link.
    target: PathBuf,
    /// The temporary file; empty when writing directly (a device, a FIFO) or once
    /// renamed.
    tmp: PathBuf,
    file: Option<File>,
    written: u64,
    /// The old output's permissions, kept by the new one.
    old: Option<std::fs::Permissions>,
    failed: bool,
}

impl OutputFile {
    /// Creates the temporary file for output `path`.
    ///
    /// # Errors
    /// The temporary file cannot be created (a missing directory, no permission); the
    /// message names `path`.
    pub fn create(path: &Path) -> Result<Self, String> {
        let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        let target = if is_link { std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()) } else { path.to_path_buf() };
        let meta = std::fs::metadata(&target).ok();
        if meta.as_ref().is_some_and(|m| !m.is_file() && !m.is_dir()) {
            let file = File::options().write(true).open(&target).map_err(|e| format!("{}: {e}", path.display()))?;
            return Ok(OutputFile { path: path.to_path_buf(), target, tmp: PathBuf::new(), file: Some(file), written: 0, old: None, failed: false });
        }
        let old = meta.filter(std::fs::Metadata::is_file).map(|m| m.permissions());
        let tmp = temporary_name(&target);
        // A file of this name is a dead run's (process ids are not shared by the living):
        // removed, and the new one created afresh, never written through a link.
        let _ = std::fs::remove_file(&tmp);
        let file = File::options()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        crate::interrupt::writing(&tmp);
        Ok(OutputFile { path: path.to_path_buf(), target, tmp, file: Some(file), written: 0, old, failed: false })
    }

    /// Syncs the file to disk and renames it over the output; the directory is synced
    /// too, so the name survives a crash.
    ///
    /// # Errors
    /// A write failed before, or syncing or renaming failed: the message says which,
    /// and the temporary file is removed.
    pub fn commit(mut self) -> Result<(), String> {
        let Some(file) = self.file.take() else { return Err(format!("{}: not written", self.path.display())) };
        if self.failed {
            return Err(format!("{}: a write failed; {}", self.path.display(), self.left()));
        }
        if self.tmp.as_os_str().is_empty() {
            // Written directly (a device, a FIFO): nothing to sync or rename.
            return Ok(());
        }
        if let Err(e) = file.sync_all() {
            return Err(format!("{}: syncing to disk failed after {} bytes were written: {e}; {}", self.path.display(), self.written, self.left()));
        }
        if let Some(p) = &self.old {
            // Best effort: the new file is complete either way.
            let _ = file.set_permissions(p.clone());
        }
        drop(file);
        let renamed = crate::interrupt::settled(|| {
            let r = std::fs::rename(&self.tmp, &self.target);
            if r.is_ok() {
                crate::interrupt::done(&self.tmp);
            }
            r
        });
        if let Err(e) = renamed {
            return Err(format!("{}: renaming {} over it failed: {e}; {}", self.path.display(), self.tmp.display(), self.left()));
        }
        self.tmp = PathBuf::new();
        sync_dir(self.target.parent());
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// What became of the output when this one failed (nothing to say of a device).
    fn left(&self) -> String {
        if self.tmp.as_os_str().is_empty() {
            String::new()
        } else if self.old.is_some() {
            format!("the old {} is unchanged", self.path.display())
        } else {
            "no file was left".to_string()
        }
    }
}

impl Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let Some(file) = self.file.as_mut() else { return Err(io::Error::other("output already closed")) };
        match file.write(buf) {
            Ok(n) => {
                self.written += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.failed = true;
                let failed = WriteFailed { path: self.path.clone(), written: self.written, left: self.left(), error: e };
                Err(io::Error::new(failed.error.kind(), failed))
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for OutputFile {
    fn drop(&mut self) {
        if self.tmp.as_os_str().is_empty() {
            return;
        }
        drop(self.file.take());
        let _ = std::fs::remove_file(&self.tmp);
        crate::interrupt::done(&self.tmp);
    }
}

/// A write to an output file failed: which, after how many bytes, and why.
#[derive(Debug)]
pub struct WriteFailed {
    path: PathBuf,
    written: u64,
    left: String,
    error: io::Error,
}

impl fmt::Display for WriteFailed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: writing failed after {} bytes: {}", self.path.display(), self.written, self.error)?;
        if !self.left.is_empty() {
            write!(f, "; {}", self.left)?;
        }
        Ok(())
    }
}

impl std::error::Error for WriteFailed {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// An output file could not be put in place ([`OutputFile::commit`]'s message).
#[derive(Debug)]
pub struct Failed(pub String);

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

/// Whether `e` is an output file's [`WriteFailed`] or [`Failed`]: a message complete in
/// itself, naming the file.
pub fn is_write_failure(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<WriteFailed>() || inner.is::<Failed>())
}

/// Syncs directory `dir` (`None` or empty: the current one), so that a rename in it
/// survives a crash. Best effort: the rename itself has happened either way.
pub fn sync_dir(dir: Option<&Path>) {
    let dir = match dir {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Why output `out` may not be written: it is one of `inputs` under some name — the
/// same path, a symbolic link to it or a hard link (the same device and inode).
/// `None` when it is none of them (or does not exist yet).
pub fn refusal<'a>(out: &Path, inputs: impl IntoIterator<Item = &'a Path>) -> Option<String> {
    let id = identity(out)?;
    let input = inputs.into_iter().find(|i| i.as_os_str() != "-" && identity(i) == Some(id))?;
    let (o, i) = (out.display(), input.display());
    if out == input {
        return Some(format!("{o}: the output is one of the input files"));
    }
    let is_link = std::fs::symlink_metadata(out).is_ok_and(|m| m.file_type().is_symlink());
    let canonical_equal = matches!((std::fs::canonicalize(out), std::fs::canonicalize(input)), (Ok(a), Ok(b)) if a == b);
    let how = if is_link {
        format!(" ({o} is a symbolic link to it)")
    } else if canonical_equal {
        String::new()
    } else {
        " (hard links to one file)".to_string()
    };
    Some(format!("{o}: the output is one of the input files: {o} and {i} are the same file{how}"))
}

/// The device and inode of the file `p` names (links followed).
fn identity(p: &Path) -> Option<(u64, u64)> {
    let m = std::fs::metadata(p).ok()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        // No inode numbers: the canonical path stands for the file.
        let _ = m;
        let c = std::fs::canonicalize(p).ok()?;
        let mut h = std::collections::hash_map::DefaultHasher::new();
        std::hash::Hash::hash(&c, &mut h);
        Some((0, std::hash::Hasher::finish(&h)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temporary_name_is_hidden_beside_the_output() {
        let pid = std::process::id();
        assert_eq!(temporary_name(Path::new("out/r.html")), PathBuf::from(format!("out/.r.html.netcap-tmp-{pid}")));
        assert_eq!(temporary_name(Path::new("r.md")), PathBuf::from(format!(".r.md.netcap-tmp-{pid}")));
    }

    #[test]
    fn links_to_an_input_are_the_input() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("a.pcap");
        std::fs::write(&input, b"x").expect("write");
        let hard = dir.path().join("hard.pcap");
        std::fs::hard_link(&input, &hard).expect("hard link");
        let other = dir.path().join("b.pcap");
        std::fs::write(&other, b"x").expect("write");
        let inputs = [input.as_path()];
        let msg = refusal(&hard, inputs).expect("refused");
        assert!(msg.ends_with("are the same file (hard links to one file)"), "{msg}");
        assert!(msg.contains(&*input.to_string_lossy()) && msg.starts_with(&*hard.to_string_lossy()), "{msg}");
        #[cfg(unix)]
        {
            let soft = dir.path().join("soft.pcap");
            std::os::unix::fs::symlink(&input, &soft).expect("symlink");
            let msg = refusal(&soft, inputs).expect("refused");
            assert!(msg.ends_with(&format!("({} is a symbolic link to it)", soft.display())), "{msg}");
        }
        assert_eq!(refusal(&input, inputs).expect("refused"), format!("{}: the output is one of the input files", input.display()));
        assert_eq!(refusal(&other, inputs), None);
        assert_eq!(refusal(&dir.path().join("new.pcap"), inputs), None);
    }

    /// Dropped without commit: no file under either name; committed: the new content
    /// under the final name, with the old file's permissions, and no temporary file.
    #[test]
    fn only_a_committed_file_takes_the_name() {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = dir.path().join("o.txt");
        let mut f = OutputFile::create(&out).expect("create");
        f.write_all(b"partial").expect("write");
        assert!(temporary_name(&out).exists() && !out.exists());
        drop(f);
        assert!(!temporary_name(&out).exists() && !out.exists());
        std::fs::write(&out, b"old").expect("old");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        }
        let mut f = OutputFile::create(&out).expect("create");
        f.write_all(b"new").expect("write");
        assert_eq!(f.written(), 3);
        assert_eq!(std::fs::read(&out).expect("read"), b"old");
        f.commit().expect("commit");
        assert_eq!(std::fs::read(&out).expect("read"), b"new");
        assert!(!temporary_name(&out).exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&out).expect("meta").permissions().mode() & 0o777, 0o600);
        }
    }
}

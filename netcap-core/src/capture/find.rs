//! The capture files in a directory: what a directory given as input means.

use std::path::{Path, PathBuf};

use super::points::CAPTURE_EXTENSIONS;
use super::CaptureReader;

/// Every capture file under `dir`, recursively, sorted by path: every file whose
/// header netcap reads (pcap, pcapng, compressed or not), whatever its name; other
/// files (a bundle's text files, say) are left out. Symbolic links to files are
/// followed, links to directories are not (no loops). Hidden entries (a name starting
/// with `.`) are skipped.
///
/// # Errors
/// `dir` cannot be listed. Entries below it that cannot be read are left out.
pub fn find_captures(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    std::fs::read_dir(dir)?;
    // Sorted by file name in each directory, walked depth first: sorted by path.
    let found: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .follow_links(false)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()))
        .map(walkdir::DirEntry::into_path)
        .filter(|p| CaptureReader::open_streamed(p).is_ok())
        .collect();
    Ok(found)
}

/// The name of the point of capture file `file` found under `dir`: its path relative
/// to `dir`, `/`-separated, without the capture extensions (`.pcap`, `.pcapng`, `.cap`,
/// `.gz`, `.zst`, `.xz`).
pub fn relative_name(dir: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(dir).unwrap_or(file);
    let mut name = rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/");
    loop {
        let stripped = CAPTURE_EXTENSIONS.iter().find_map(|ext| name.strip_suffix(ext).filter(|s| !s.is_empty() && !s.ends_with('/')));
        match stripped {
            Some(s) => name = s.to_string(),
            None => return name,
        }
    }
}

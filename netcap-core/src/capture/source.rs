//! The bytes a reader parses: a caller-driven, bounded buffer over any [`Read`], or a
//! memory-mapped file.
//!
//! The reader asks for "at least `n` bytes from the current position"; the buffer reads
//! until it has them or the input ends. It grows only when it is full of bytes that were
//! actually read, doubling up to `n`, so a length field that lies about a huge record
//! never allocates more than twice the bytes the input really delivered (and never more
//! than the caller's cap, which bounds `n`). A mapped file has every byte at hand: `n`
//! beyond its end is the end of input, like a stream that ends there.

use std::io::{self, Read};
#[cfg(target_os = "linux")]
use std::sync::Arc;

#[cfg(target_os = "linux")]
use super::mapped::Mapping;

/// Smallest buffer; also the read size for small records.
pub(crate) const INITIAL_BUFFER: usize = 64 * 1024;

pub(crate) enum Source {
    Stream(Stream),
    /// A mapped file; `pos` is the offset of the first unconsumed byte, and buffer
    /// indexes are file offsets.
    #[cfg(target_os = "linux")]
    Mapped {
        map: Arc<Mapping>,
        pos: usize,
        /// Released from the page tables below here ([`Mapping::release`]).
        released: usize,
    },
}

/// Bytes read more than this far behind the reading position are released: the
/// engine holds at most a chunk of frames behind it (and a released page read again is
/// mapped again, so this is about memory, never about correctness).
#[cfg(target_os = "linux")]
const BEHIND: usize = 16 << 20;

pub(crate) struct Stream {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Start of the unconsumed bytes in `buf`.
    pos: usize,
    /// End of the valid bytes in `buf`.
    end: usize,
    /// File offset of `buf[pos]`.
    offset: u64,
    eof: bool,
    /// The decompressor reported a cut or damaged stream (treated as end of input).
    cut: Option<String>,
}

impl Source {
    pub(crate) fn new(inner: Box<dyn Read + Send>) -> Source {
        Source::Stream(Stream { inner, buf: Vec::new(), pos: 0, end: 0, offset: 0, eof: false, cut: None })
    }

    #[cfg(target_os = "linux")]
    pub(crate) fn mapped(map: Arc<Mapping>) -> Source {
        Source::Mapped { map, pos: 0, released: 0 }
    }

    /// The mapping, for a mapped file.
    #[cfg(target_os = "linux")]
    pub(crate) fn mapping(&self) -> Option<&Arc<Mapping>> {
        match self {
            Source::Mapped { map, .. } => Some(map),
            Source::Stream(_) => None,
        }
    }

    /// File offset of the first unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        match self {
            Source::Stream(s) => s.offset,
            #[cfg(target_os = "linux")]
            Source::Mapped { pos, .. } => *pos as u64,
        }
    }

    /// Index in the buffer of the first unconsumed byte (valid until the next `fill`).
    pub(crate) fn position(&self) -> usize {
        match self {
            Source::Stream(s) => s.pos,
            #[cfg(target_os = "linux")]
            Source::Mapped { pos, .. } => *pos,
        }
    }

    /// The file offset of buffer index `index` (valid until the next `fill`).
    pub(crate) fn file_offset(&self, index: usize) -> u64 {
        match self {
            Source::Stream(s) => s.offset.saturating_add(index as u64).saturating_sub(s.pos as u64),
            #[cfg(target_os = "linux")]
            Source::Mapped { .. } => index as u64,
        }
    }

    /// The unconsumed bytes.
    pub(crate) fn available(&self) -> &[u8] {
        match self {
            Source::Stream(s) => s.buf.get(s.pos..s.end).unwrap_or(&[]),
            #[cfg(target_os = "linux")]
            Source::Mapped { map, pos, .. } => map.bytes().get(*pos..).unwrap_or(&[]),
        }
    }

    /// Bytes of the buffer by absolute index (empty if out of range).
    pub(crate) fn bytes(&self, start: usize, len: usize) -> &[u8] {
        let all = match self {
            Source::Stream(s) => s.buf.as_slice(),
            #[cfg(target_os = "linux")]
            Source::Mapped { map, .. } => map.bytes(),
        };
        start.checked_add(len).and_then(|stop| all.get(start..stop)).unwrap_or(&[])
    }

    /// Takes a note of a damaged compressed stream, once.
    pub(crate) fn take_cut(&mut self) -> Option<String> {
        match self {
            Source::Stream(s) => s.cut.take(),
            #[cfg(target_os = "linux")]
            Source::Mapped { .. } => None,
        }
    }

    /// Touches every page of `len` bytes at buffer index `start` of a mapped file, so
    /// that a page lost to truncation is found ([`Source::shrunk`]) before the bytes
    /// are lent out. A stream has its bytes in memory already.
    pub(crate) fn probe(&self, start: usize, len: usize) {
        #[cfg(target_os = "linux")]
        if let Source::Mapped { map, .. } = self {
            map.prefetch(start, len);
        }
        let _ = (start, len);
    }

    /// The size of a mapped file that shrank while it was read.
    pub(crate) fn shrunk(&self) -> Option<u64> {
        match self {
            Source::Stream(_) => None,
            #[cfg(target_os = "linux")]
            Source::Mapped { map, .. } => map.truncated().then_some(map.bytes().len() as u64),
        }
    }

    /// Reads until at least `n` unconsumed bytes are buffered or the input ends; returns
    /// how many unconsumed bytes are buffered (less than `n` only at the end of input).
    ///
    /// # Errors
    /// An I/O error of the underlying reader (a cut compressed stream is not an error: it ends
    /// the input and is remembered for [`Source::take_cut`]).
    pub(crate) fn fill(&mut self, n: usize) -> io::Result<usize> {
        match self {
            Source::Stream(s) => s.fill(n),
            #[cfg(target_os = "linux")]
            Source::Mapped { map, pos, released } => {
                let _ = n;
                if pos.saturating_sub(*released) > 2 * BEHIND {
                    let to = *pos - BEHIND;
                    map.release(*released, to - *released);
                    *released = to;
                }
                Ok(map.bytes().len().saturating_sub(*pos))
            }
        }
    }

    /// Marks `n` buffered bytes as consumed (they stay readable until the next `fill`).
    pub(crate) fn consume(&mut self, n: usize) {
        match self {
            Source::Stream(s) => {
                let n = n.min(s.end - s.pos);
                s.pos += n;
                s.offset += n as u64;
            }
            #[cfg(target_os = "linux")]
            Source::Mapped { map, pos, .. } => *pos = pos.saturating_add(n).min(map.bytes().len()),
        }
    }
}

impl Stream {
    fn fill(&mut self, n: usize) -> io::Result<usize> {
        while self.end - self.pos < n && !self.eof {
            if self.pos > 0 && self.pos.saturating_add(n) > self.buf.len() {
                self.buf.copy_within(self.pos..self.end, 0);
                self.end -= self.pos;
                self.pos = 0;
            }
            if self.end == self.buf.len() {
                // Full of real bytes: grow, doubling, never beyond what is asked for.
                let grown = INITIAL_BUFFER.max(self.buf.len().saturating_mul(2).min(n));
                self.buf.resize(grown, 0);
            }
            let space = self.buf.len() - self.end;
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => self.eof = true,
                Ok(k) => self.end += k.min(space),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                    // flate2, zstd and liblzma report a cut stream this way (a damaged one is
                    // `InvalidInput`, which stays an error).
                    self.eof = true;
                    self.cut = Some(e.to_string());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.pos)
    }
}

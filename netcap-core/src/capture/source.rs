//! A caller-driven, bounded byte buffer over any [`Read`].
//!
//! The reader asks for "at least `n` bytes from the current position"; the buffer reads
//! until it has them or the input ends. It grows only when it is full of bytes that were
//! actually read, doubling up to `n`, so a length field that lies about a huge record
//! never allocates more than twice the bytes the input really delivered (and never more
//! than the caller's cap, which bounds `n`).

use std::io::{self, Read};

/// Smallest buffer; also the read size for small records.
pub(crate) const INITIAL_BUFFER: usize = 64 * 1024;

pub(crate) struct Source {
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
        Source {
            inner,
            buf: Vec::new(),
            pos: 0,
            end: 0,
            offset: 0,
            eof: false,
            cut: None,
        }
    }

    /// File offset of the first unconsumed byte.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Index in the buffer of the first unconsumed byte (valid until the next `fill`).
    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    /// The unconsumed bytes.
    pub(crate) fn available(&self) -> &[u8] {
        self.buf.get(self.pos..self.end).unwrap_or(&[])
    }

    /// Bytes of the buffer by absolute index (empty if out of range).
    pub(crate) fn bytes(&self, start: usize, len: usize) -> &[u8] {
        start
            .checked_add(len)
            .and_then(|stop| self.buf.get(start..stop))
            .unwrap_or(&[])
    }

    /// Takes a note of a damaged compressed stream, once.
    pub(crate) fn take_cut(&mut self) -> Option<String> {
        self.cut.take()
    }

    /// Reads until at least `n` unconsumed bytes are buffered or the input ends; returns
    /// how many unconsumed bytes are buffered (less than `n` only at the end of input).
    ///
    /// # Errors
    /// An I/O error of the underlying reader (a cut gzip stream is not an error: it ends
    /// the input and is remembered for [`Source::take_cut`]).
    pub(crate) fn fill(&mut self, n: usize) -> io::Result<usize> {
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
                    // flate2 reports a cut gzip stream this way (a damaged one is
                    // `InvalidInput`, which stays an error).
                    self.eof = true;
                    self.cut = Some(e.to_string());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(self.end - self.pos)
    }

    /// Marks `n` buffered bytes as consumed (they stay readable until the next `fill`).
    pub(crate) fn consume(&mut self, n: usize) {
        let n = n.min(self.end - self.pos);
        self.pos += n;
        self.offset += n as u64;
    }
}

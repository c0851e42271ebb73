//! The inputs of a run and how each is opened.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::capture::{CaptureError, CaptureErrorKind, CaptureReader};

/// One input of a run.
pub(crate) enum Input {
    Path(PathBuf),
    Stdin,
    /// Taken when opened: a reader can be read once.
    Reader { name: String, reader: Option<Box<dyn Read + Send>> },
}

impl Input {
    /// The name in points, errors and [`super::Outcome::inputs`].
    pub fn name(&self) -> String {
        match self {
            Input::Path(p) => p.to_string_lossy().into_owned(),
            Input::Stdin => "-".to_string(),
            Input::Reader { name, .. } => name.clone(),
        }
    }

    /// Whether this is the file `path` (as given, not resolved).
    pub fn is_path(&self, path: &Path) -> bool {
        matches!(self, Input::Path(p) if p.as_os_str() == path.as_os_str())
    }

    /// Whether the input can be opened again from its start (a file).
    pub fn rereadable(&self) -> bool {
        matches!(self, Input::Path(_))
    }

    /// Whether the input is a regular file (not a pipe, a device, standard input).
    pub fn is_regular_file(&self) -> bool {
        matches!(self, Input::Path(p) if std::fs::metadata(p).is_ok_and(|m| m.is_file()))
    }

    /// Opens the input.
    ///
    /// # Errors
    /// As [`CaptureReader::open`]; a reader opened before is an I/O error.
    pub fn open(&mut self) -> Result<CaptureReader, CaptureError> {
        match self {
            Input::Path(p) => CaptureReader::open(p),
            Input::Stdin => CaptureReader::from_reader("-", io::stdin()),
            Input::Reader { name, reader } => match reader.take() {
                Some(r) => CaptureReader::from_reader(name, r),
                None => Err(CaptureError {
                    file: name.clone(),
                    record: None,
                    offset: 0,
                    kind: CaptureErrorKind::Io(io::Error::other("the reader was read already")),
                }),
            },
        }
    }
}

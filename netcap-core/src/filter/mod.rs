//! Which frames a run analyses: a capture-filter expression with tcpdump's meaning, the
//! same kind of expression applied to the innermost packet of each frame, the first N
//! frames, a time window ([`Selection`], given to [`crate::analysis::Analysis::select`]).
//!
//! # Expressions are libpcap's
//! A [`Filter`] is compiled by libpcap itself (`pcap_compile`, optimised, netmask
//! unknown, on a handle of a capture file with the frames' link type and byte order:
//! as `tcpdump -r FILE EXPR` compiles) once per (link type, byte order) it meets, and
//! run by libpcap's BPF interpreter on the frame's captured bytes and wire length: a
//! frame is kept exactly when tcpdump would write it. libpcap is loaded when the first
//! filter is compiled ([`libpcap_version`]); without it, [`Filter::new`] says so.
//!
//! An expression that does not apply to a link type (`ether host` on raw IP) keeps no
//! frame of it, and the run says so once ([`crate::capture::WarningKind::FilterNotApplicable`]);
//! tcpdump refuses such a file instead, but a pcapng may hold many link types.
//!
//! # Inner expressions
//! [`Selection::inner`] applies an expression to the innermost packet
//! ([`innermost`]): the payload of the deepest tunnel when the frame carries one, the
//! frame's own packet otherwise. It starts at the Ethernet header that carries the
//! innermost IP header (VXLAN, Geneve, GRE bridging), compiled for Ethernet; else at
//! that IP header (IP in IP, GRE, GTP-U, an SLL frame), compiled for raw IP; a frame
//! with no IP header is tried from its innermost Ethernet header. So `tcp port 8080`
//! selects a pod's connection on the underlay and on the pod's own interface alike.
//!
//! # Order
//! The time window is applied first, then the filter, then the inner filter, then the
//! count: `-c 10 -f 'tcp'` keeps the first ten TCP frames, as `tcpdump -c` does. Frames
//! keep their numbers in their file.

mod libpcap;

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::capture::LinkType;
use crate::decode::{LayerKind, Packet};

pub use libpcap::Insn;

/// The libpcap the filters use: its version string, or why it could not be loaded.
///
/// # Errors
/// The message names the library files tried.
pub fn libpcap_version() -> Result<String, String> {
    libpcap::version()
}

/// A capture-filter expression, compiled by libpcap per link type on first use.
#[derive(Clone)]
pub struct Filter {
    inner: Arc<Expression>,
}

/// A program, or libpcap's message.
type Compiled = Result<Arc<libpcap::Program>, String>;

struct Expression {
    expr: String,
    /// Per (link type, big-endian file): the program, or libpcap's message when the
    /// expression does not apply to it.
    programs: Mutex<Vec<((LinkType, bool), Compiled)>>,
}

impl fmt::Debug for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Filter").field(&self.inner.expr).finish()
    }
}

/// An expression libpcap rejects, or libpcap missing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FilterError {
    /// The expression as given.
    pub expr: String,
    /// libpcap's message (tcpdump prints the same), or why libpcap could not be loaded.
    pub message: String,
    /// Byte offset in `expr` of the token where the expression stops making sense
    /// (found by compiling its prefixes), or `None` (at its end, or libpcap missing).
    pub position: Option<usize>,
    /// Whether libpcap itself is missing.
    pub no_libpcap: bool,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.no_libpcap {
            return f.write_str(&self.message);
        }
        match self.position {
            Some(p) => write!(f, "{} (at byte {} of the expression)", self.message, p + 1),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FilterError {}

impl FilterError {
    /// The expression with a caret under [`FilterError::position`], as two lines
    /// (`None` without a position).
    pub fn caret(&self) -> Option<String> {
        let p = self.position?;
        let width = self.expr.get(..p).map_or(p, |s| s.chars().count());
        Some(format!("{}\n{}^", self.expr, " ".repeat(width)))
    }
}

/// The link types an expression is tried on when it is first checked: it is valid if
/// libpcap compiles it for one of them (`wlan addr1` is only for 802.11).
const CHECK_LINK_TYPES: [LinkType; 7] =
    [LinkType::ETHERNET, LinkType(101), LinkType(113), LinkType(276), LinkType(127), LinkType(105), LinkType::NULL];

impl Filter {
    /// Checks `expr` with libpcap and keeps it for compiling per link type.
    ///
    /// # Errors
    /// libpcap's message for Ethernet when no usual link type takes the expression,
    /// with the position of the first token that no continuation can make valid; or
    /// libpcap missing.
    pub fn new(expr: &str) -> Result<Filter, FilterError> {
        let filter = Filter { inner: Arc::new(Expression { expr: expr.to_string(), programs: Mutex::new(Vec::new()) }) };
        let mut first = None;
        for lt in CHECK_LINK_TYPES {
            match filter.program(lt, false) {
                Ok(_) => return Ok(filter),
                // libpcap's optimiser proved it keeps nothing (`tcp and udp`): tcpdump
                // refuses it, and so does netcap.
                Err(e) if e.contains("rejects all packets") => {
                    return Err(FilterError { expr: expr.to_string(), message: e, position: None, no_libpcap: false });
                }
                Err(e) if first.is_none() => first = Some(e),
                Err(_) => {}
            }
        }
        let message = first.unwrap_or_default();
        if let Err(no) = libpcap::version() {
            return Err(FilterError { expr: expr.to_string(), message: no, position: None, no_libpcap: true });
        }
        Err(FilterError { expr: expr.to_string(), position: error_position(expr), message, no_libpcap: false })
    }

    /// The expression as given.
    pub fn expression(&self) -> &str {
        &self.inner.expr
    }

    /// The program for frames of link type `lt` from a file (or pcapng section) that
    /// is big-endian or not, compiled on first use.
    ///
    /// # Errors
    /// libpcap's message when the expression does not apply to `lt`.
    fn program(&self, lt: LinkType, big_endian: bool) -> Result<Arc<libpcap::Program>, String> {
        let mut programs = self.inner.programs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, p)) = programs.iter().find(|(k, _)| *k == (lt, big_endian)) {
            return p.clone();
        }
        let compiled = match libpcap::compile(lt.0, big_endian, &self.inner.expr, true) {
            Ok(p) => Ok(Arc::new(p)),
            Err(libpcap::CompileError::NoLibrary(m) | libpcap::CompileError::Expression(m)) => Err(m),
        };
        programs.push(((lt, big_endian), compiled.clone()));
        compiled
    }

    /// The compiled form for frames of link type `lt` from a file (or pcapng section)
    /// that is big-endian or not ([`crate::capture::CaptureReader::big_endian`]: libpcap
    /// reads a loopback header in the file's byte order), to run on many frames.
    ///
    /// # Errors
    /// libpcap's message when the expression does not apply to `lt`.
    pub fn compiled(&self, lt: LinkType, big_endian: bool) -> Result<Program, String> {
        self.program(lt, big_endian).map(Program)
    }

    /// Whether a frame of link type `lt` from a little-endian file, with captured bytes
    /// `data` and wire length `wirelen`, matches; `false` when the expression does not
    /// apply to `lt`.
    pub fn matches(&self, lt: LinkType, data: &[u8], wirelen: u32) -> bool {
        self.program(lt, false).is_ok_and(|p| p.matches(data, wirelen))
    }
}

/// An expression compiled for one link type.
#[derive(Debug, Clone)]
pub struct Program(Arc<libpcap::Program>);

impl Program {
    /// Whether the packet with captured bytes `data` and wire length `wirelen` matches.
    pub fn matches(&self, data: &[u8], wirelen: u32) -> bool {
        self.0.matches(data, wirelen)
    }

    /// libpcap's BPF instructions (what `tcpdump -d` lists, in numbers).
    pub fn instructions(&self) -> &[Insn] {
        self.0.instructions()
    }
}

/// Where the innermost packet of a decoded frame starts ([module docs](self)): the
/// link type to compile an inner expression for (Ethernet or raw IP) and the byte
/// offset in the frame; `None` when the frame has neither an IP nor an Ethernet header.
pub fn innermost(packet: &Packet) -> Option<(LinkType, usize)> {
    let layers = packet.own_layers();
    let is_ip = |k: &LayerKind| matches!(k, LayerKind::Ipv4 { .. } | LayerKind::Ipv6 { .. });
    let Some(ip) = layers.iter().rposition(|l| is_ip(&l.kind)) else {
        let eth = layers.iter().rfind(|l| matches!(l.kind, LayerKind::Eth { .. }))?;
        return Some((LinkType::ETHERNET, eth.offset as usize));
    };
    // The Ethernet header right above the IP header, VLAN tags between them allowed.
    let above = layers[..ip].iter().rev().find(|l| !matches!(l.kind, LayerKind::Vlan { .. }));
    match above {
        Some(l) if matches!(l.kind, LayerKind::Eth { .. }) => Some((LinkType::ETHERNET, l.offset as usize)),
        _ => Some((LinkType(101), layers[ip].offset as usize)),
    }
}

/// A bound of [`Selection`]'s time window (JSON: `{"at": NS}` or
/// `{"after_first": NS}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBound {
    /// Nanoseconds since the Unix epoch (UTC).
    At(i64),
    /// Nanoseconds after the first frame read (of the run in time order, of each input
    /// in file order).
    AfterFirst(i64),
}

impl TimeBound {
    /// `2026-12-06T10:24:43Z`, `2026-12-06 10:24:43.5+01:00` (RFC 3339, a space for the
    /// `T` allowed, a date alone is its midnight UTC), or a duration after the first
    /// frame: `+90s`, `1.5m`, `250ms`, `2h` ([`parse_duration`]).
    ///
    /// # Errors
    /// A message saying what was expected.
    pub fn parse(s: &str) -> Result<TimeBound, String> {
        let t = s.trim();
        if let Some(ns) = parse_rfc3339(t) {
            return Ok(TimeBound::At(ns));
        }
        match parse_duration(t) {
            Some(ns) if ns >= 0 => Ok(TimeBound::AfterFirst(ns)),
            _ => Err(format!(
                "{s:?}: expected an RFC 3339 time (2026-12-06T10:24:43Z) or a duration after the first frame (+90s, 250ms, 2m)"
            )),
        }
    }

    /// The bound in nanoseconds since the epoch, the first frame being at `first`.
    pub fn resolve(self, first: i64) -> i64 {
        match self {
            TimeBound::At(ns) => ns,
            TimeBound::AfterFirst(d) => first.saturating_add(d),
        }
    }
}

/// `±1.5s`, `-250ms`, `+40us`, `100ns`, `2m`, `1h`, or plain seconds, in nanoseconds.
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let (sign, rest) = match s.strip_prefix('-') {
        Some(r) => (-1.0, r),
        None => (1.0, s.strip_prefix('+').unwrap_or(s)),
    };
    let (num, unit) = rest.split_at(rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len()));
    let scale = match unit {
        "" | "s" => 1e9,
        "ms" => 1e6,
        "us" | "µs" => 1e3,
        "ns" => 1.0,
        "m" | "min" => 60e9,
        "h" => 3600e9,
        _ => return None,
    };
    let v: f64 = num.parse().ok()?;
    let ns = (sign * v * scale).round();
    (ns.is_finite() && ns.abs() < 9.2e18).then_some(ns as i64)
}

/// RFC 3339 date-time (or a date alone) in nanoseconds since the epoch.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(r)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok()).flatten()
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    if b.len() == 10 {
        return days.checked_mul(86_400_000_000_000);
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut frac_ns = 0i64;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let digits = s.get(start..i)?;
        if digits.is_empty() {
            return None;
        }
        let kept: String = digits.chars().chain(std::iter::repeat('0')).take(9).collect();
        frac_ns = kept.parse().ok()?;
    }
    let offset_s = match s.get(i..)? {
        "Z" | "z" => 0,
        "" => return None,
        zone => {
            let zb = zone.as_bytes();
            if zone.len() != 6 || !matches!(zb[0], b'+' | b'-') || zb[3] != b':' {
                return None;
            }
            let (zh, zm) = (num(i + 1..i + 3)?, num(i + 4..i + 6)?);
            let off = zh * 3600 + zm * 60;
            if zb[0] == b'-' {
                -off
            } else {
                off
            }
        }
    };
    let secs = days.checked_mul(86_400)?.checked_add(h * 3600 + mi * 60 + sec)?.checked_sub(offset_s)?;
    secs.checked_mul(1_000_000_000)?.checked_add(frac_ns)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`, <https://howardhinnant.github.io/date_algorithms.html>).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The frames a run analyses ([module docs](self)). The default selects every frame.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Selection {
    /// tcpdump's capture filter, on each frame as captured.
    pub filter: Option<Filter>,
    /// The same kind of expression on each frame's innermost packet ([`innermost`]).
    pub inner: Option<Filter>,
    /// Only the first N frames that pass the filters (`tcpdump -c`).
    pub count: Option<u64>,
    /// Frames at or after this time.
    pub from: Option<TimeBound>,
    /// Frames before this time.
    pub to: Option<TimeBound>,
}

impl Selection {
    /// Every frame.
    pub fn new() -> Self {
        Selection::default()
    }

    /// Keeps the frames `filter` matches.
    pub fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Keeps the frames whose innermost packet `filter` matches.
    pub fn inner(mut self, filter: Filter) -> Self {
        self.inner = Some(filter);
        self
    }

    /// Keeps the first `n` frames that pass everything else.
    pub fn count(mut self, n: u64) -> Self {
        self.count = Some(n);
        self
    }

    /// Keeps the frames at or after `bound`.
    pub fn from(mut self, bound: TimeBound) -> Self {
        self.from = Some(bound);
        self
    }

    /// Keeps the frames before `bound`.
    pub fn to(mut self, bound: TimeBound) -> Self {
        self.to = Some(bound);
        self
    }

    /// Whether every frame is selected.
    pub fn is_all(&self) -> bool {
        self.filter.is_none() && self.inner.is_none() && self.count.is_none() && self.from.is_none() && self.to.is_none()
    }

    /// What was selected, for the outputs; `None` when every frame was.
    pub fn report(&self, frames_read: u64) -> Option<SelectionReport> {
        (!self.is_all()).then(|| SelectionReport {
            filter: self.filter.as_ref().map(|f| f.expression().to_string()),
            inner: self.inner.as_ref().map(|f| f.expression().to_string()),
            count: self.count,
            from: self.from,
            to: self.to,
            frames_read,
        })
    }
}

/// The selection of a run, as the outputs show it (`selection` in the JSON).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct SelectionReport {
    /// The capture filter expression.
    pub filter: Option<String>,
    /// The inner filter expression.
    pub inner: Option<String>,
    /// The most frames kept.
    pub count: Option<u64>,
    /// Frames at or after this.
    pub from: Option<TimeBound>,
    /// Frames before this.
    pub to: Option<TimeBound>,
    /// Frames read, kept or not (a count reached stops reading early).
    pub frames_read: u64,
}

/// Continuations tried after a prefix of a bad expression: a prefix that one of them
/// completes into a valid expression could still have been meant.
const CONTINUATIONS: &[&str] = &[
    "",
    " 1",
    " 1.1.1.1",
    "1",
    ")",
    " )",
    " 1)",
    " 1]",
    "1]",
    "]",
    " 1] = 1",
    "1] = 1",
    "] = 1",
    ":1] = 1",
    " = 1",
    " 1 = 1",
    " and ip",
    " ip",
    " host 1.1.1.1",
    " 1 and ip",
    " host 1:2:3:4:5:6",
    " 1:2:3:4:5:6",
    " proto 1",
    " port 1",
    "[0] = 1",
];

/// The byte offset of the first token of `expr` that no continuation makes valid: the
/// position of the error, as a parser would report it. `None` when every prefix can
/// be continued: the expression ends too early, or is wrong only as a whole (libpcap's
/// optimiser refuses an expression that rejects every packet).
fn error_position(expr: &str) -> Option<usize> {
    let tokens = tokens(expr);
    for &(start, end) in &tokens {
        let prefix = &expr[..end];
        // Unoptimised: the optimiser refuses what rejects every packet, which a
        // continuation may well do.
        let viable = CONTINUATIONS.iter().any(|c| libpcap::compile(LinkType::ETHERNET.0, false, &format!("{prefix}{c}"), false).is_ok());
        if !viable {
            return Some(start);
        }
    }
    None
}

/// The tokens of an expression: runs of characters other than blanks and brackets,
/// and each bracket; (start, end) byte offsets.
fn tokens(expr: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in expr.char_indices() {
        let bracket = matches!(c, '(' | ')' | '[' | ']');
        if c.is_whitespace() || bracket {
            if let Some(s) = start.take() {
                out.push((s, i));
            }
            if bracket {
                out.push((i, i + 1));
            }
        } else if start.is_none() {
            start = Some(i);
        }
    }
    if let Some(s) = start {
        out.push((s, expr.len()));
    }
    out
}

#[cfg(test)]
mod tests;

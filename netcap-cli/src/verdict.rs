//! The verdict that opens `summary`, `correlate` and `report`: one line per finding,
//! errors first, then warnings, then information; or that nothing is wrong. Findings
//! keep the numbers `correlate` gives them (`extract --finding N`, `related`), whatever
//! the order and the filter.

use std::collections::HashMap;

use clap::{Args, ValueEnum};
use netcap_core::findings::Finding;

/// How much of the findings the text and the reports show.
#[derive(Debug, Clone, Copy, Args)]
pub struct View {
    /// Show only findings of LEVEL or worse in the text and the report: error, warning or
    /// info (all). JSON always carries every finding.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = Level::Info)]
    pub min_severity: Level,
    /// Also list the frames and hint of every information finding (folded to their
    /// sentence otherwise).
    #[arg(short = 'v', long)]
    pub verbose: bool,
}

impl Default for View {
    fn default() -> Self {
        View { min_severity: Level::Info, verbose: false }
    }
}

/// A finding's severity, worst first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Level {
    Error,
    Warning,
    Info,
}

impl Level {
    /// The word on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "info",
        }
    }

    /// The level of a finding's `severity` (an unknown word counts as information).
    pub fn of(severity: &str) -> Level {
        match severity {
            "error" => Level::Error,
            "warning" => Level::Warning,
            _ => Level::Info,
        }
    }
}

/// More findings than this of one kind and severity are one line in the verdict.
const GROUP: usize = 3;

/// One line of the verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// The finding's `severity` word.
    pub severity: &'static str,
    /// Its `kind`.
    pub kind: &'static str,
    /// The 1-based numbers of the findings the line stands for.
    pub numbers: Vec<usize>,
    /// The first finding's sentence.
    pub summary: String,
}

impl Line {
    /// `1`, or `3, 4, 5` (see [`numbers_text`]).
    pub fn numbers_text(&self) -> String {
        numbers_text(&self.numbers)
    }

    /// The line's words after its severity: the sentence of a single finding, or, for
    /// many of one kind, how many and the first one's sentence.
    pub fn text(&self) -> String {
        match self.numbers.len() {
            1 => self.summary.clone(),
            n => format!("{n} {} findings (numbers {}); the first: {}", self.kind, self.numbers_text(), self.summary),
        }
    }
}

/// Finding numbers as `1`, or `3, 4, 5`: the first 10, then how many in all.
pub fn numbers_text(numbers: &[usize]) -> String {
    let mut s: Vec<String> = numbers.iter().take(10).map(ToString::to_string).collect();
    if numbers.len() > 10 {
        s.push(format!("… ({} in all)", numbers.len()));
    }
    s.join(", ")
}

/// The verdict: the lines shown, worst first (in finding order within a severity), and
/// how many findings `--min-severity` hides.
pub fn lines<'a>(findings: impl IntoIterator<Item = &'a Finding>, view: &View) -> (Vec<Line>, usize) {
    let mut all = 0;
    let shown = shown(findings.into_iter().inspect(|_| all += 1), view);
    let hidden = all - shown.len();
    let mut counts: HashMap<(&str, &str), usize> = HashMap::new();
    for (_, f) in &shown {
        *counts.entry((f.severity, f.kind)).or_default() += 1;
    }
    let mut out: Vec<Line> = Vec::new();
    // Where the one line of a kind with many findings is.
    let mut grouped: HashMap<(&str, &str), usize> = HashMap::new();
    for (n, f) in shown {
        let key = (f.severity, f.kind);
        if counts.get(&key).copied().unwrap_or(0) > GROUP {
            if let Some(&i) = grouped.get(&key) {
                out[i].numbers.push(n);
                continue;
            }
            grouped.insert(key, out.len());
        }
        out.push(Line { severity: f.severity, kind: f.kind, numbers: vec![n], summary: f.summary.clone() });
    }
    (out, hidden)
}

/// What the verdict opens with, from its lines and every finding: decided once for the
/// text and the report, which word it each their own way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opening {
    /// No finding is an error or a warning, and none is shown: "No problems found".
    Clean,
    /// None shown, but errors or warnings are hidden by `--min-severity`.
    NoneAtLevel,
    /// Only information findings: "No problems found", then them.
    OnlyInfo,
    /// The tally, the worst level shown (an error or a warning).
    Tally(Level),
}

impl Opening {
    pub fn of<'a>(lines: &[Line], findings: impl IntoIterator<Item = &'a Finding>) -> Opening {
        match lines.iter().map(|l| Level::of(l.severity)).min() {
            None if nothing_wrong(findings) => Opening::Clean,
            None => Opening::NoneAtLevel,
            Some(Level::Info) => Opening::OnlyInfo,
            Some(worst) => Opening::Tally(worst),
        }
    }
}

/// Whether no finding, shown or hidden, is an error or a warning.
pub fn nothing_wrong<'a>(findings: impl IntoIterator<Item = &'a Finding>) -> bool {
    findings.into_iter().all(|f| Level::of(f.severity) == Level::Info)
}

/// Whether the evidence and hint of a finding are listed (else only its sentence).
pub fn unfolded(f: &Finding, view: &View) -> bool {
    view.verbose || Level::of(f.severity) != Level::Info
}

/// The findings shown, with their numbers, worst first.
pub fn shown<'a>(findings: impl IntoIterator<Item = &'a Finding>, view: &View) -> Vec<(usize, &'a Finding)> {
    let mut v: Vec<(usize, &Finding)> =
        findings.into_iter().enumerate().filter(|(_, f)| Level::of(f.severity) <= view.min_severity).map(|(i, f)| (i + 1, f)).collect();
    v.sort_by_key(|(n, f)| (Level::of(f.severity), *n));
    v
}

/// `1 error, 2 warnings and 4 information findings` for the findings shown.
pub fn tally<'a>(findings: impl IntoIterator<Item = &'a Finding>, view: &View) -> String {
    let shown = shown(findings, view);
    let count = |l: Level| shown.iter().filter(|(_, f)| Level::of(f.severity) == l).count();
    let mut parts = Vec::new();
    for (l, one, many) in [(Level::Error, "error", "errors"), (Level::Warning, "warning", "warnings"), (Level::Info, "information finding", "information findings")] {
        match count(l) {
            0 => {}
            1 => parts.push(format!("1 {one}")),
            n => parts.push(format!("{n} {many}")),
        }
    }
    match parts.len() {
        0 => String::new(),
        1 => parts.remove(0),
        _ => {
            let last = parts.pop().unwrap_or_default();
            format!("{} and {last}", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: &'static str, severity: &'static str, summary: &str) -> Finding {
        Finding {
            kind,
            severity,
            summary: summary.to_string(),
            points: Vec::new(),
            flow: String::new(),
            frames: Vec::new(),
            evidence: serde_json::Value::Null,
            hint: String::new(),
            related: Vec::new(),
        }
    }

    /// Worst first, numbers kept; a kind with more than three findings of one severity
    /// is one line, at the place of its first; the numbers list stops at ten.
    #[test]
    fn lines_are_worst_first_and_many_of_a_kind_are_one() {
        let mut list = vec![finding("offload_artifact", "info", "o1"), finding("syn_retry_delay", "warning", "w")];
        list.extend((0..12).map(|i| finding("handshake_failure", "error", &format!("h{i}"))));
        list.push(finding("lost_between", "error", "l"));
        let (lines, hidden) = lines(&list, &View::default());
        assert_eq!(hidden, 0);
        let got: Vec<(&str, Vec<usize>, String)> = lines.iter().map(|l| (l.severity, l.numbers.clone(), l.text())).collect();
        assert_eq!(got[0].0, "error");
        assert_eq!(got[0].1, (3..=14).collect::<Vec<_>>());
        assert_eq!(got[0].2, "12 handshake_failure findings (numbers 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, … (12 in all)); the first: h0");
        assert_eq!(got[1], ("error", vec![15], "l".to_string()));
        assert_eq!(got[2], ("warning", vec![2], "w".to_string()));
        assert_eq!(got[3], ("info", vec![1], "o1".to_string()));
        assert_eq!(tally(&list, &View::default()), "13 errors, 1 warning and 1 information finding");
        let errors = View { min_severity: Level::Error, verbose: false };
        let (lines, hidden) = super::lines(&list, &errors);
        assert_eq!((lines.len(), hidden), (2, 2));
        assert!(!nothing_wrong(&list));
        assert!(nothing_wrong(&list[..1]));
        assert!(!unfolded(&list[0], &View::default()) && unfolded(&list[0], &View { verbose: true, ..View::default() }));
    }
}

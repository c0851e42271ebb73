//! The report's content as blocks (headings, paragraphs, tables, plots), in reading
//! order; `markdown` and `html` only lay them out, so the two formats cannot differ.

use super::plots::{self as draw, Figure};
use super::{offset, Doc, MAX_ROWS};
use crate::text::{clock, datetime, millis, seconds, stats_line};

/// One piece of the report.
#[derive(Debug)]
pub enum Block {
    Heading(u8, String),
    Para(String),
    /// A paragraph opening with a bold label.
    Labelled(&'static str, String),
    List(Vec<String>),
    Note(String),
    Table(Table),
    Code(String),
    /// A plot (HTML only) with its title, or why it could not be drawn.
    Plot(String, Result<Figure, String>),
    /// Said in Markdown only (where the plots are).
    MarkdownOnly(String),
    /// The verdict: its tone (`bad` with an error, `warn` with a warning, else `ok`),
    /// the lead sentence, one item per line.
    Verdict(&'static str, String, Vec<String>),
}

#[derive(Debug)]
pub struct Table {
    pub head: Vec<&'static str>,
    /// Per column: right-aligned (numbers).
    pub right: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    /// The rows to highlight (a fault), by index.
    pub marked: Vec<usize>,
}

impl Table {
    /// Columns named in `head`; a leading `>` marks a right-aligned one.
    fn new(head: &[&'static str]) -> Self {
        Table {
            head: head.iter().map(|h| h.trim_start_matches('>')).collect(),
            right: head.iter().map(|h| h.starts_with('>')).collect(),
            rows: Vec::new(),
            marked: Vec::new(),
        }
    }
}

fn opt_ms(ns: Option<i64>) -> String {
    ns.map_or_else(|| "-".to_string(), millis)
}

fn plural(n: usize, word: &str) -> String {
    crate::text::count(n as u64, word)
}

/// The whole report, in reading order; plots drawn only when `plots` is set.
pub fn blocks(doc: &Doc, plots: bool) -> Vec<Block> {
    let mut b = vec![Block::Heading(1, "netcap report".to_string())];
    if let Some(line) = &doc.interrupted {
        b.push(Block::Para(line.clone()));
    }
    // What the sections leave out, said after the analysis's own omissions.
    let mut omitted = doc.omissions.clone();
    // The answer first, then the evidence, then the inventory.
    verdict(&mut b, doc);
    findings(&mut b, doc, plots, &mut omitted);
    between(&mut b, doc, plots, &mut omitted);
    troubled(&mut b, doc, plots);
    checksums(&mut b, doc, &mut omitted);
    tcp(&mut b, doc);
    captured(&mut b, doc, &mut omitted);
    b.push(Block::MarkdownOnly(
        "Plots (the SYN timeline across points, the time-sequence graph and RTT of the flow in most trouble, the one-way delay between points) are in the HTML report: `-o report.html`.".to_string(),
    ));
    if !omitted.is_empty() {
        b.push(Block::Heading(2, "Not shown".to_string()));
        b.push(Block::List(omitted));
    }
    b.push(Block::Heading(2, "Command".to_string()));
    b.push(Block::Para(format!("Produced by netcap {} with:", doc.version)));
    b.push(Block::Code(doc.command.clone()));
    b
}

/// Which of `n` rows a list or table of at most `MAX_ROWS` keeps, in their order: every
/// row that `first` says matters (up to the limit), then the others. Said in `omitted`
/// as "`what` shows K of N `unit` (`why`); `all`" when rows are left out.
fn rows_kept(n: usize, first: impl Fn(usize) -> bool, omitted: &mut Vec<String>, say: [&str; 4]) -> Vec<usize> {
    if n <= MAX_ROWS {
        return (0..n).collect();
    }
    let [what, unit, why, all] = say;
    let mut kept: Vec<usize> = (0..n).filter(|&i| first(i)).take(MAX_ROWS).collect();
    let room = MAX_ROWS - kept.len();
    kept.extend((0..n).filter(|&i| !first(i)).take(room));
    kept.sort_unstable();
    omitted.push(format!("{what} shows {MAX_ROWS} of {n} {unit} ({why}); {all}."));
    kept
}

/// One line per finding shown, errors first, numbered as `netcap correlate` numbers
/// them; or that nothing is wrong.
fn verdict(b: &mut Vec<Block>, doc: &Doc) {
    b.push(Block::Heading(2, "Verdict".to_string()));
    let list = || doc.findings.iter().map(|f| &f.finding);
    let (lines, hidden) = crate::verdict::lines(list(), &doc.view);
    let clean = if doc.points.len() > 1 {
        "No problems found: every packet was seen at every point on its path, and no receiver would drop one."
    } else {
        "No problems found."
    };
    let hidden = if hidden == 0 { String::new() } else { format!(" {} hidden by --min-severity {}.", plural(hidden, "less severe finding"), doc.view.min_severity.name()) };
    let opening = crate::verdict::Opening::of(&lines, list());
    let tone = match opening {
        crate::verdict::Opening::Tally(crate::verdict::Level::Error) => "bad",
        crate::verdict::Opening::Tally(_) | crate::verdict::Opening::NoneAtLevel => "warn",
        crate::verdict::Opening::Clean | crate::verdict::Opening::OnlyInfo => "ok",
    };
    let tally = crate::verdict::tally(list(), &doc.view);
    let lead = match opening {
        crate::verdict::Opening::Clean => format!("{clean}{hidden}"),
        crate::verdict::Opening::NoneAtLevel => format!("No findings at --min-severity {} or worse.{hidden}", doc.view.min_severity.name()),
        crate::verdict::Opening::OnlyInfo => format!("{}; {tally}:", clean.trim_end_matches('.')),
        crate::verdict::Opening::Tally(_) => format!("{tally}:{hidden}"),
    };
    b.push(Block::Verdict(
        tone,
        lead,
        lines
            .iter()
            .map(|l| {
                let number = if l.numbers.len() == 1 { format!(" (finding {})", l.numbers[0]) } else { String::new() };
                format!("{}: {}{number}", l.severity, doc.names.annotate(&l.text()))
            })
            .collect(),
    ));
}

/// The inventory: every capture point, its file, interface, frames, span and clock.
fn captured(b: &mut Vec<Block>, doc: &Doc, omitted: &mut Vec<String>) {
    b.push(Block::Heading(2, "What was captured".to_string()));
    let frames: u64 = doc.points.iter().map(|p| p.row.frames).sum();
    let points = plural(doc.points.len(), "capture point");
    b.push(Block::Para(match doc.span {
        Some((a, z)) => format!(
            "{points}, {frames} frames, from {} to {} UTC ({}). Times below are after the start, with clock offsets applied.",
            datetime(a),
            datetime(z),
            seconds(z.saturating_sub(a))
        ),
        None => format!("{points}, {frames} frames, no timestamps."),
    }));
    let mut t = Table::new(&["point", "file", "interface", ">link type", ">frames", ">first", ">last", "clock"]);
    let say = ["The capture points table", "points", "the first ones", "`netcap summary` lists them all"];
    for p in rows_kept(doc.points.len(), |_| false, omitted, say).into_iter().map(|i| &doc.points[i]) {
        let at = |t: Option<i64>| t.map_or_else(|| "-".to_string(), |t| offset(doc, t));
        t.rows.push(vec![
            p.row.name.clone(),
            p.row.file.clone(),
            p.row.interface.clone().unwrap_or_else(|| "-".to_string()),
            p.row.link_type.0.to_string(),
            p.row.frames.to_string(),
            at(p.first_ts_ns),
            at(p.last_ts_ns),
            clock(&p.row).unwrap_or_else(|| "reference".to_string()),
        ]);
    }
    b.push(Block::Table(t));
}

/// The paths packets took, what each pair of adjacent points saw of them, and the
/// one-way delays.
fn between(b: &mut Vec<Block>, doc: &Doc, plots: bool, omitted: &mut Vec<String>) {
    if doc.paths.is_empty() && doc.pairs.is_empty() && doc.notes.is_empty() {
        return;
    }
    b.push(Block::Heading(2, "Between points".to_string()));
    if !doc.paths.is_empty() {
        b.push(Block::Para("Paths, upstream first:".to_string()));
        let say = ["The paths list", "directions", "those through more than one point first", "`netcap correlate --format json` lists them all"];
        let kept = rows_kept(doc.paths.len(), |i| doc.paths[i].points.len() > 1, omitted, say);
        b.push(Block::List(
            kept.into_iter()
                .map(|i| &doc.paths[i])
                .map(|p| format!("{}: {}", doc.names.annotate(&p.direction), p.points.join(" → ")))
                .collect(),
        ));
    }
    if !doc.pairs.is_empty() {
        b.push(Block::Para("Between adjacent points:".to_string()));
        let mut t = Table::new(&[
            "from", "to", ">matched", ">lost", ">appeared", ">duplicated", ">reordered", ">delay min", ">p50", ">p99", ">max",
        ]);
        let say = ["The between-points table", "pairs of points", "those with packets lost or appeared first", "`netcap correlate --format json` lists them all"];
        let troubled = |i: usize| doc.pairs[i].lost > 0 || doc.pairs[i].appeared > 0;
        for r in rows_kept(doc.pairs.len(), troubled, omitted, say).into_iter().map(|i| &doc.pairs[i]) {
            let d = &r.delay_ns;
            t.rows.push(vec![
                r.from.clone(),
                r.to.clone(),
                r.matched.to_string(),
                r.lost.to_string(),
                r.appeared.to_string(),
                r.duplicated.to_string(),
                r.reordered.to_string(),
                opt_ms(d.min),
                opt_ms(d.p50),
                opt_ms(d.p99),
                opt_ms(d.max),
            ]);
        }
        b.push(Block::Table(t));
    }
    for d in doc.delays.iter().filter(|_| plots) {
        let title = format!("One-way delay along {}", doc.names.annotate(&d.direction));
        b.push(Block::Plot(title, draw::delays(d, doc.span.map_or(0, |s| s.0))));
    }
    for n in &doc.notes {
        b.push(Block::Note(format!("Note: {n}.")));
    }
}

/// The findings shown, worst first, each with its evidence frames and what to do;
/// information findings are in the verdict only unless `--verbose`.
fn findings(b: &mut Vec<Block>, doc: &Doc, plots: bool, omitted: &mut Vec<String>) {
    let shown = crate::verdict::shown(doc.findings.iter().map(|f| &f.finding), &doc.view);
    if !shown.is_empty() {
        b.push(Block::Heading(2, "Findings".to_string()));
    }
    let mut folded = Vec::new();
    let mut undetailed = 0usize;
    for (n, _) in shown {
        let f = &doc.findings[n - 1];
        let x = &f.finding;
        if !crate::verdict::unfolded(x, &doc.view) {
            folded.push(n);
            continue;
        }
        if !doc.detailed.contains(&n) {
            undetailed += 1;
            continue;
        }
        b.push(Block::Heading(3, format!("{n}. {} ({})", x.kind, x.severity)));
        b.push(Block::Para(doc.names.annotate(&x.summary)));
        if !f.rows.is_empty() {
            let mut t = Table::new(&[">packet", "point", ">frame", ">time", "what matters"]);
            for r in &f.rows {
                t.rows.push(vec![
                    r.packet.to_string(),
                    r.point.clone(),
                    r.frame.to_string(),
                    r.ts_ns.map_or_else(|| "-".to_string(), |t| offset(doc, t)),
                    if r.value.is_empty() { "-".to_string() } else { r.value.clone() },
                ]);
            }
            b.push(Block::Table(t));
        }
        if !x.related.is_empty() {
            let r: Vec<String> = x.related.iter().map(|n| format!("finding {n}")).collect();
            b.push(Block::Labelled("Related:", format!("{}.", r.join(", "))));
        }
        b.push(Block::Labelled("What to do:", x.hint.clone()));
    }
    if undetailed > 0 {
        omitted.push(format!(
            "The Findings section gives the first {} in full: {} more are counted in the verdict; `netcap correlate --format json` lists each with its frames.",
            plural(doc.detailed.len(), "finding"),
            undetailed
        ));
    }
    if !folded.is_empty() {
        let numbers = crate::verdict::numbers_text(&folded);
        b.push(Block::Para(format!(
            "Information findings {numbers}: their sentence is in the verdict; `--verbose` adds their frames and hints here."
        )));
    }
    for t in doc.syn_timelines.iter().filter(|_| plots) {
        let title = doc.names.annotate(&format!("SYN attempts of {} → {} at each point", t.client, t.server));
        b.push(Block::Plot(title, draw::syn_timeline(t)));
    }
}

fn troubled(b: &mut Vec<Block>, doc: &Doc, plots: bool) {
    b.push(Block::Heading(2, "Flows in trouble".to_string()));
    if doc.troubled.is_empty() {
        b.push(Block::Para(format!(
            "None of the {}: no retransmission, lost segment, SYN retry, reset or failed handshake.",
            plural(doc.flows_total, "TCP flow")
        )));
    } else {
        let shown = if doc.troubled_total > doc.troubled.len() {
            format!("; the worst {} shown", doc.troubled.len())
        } else {
            String::new()
        };
        b.push(Block::Para(format!(
            "{} of {} (a flow is one connection at one point){shown}.",
            doc.troubled_total,
            plural(doc.flows_total, "TCP flow")
        )));
        let mut t = Table::new(&[
            ">flow", "point", "client → server", "outcome", ">retransmissions", ">lost segments", ">SYN attempts", ">connect delay", ">RTT p50 → / ←",
        ]);
        for f in &doc.troubled {
            t.rows.push(vec![
                f.id.to_string(),
                f.point.clone(),
                doc.names.annotate(&format!("{} → {}", f.client, f.server)),
                f.outcome.as_str().to_string(),
                f.retransmissions().to_string(),
                (f.c2s.lost_segments + f.s2c.lost_segments).to_string(),
                f.syn.attempts.to_string(),
                f.syn.connect_delay_ns.map_or_else(|| "-".to_string(), seconds),
                format!("{} / {}", opt_ms(f.c2s.rtt.karn.p50_ns), opt_ms(f.s2c.rtt.karn.p50_ns)),
            ]);
        }
        b.push(Block::Table(t));
    }
    if let Some(tr) = doc.trace.as_ref().filter(|_| plots) {
        let f = &tr.flow;
        let what = doc.names.annotate(&format!("flow {} at {} ({} → {})", f.id, f.point, f.client, f.server));
        let data = f.c2s.data_segments + f.s2c.data_segments;
        if data < MIN_TRACED_SEGMENTS && f.syn.attempts > 1 {
            // A few segments draw no useful graph; their trouble is the handshake.
            b.push(Block::Para(format!(
                "{what} carried {} with data, SYN or FIN: its story is its {} SYN attempts, in the SYN timeline above, not a time-sequence graph.",
                plural(usize::try_from(data).unwrap_or(usize::MAX), "segment"),
                f.syn.attempts
            )));
        } else {
            b.push(Block::Plot(format!("Time-sequence graph of {what}"), draw::time_sequence(tr)));
            b.push(Block::Plot(format!("RTT of {what}"), draw::rtt(tr)));
        }
    }
}

/// Fewer segments with data than this, and a SYN retried: the flow's SYN timeline tells
/// its story, not a time-sequence graph.
const MIN_TRACED_SEGMENTS: u64 = 20;

fn checksums(b: &mut Vec<Block>, doc: &Doc, omitted: &mut Vec<String>) {
    b.push(Block::Heading(2, "Checksum verdicts".to_string()));
    if doc.checksums.is_empty() {
        b.push(Block::Para("No frame carried a checksum netcap could judge.".to_string()));
        return;
    }
    b.push(Block::Para(
        "Per point and layer (udp@0 is the outermost UDP header, @1 one tunnel in).".to_string(),
    ));
    let mut t = Table::new(&["point", "layer", "verdict", ">frames", "first frames"]);
    let bad = |c: &super::ChecksumLine| matches!(c.status, netcap_core::checksum::Status::Bad | netcap_core::checksum::Status::IllegalZero);
    let say = ["The checksum table", "rows", "bad and illegal-zero verdicts first", "`netcap export` writes the verdicts of every frame"];
    for c in rows_kept(doc.checksums.len(), |i| bad(&doc.checksums[i]), omitted, say).into_iter().map(|i| &doc.checksums[i]) {
        let first: Vec<String> = c.first_frames.iter().map(u64::to_string).collect();
        if bad(c) {
            t.marked.push(t.rows.len());
        }
        t.rows.push(vec![c.point.clone(), c.layer.clone(), c.status.to_string(), c.count.to_string(), first.join(", ")]);
    }
    b.push(Block::Table(t));
}

fn tcp(b: &mut Vec<Block>, doc: &Doc) {
    b.push(Block::Heading(2, "RTT and retransmissions".to_string()));
    let Some(h) = &doc.health else {
        b.push(Block::Para("No TCP flows.".to_string()));
        return;
    };
    let outcomes: Vec<String> = h.outcomes.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let rate = h.retransmission_rate.map_or_else(String::new, |r| format!(" ({:.2} % of the segments that carry data, SYN or FIN)", r * 100.0));
    let connections = match h.connections {
        Some(c) if c != h.flows => format!("{} over the points; ", plural(usize::try_from(c).unwrap_or(usize::MAX), "connection")),
        _ => String::new(),
    };
    let mut items = vec![
        format!("TCP flows (one connection at one point): {connections}{} ({})", h.flows, outcomes.join(", ")),
        format!(
            "Retransmissions at all points: {}, {}{rate}",
            plural(usize::try_from(h.retransmissions).unwrap_or(usize::MAX), "segment"),
            plural(usize::try_from(h.retransmitted_bytes).unwrap_or(usize::MAX), "byte")
        ),
        format!("RTT (Karn samples): {}", stats_line(&h.rtt)),
        format!("Initial RTT (handshake): {}", stats_line(&h.initial_rtt)),
    ];
    if h.syn_retried > 0 {
        items.push(format!(
            "SYN retried in {}; connect delay {}",
            plural(usize::try_from(h.syn_retried).unwrap_or(usize::MAX), "connection"),
            stats_line(&h.syn_retry_connect_delay)
        ));
    }
    b.push(Block::List(items));
}

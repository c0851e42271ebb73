//! The report as Markdown (GitHub-flavoured tables), for tickets and chat. Plots are
//! left out; a line says they are in the HTML report.

use std::io::{self, Write};

use super::sections::{blocks, Block};
use super::Doc;

/// A table cell: pipes escaped, line breaks flattened.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

pub fn write(out: &mut dyn Write, doc: &Doc) -> io::Result<()> {
    for b in blocks(doc, false) {
        match b {
            Block::Heading(level, text) => writeln!(out, "{} {text}\n", "#".repeat(usize::from(level)))?,
            Block::Para(text) | Block::MarkdownOnly(text) => writeln!(out, "{text}\n")?,
            Block::Labelled(label, text) => writeln!(out, "**{label}** {text}\n")?,
            Block::List(items) => {
                for i in items {
                    writeln!(out, "- {i}")?;
                }
                writeln!(out)?;
            }
            Block::Note(text) => writeln!(out, "> {text}\n")?,
            Block::Verdict(_, lead, items) => {
                writeln!(out, "{lead}\n")?;
                for i in &items {
                    writeln!(out, "- {i}")?;
                }
                if !items.is_empty() {
                    writeln!(out)?;
                }
            }
            Block::Table(t) => {
                let head: Vec<String> = t.head.iter().map(|h| cell(h)).collect();
                writeln!(out, "| {} |", head.join(" | "))?;
                let rule: Vec<&str> = t.right.iter().map(|&r| if r { "---:" } else { "---" }).collect();
                writeln!(out, "|{}|", rule.join("|"))?;
                for (i, row) in t.rows.iter().enumerate() {
                    // A fault's row in bold.
                    let bold = t.marked.contains(&i);
                    let cells: Vec<String> =
                        row.iter().map(|c| if bold && !c.is_empty() { format!("**{}**", cell(c)) } else { cell(c) }).collect();
                    writeln!(out, "| {} |", cells.join(" | "))?;
                }
                writeln!(out)?;
            }
            Block::Code(text) => writeln!(out, "```sh\n{text}\n```")?,
            Block::Plot(..) => {}
        }
    }
    Ok(())
}

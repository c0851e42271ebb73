//! The report as one self-contained HTML file: inline CSS, inline SVG plots, no script
//! and nothing fetched from the network, so it can be attached to a ticket and opened
//! anywhere.

use std::io::{self, Write};

use super::sections::{blocks, Block};
use super::Doc;

/// `&`, `<`, `>` and quotes escaped for text and attribute values.
fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "\
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d1d1f;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.7em;margin-bottom:.2em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}
h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.6em 0 1em;font-size:13px}
th,td{border:1px solid #d0d0d0;padding:3px 7px;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr:nth-child(even) td{background:#fafafa}
tr.bad td{background:#fdecea;color:#8a0015;font-weight:600}
div.wide{overflow-x:auto;max-width:100%}td{overflow-wrap:break-word}
div.verdict{border-left:6px solid;padding:.4em 1em;margin:.6em 0 1.2em;font-size:15px}
div.verdict p{font-weight:600;margin:.3em 0}div.verdict ul{margin:.3em 0;padding-left:1.2em}
div.verdict.bad{border-color:#c62828;background:#fdecea}div.verdict.warn{border-color:#e0a800;background:#fffbea}
div.verdict.ok{border-color:#2e7d32;background:#e8f5e9}
pre{background:#f5f5f5;border:1px solid #ddd;padding:.6em;overflow-x:auto}
blockquote{border-left:4px solid #e0a800;margin:.8em 0;padding:.2em .8em;background:#fffbea}
figure{margin:1em 0}figcaption{font-weight:600;margin-bottom:.3em}
figure svg{max-width:100%;height:auto;border:1px solid #eee}
.err{color:#b00020}
ul.key{list-style:none;padding:0;margin:.2em 0 0;display:flex;flex-wrap:wrap;gap:.3em 1.4em;font-size:14px}
ul.key b{font-size:15px}
";

pub fn write(out: &mut dyn Write, doc: &Doc) -> io::Result<()> {
    writeln!(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">")?;
    writeln!(out, "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")?;
    writeln!(out, "<meta name=\"generator\" content=\"netcap {}\">", esc(doc.version))?;
    writeln!(out, "<title>netcap report</title>\n<style>\n{STYLE}</style>\n</head>\n<body>")?;
    for b in blocks(doc, true) {
        match b {
            Block::Heading(level, text) => writeln!(out, "<h{level}>{}</h{level}>", esc(&text))?,
            Block::Para(text) => writeln!(out, "<p>{}</p>", esc(&text))?,
            Block::Labelled(label, text) => writeln!(out, "<p><strong>{}</strong> {}</p>", esc(label), esc(&text))?,
            Block::List(items) => {
                writeln!(out, "<ul>")?;
                for i in items {
                    writeln!(out, "<li>{}</li>", esc(&i))?;
                }
                writeln!(out, "</ul>")?;
            }
            Block::Note(text) => writeln!(out, "<blockquote>{}</blockquote>", esc(&text))?,
            Block::Verdict(tone, lead, items) => {
                writeln!(out, "<div class=\"verdict {tone}\">\n<p>{}</p>", esc(&lead))?;
                if !items.is_empty() {
                    writeln!(out, "<ul>")?;
                    for i in &items {
                        writeln!(out, "<li>{}</li>", esc(i))?;
                    }
                    writeln!(out, "</ul>")?;
                }
                writeln!(out, "</div>")?;
            }
            Block::Table(t) => {
                let class = |r: bool| if r { " class=\"n\"" } else { "" };
                write!(out, "<div class=\"wide\"><table>\n<tr>")?;
                for (h, r) in t.head.iter().zip(&t.right) {
                    write!(out, "<th{}>{}</th>", class(*r), esc(h))?;
                }
                writeln!(out, "</tr>")?;
                for (i, row) in t.rows.iter().enumerate() {
                    write!(out, "{}", if t.marked.contains(&i) { "<tr class=\"bad\">" } else { "<tr>" })?;
                    for (c, r) in row.iter().zip(&t.right) {
                        write!(out, "<td{}>{}</td>", class(*r), esc(c))?;
                    }
                    writeln!(out, "</tr>")?;
                }
                writeln!(out, "</table></div>")?;
            }
            Block::Code(text) => writeln!(out, "<pre><code>{}</code></pre>", esc(&text))?,
            Block::Plot(title, figure) => {
                writeln!(out, "<figure>\n<figcaption>{}</figcaption>", esc(&title))?;
                match figure {
                    Ok(fig) => {
                        writeln!(out, "{}", fig.svg)?;
                        writeln!(out, "<ul class=\"key\">")?;
                        for k in &fig.legend {
                            let color = esc(&k.color);
                            writeln!(out, "<li><b style=\"color:{color}\">{}</b> {}</li>", k.mark, esc(&k.label))?;
                        }
                        writeln!(out, "</ul>")?;
                    }
                    Err(e) => writeln!(out, "<p class=\"err\">Not drawn: {}</p>", esc(&e))?,
                }
                writeln!(out, "</figure>")?;
            }
            Block::MarkdownOnly(_) => {}
        }
    }
    writeln!(out, "</body>\n</html>")
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&#39;");
    }
}

//! `netcap correlate --format json FILE…`, as a tool that embeds netcap-core writes it.
use netcap_core::analysis::Analysis;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files: Vec<String> = std::env::args().skip(1).collect();
    let outcome = Analysis::new().files(&files).run(&mut ())?;
    for e in &outcome.errors {
        eprintln!("netcap: error: {e}");
    }
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &outcome.correlation())?;
    std::io::Write::write_all(&mut out, b"\n")?;
    Ok(())
}

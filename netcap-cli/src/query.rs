//! A query result as a list of frames: the `point` and `frame` columns of a Parquet or
//! CSV file (`netcap extract --frames-from`), as DuckDB, Spark, Polars or pandas write
//! them from netcap's `packets` table.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;

/// Frames read at most: a list longer than this is not evidence for a ticket.
pub const MAX_FRAMES: usize = 16 << 20;

/// Per point, its frame numbers (unsorted, as listed).
pub type PointFrames = BTreeMap<String, Vec<u64>>;

/// The (point, frame) rows of `path`: Parquet when it starts with `PAR1`, else CSV
/// with a header line.
///
/// # Errors
/// The file cannot be read, lacks a `point` or `frame` column, holds a frame that is
/// not a number ≥ 1, or more than [`MAX_FRAMES`] rows.
pub fn point_frames(path: &Path) -> Result<PointFrames, String> {
    let mut magic = [0u8; 4];
    let n = File::open(path).and_then(|mut f| f.read(&mut magic)).map_err(|e| e.to_string())?;
    if n == 4 && &magic == b"PAR1" {
        parquet_rows(path)
    } else {
        csv_rows(path)
    }
}

fn add(out: &mut PointFrames, count: &mut usize, point: &str, frame: Option<u64>) -> Result<(), String> {
    let frame = frame.filter(|&f| f >= 1).ok_or_else(|| format!("point {point:?}: a frame is not a number 1, 2, …"))?;
    *count += 1;
    if *count > MAX_FRAMES {
        return Err(format!("more than {MAX_FRAMES} frames"));
    }
    match out.get_mut(point) {
        Some(v) => v.push(frame),
        None => {
            out.insert(point.to_string(), vec![frame]);
        }
    }
    Ok(())
}

fn parquet_rows(path: &Path) -> Result<PointFrames, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| format!("parquet: {e}"))?;
    let schema = builder.parquet_schema();
    let find = |name: &str| {
        (0..schema.num_columns())
            .find(|&i| schema.column(i).path().parts() == [name])
            .ok_or_else(|| format!("no column {name:?} (it needs `point` and `frame`, as in the packets table)"))
    };
    let (p, f) = (find("point")?, find("frame")?);
    let mask = ProjectionMask::leaves(schema, [p, f]);
    let reader = builder.with_projection(mask).build().map_err(|e| format!("parquet: {e}"))?;
    let mut out = PointFrames::new();
    let mut count = 0;
    for batch in reader {
        let batch = batch.map_err(|e| format!("parquet: {e}"))?;
        let (points, frames) = (column(&batch, "point")?, column(&batch, "frame")?);
        for i in 0..batch.num_rows() {
            let point = text(points, i).ok_or_else(|| format!("row {}: `point` is not text", count + 1))?;
            add(&mut out, &mut count, &point, number(frames, i))?;
        }
    }
    Ok(out)
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Result<&'a ArrayRef, String> {
    batch.column_by_name(name).ok_or_else(|| format!("no column {name:?}"))
}

fn text(a: &ArrayRef, i: usize) -> Option<String> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Utf8 => Some(a.as_string::<i32>().value(i).to_string()),
        DataType::LargeUtf8 => Some(a.as_string::<i64>().value(i).to_string()),
        DataType::Utf8View => Some(a.as_string_view().value(i).to_string()),
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            let key = d.normalized_keys().get(i).copied()?;
            text(d.values(), key)
        }
        _ => None,
    }
}

fn number(a: &ArrayRef, i: usize) -> Option<u64> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::UInt64 => Some(a.as_primitive::<UInt64Type>().value(i)),
        DataType::Int64 => u64::try_from(a.as_primitive::<Int64Type>().value(i)).ok(),
        DataType::UInt32 => Some(u64::from(a.as_primitive::<UInt32Type>().value(i))),
        DataType::Int32 => u64::try_from(a.as_primitive::<Int32Type>().value(i)).ok(),
        _ => None,
    }
}

/// One CSV line's fields (RFC 4180 quoting: `"a,b"`, `""` for a quote inside).
fn fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

fn csv_rows(path: &Path) -> Result<PointFrames, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    let mut lines = BufReader::new(file).lines();
    let header = match lines.next() {
        Some(l) => fields(l.map_err(|e| e.to_string())?.trim_end_matches('\r')),
        None => return Err("empty file".to_string()),
    };
    let find = |name: &str| {
        header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("no column {name:?} in the header line (it needs `point` and `frame`; Parquet files start with PAR1)"))
    };
    let (p, f) = (find("point")?, find("frame")?);
    let mut out = PointFrames::new();
    let mut count = 0;
    for (n, line) in lines.enumerate() {
        let line = line.map_err(|e| e.to_string())?;
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let row = fields(line);
        let (Some(point), Some(frame)) = (row.get(p), row.get(f)) else {
            return Err(format!("line {}: fewer fields than the header", n + 2));
        };
        add(&mut out, &mut count, point, frame.trim().parse().ok()).map_err(|e| format!("line {}: {e}", n + 2))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_follow_rfc_4180() {
        assert_eq!(fields("a,b,c"), ["a", "b", "c"]);
        assert_eq!(fields(r#""a,b",c"#), ["a,b", "c"]);
        assert_eq!(fields(r#""say ""hi""",2"#), [r#"say "hi""#, "2"]);
        assert_eq!(fields(""), [""]);
    }
}

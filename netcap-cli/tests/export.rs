//! `netcap export`: the Parquet tables read back with the parquet crate and compared,
//! row by row, with netcap's own JSON on the same input (`netcap packets --format
//! jsonl`, `netcap flows --format json`, `netcap correlate --format json`), on the lab
//! captures of the flannel incident (six points) and of the lossy wire (tcp-loss).
//! The example queries of docs/parquet.md run in DuckDB (when installed) against the
//! same facts.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float64Type, Int64Type, TimestampNanosecondType, UInt16Type, UInt32Type, UInt64Type, UInt8Type,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::Compression;
use parquet::file::reader::{FileReader, SerializedFileReader};
use serde_json::{json, Value};

const FLANNEL: [&str; 6] = ["client_pod", "client_vxlan", "client_underlay", "server_underlay", "server_vxlan", "server_pod"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn flannel_files() -> Vec<String> {
    FLANNEL.iter().map(|p| format!("fixtures/lab/flannel/{p}.pcap")).collect()
}

const TCP_LOSS: [&str; 2] = ["fixtures/lab/tcp-loss/sender.pcap", "fixtures/lab/tcp-loss/receiver.pcap"];

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_netcap")).args(args).current_dir(root()).output().expect("run netcap")
}

fn netcap(args: &[&str]) -> Vec<u8> {
    let out = run(args);
    assert!(out.status.success(), "netcap {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

fn jsonl(args: &[&str]) -> Vec<Value> {
    netcap(args)
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).expect("JSON line"))
        .collect()
}

fn json(args: &[&str]) -> Value {
    serde_json::from_slice(&netcap(args)).expect("JSON")
}

/// A fresh, empty output directory for one test.
fn out_dir(name: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("export-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// `netcap export -o DIR EXTRA... FILES...`.
fn export(dir: &Path, extra: &[&str], files: &[String]) -> String {
    let mut args: Vec<&str> = vec!["export", "-o", dir.to_str().expect("utf-8 path")];
    args.extend(extra);
    args.extend(files.iter().map(String::as_str));
    String::from_utf8(netcap(&args)).expect("utf-8")
}

/// One cell as JSON: integers, floats, strings, booleans, timestamps as nanoseconds,
/// lists as arrays, structs as objects.
fn cell(a: &dyn Array, i: usize) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    match a.data_type() {
        DataType::Utf8 => json!(a.as_string::<i32>().value(i)),
        DataType::Boolean => json!(a.as_boolean().value(i)),
        DataType::UInt8 => json!(a.as_primitive::<UInt8Type>().value(i)),
        DataType::UInt16 => json!(a.as_primitive::<UInt16Type>().value(i)),
        DataType::UInt32 => json!(a.as_primitive::<UInt32Type>().value(i)),
        DataType::UInt64 => json!(a.as_primitive::<UInt64Type>().value(i)),
        DataType::Int64 => json!(a.as_primitive::<Int64Type>().value(i)),
        DataType::Float64 => json!(a.as_primitive::<Float64Type>().value(i)),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => json!(a.as_primitive::<TimestampNanosecondType>().value(i)),
        DataType::List(_) => {
            let v = a.as_list::<i32>().value(i);
            Value::Array((0..v.len()).map(|j| cell(v.as_ref(), j)).collect())
        }
        DataType::Struct(fields) => {
            let s = a.as_struct();
            Value::Object(fields.iter().zip(s.columns()).map(|(f, c)| (f.name().clone(), cell(c.as_ref(), i))).collect())
        }
        t => panic!("type {t} not expected in netcap's tables"),
    }
}

fn rows_of(batch: &RecordBatch, out: &mut Vec<Value>) {
    let schema = batch.schema();
    for i in 0..batch.num_rows() {
        let row = schema.fields().iter().zip(batch.columns()).map(|(f, c)| (f.name().clone(), cell(c.as_ref(), i)));
        out.push(Value::Object(row.collect()));
    }
}

/// Every row of a Parquet file, or of every `.parquet` file under a directory (sorted
/// by path), as JSON objects.
fn read(path: &Path) -> Vec<Value> {
    let mut files = Vec::new();
    collect(path, &mut files);
    files.sort();
    let mut rows = Vec::new();
    for f in files {
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).expect("open")).expect("parquet").build().expect("reader");
        for b in reader {
            rows_of(&b.expect("batch"), &mut rows);
        }
    }
    rows
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_dir() {
        for e in std::fs::read_dir(path).expect("read_dir") {
            collect(&e.expect("entry").path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "parquet") {
        out.push(path.to_path_buf());
    }
}

fn key(point: &Value, frame: &Value) -> (String, u64) {
    (point.as_str().expect("point").to_string(), frame.as_u64().expect("frame"))
}

/// The packets table holds one row per frame that `netcap packets --format jsonl`
/// prints, with the same time, lengths, layer stack, innermost addresses, TCP flags
/// (bits and names), receiver verdict and drop counter, every checksum verdict (layer,
/// depth, status, stored, expected) in layer order, and the same TCP analysis labels;
/// the TCP events are exactly the frames with a label or an RTT sample. Each table is
/// one file in a directory of its own, `DIR/<table>/part-0.parquet`; files carry
/// schema version 2, their table name, zstd compression and UTC nanosecond timestamps.
#[test]
fn flannel_packets_and_events_equal_the_jsonl() {
    let dir = out_dir("flannel-packets");
    let files = flannel_files();
    let printed = export(&dir, &[], &files);
    assert!(printed.contains("packets             68 rows"), "{printed}");
    let mut args = vec!["packets", "--format", "jsonl"];
    args.extend(files.iter().map(String::as_str));
    let lines = jsonl(&args);
    assert_eq!(lines.len(), 68);
    let rows = read(&dir.join("packets"));
    assert_eq!(rows.len(), lines.len());
    let by_key: HashMap<(String, u64), &Value> = rows.iter().map(|r| (key(&r["point"], &r["frame"]), r)).collect();
    assert_eq!(by_key.len(), rows.len(), "(point, frame) is unique");
    // Flow ids: netcap packets numbers them file by file, export in merged time order;
    // the mapping must be one to one.
    let mut flow_map: BTreeMap<u64, u64> = BTreeMap::new();
    for l in &lines {
        let r = by_key[&key(&l["point"], &l["frame"])];
        let what = format!("{} frame {}", l["point"], l["frame"]);
        assert_eq!(r["ts"], l["ts_ns"], "{what}");
        assert_eq!(r["clock_offset_ns"], 0, "{what}");
        assert_eq!(r["file"], json!(format!("fixtures/lab/flannel/{}.pcap", l["point"].as_str().unwrap())), "{what}");
        for f in ["caplen", "len", "link_type", "receiver_accepts"] {
            assert_eq!(r[f], l[f], "{what}: {f}");
        }
        let layers = l["layers"].as_array().unwrap();
        let stack: Vec<&str> = layers.iter().map(|x| x["proto"].as_str().unwrap()).collect();
        assert_eq!(r["layers"], json!(stack.join("/")), "{what}");
        let ips: Vec<&Value> = layers.iter().filter(|x| x["proto"] == "ipv4" || x["proto"] == "ipv6").collect();
        let inner = ips.last().expect("every frame here is IP");
        assert_eq!((&r["src"], &r["dst"]), (&inner["src"], &inner["dst"]), "{what}");
        if ips.len() > 1 {
            assert_eq!((&r["outer_src"], &r["outer_dst"]), (&ips[0]["src"], &ips[0]["dst"]), "{what}");
            assert_eq!(r["vni"], 1, "{what}");
        } else {
            assert_eq!((&r["outer_src"], &r["vni"]), (&Value::Null, &Value::Null), "{what}");
        }
        let tcp = layers.iter().find(|x| x["proto"] == "tcp").expect("TCP");
        for (col, field) in [
            ("src_port", "src_port"),
            ("dst_port", "dst_port"),
            ("tcp_flags", "flags"),
            ("tcp_flag_names", "flag_names"),
            ("tcp_seq", "seq"),
            ("tcp_ack", "ack"),
            ("payload_len", "payload_len"),
        ] {
            assert_eq!(r[col], tcp[field], "{what}: {col}");
        }
        assert_eq!(r["ip_proto"], 6);
        let want: Vec<Value> = layers
            .iter()
            .filter(|x| x.get("checksum").is_some())
            .map(|x| {
                let c = &x["checksum"];
                json!({"layer": x["proto"], "depth": x["depth"], "status": c["status"], "stored": c["stored"], "expected": c["expected"]})
            })
            .collect();
        assert_eq!(r["checksums"], json!(want), "{what}");
        assert_eq!(r["drop_counter"], l["drop"]["counter"].clone(), "{what}");
        assert_eq!(r["drop_layer"], l["drop"]["layer"].clone(), "{what}");
        assert_eq!(r["stop_reason"], Value::Null, "{what}");
        assert_eq!(r["tcp_labels"], l["tcp"]["analysis"], "{what}");
        let (a, b) = (l["tcp"]["flow"].as_u64().unwrap(), r["tcp_flow"].as_u64().unwrap());
        assert_eq!(*flow_map.entry(a).or_insert(b), b, "{what}: flow ids map one to one");
    }
    let mut images: Vec<u64> = flow_map.values().copied().collect();
    images.dedup();
    assert_eq!(images.len(), flow_map.len());
    // The flannel signature: the two SYNs with a wrong outer 0xffff, at both underlays.
    let drops: Vec<(String, u64)> = rows
        .iter()
        .filter(|r| r["receiver_accepts"] == false)
        .map(|r| key(&r["point"], &r["frame"]))
        .collect();
    let want: Vec<(String, u64)> =
        ["client_underlay", "server_underlay"].iter().flat_map(|p| [(p.to_string(), 1), (p.to_string(), 2)]).collect();
    let mut drops_sorted = drops.clone();
    drops_sorted.sort();
    assert_eq!(drops_sorted, want);
    let first = by_key[&("server_underlay".to_string(), 1)];
    assert_eq!(first["checksums"][1], json!({"layer": "udp", "depth": 0, "status": "bad", "stored": 0xffff, "expected": 0x3525}));
    assert_eq!(first["drop_counter"], "UdpInCsumErrors");
    assert_eq!((&first["tcp_flags"], &first["tcp_flag_names"]), (&json!(2), &json!(["SYN"])));
    assert_eq!(by_key[&("server_underlay".to_string(), 4)]["tcp_flag_names"], json!(["SYN", "ACK"]));

    // tcp_events: the frames with a label or an RTT sample, nothing else.
    let events = read(&dir.join("tcp_events"));
    let want: Vec<&Value> = lines
        .iter()
        .filter(|l| {
            let t = &l["tcp"];
            !t["analysis"].as_array().unwrap().is_empty() || t.get("ack_rtt_ns").is_some() || t.get("ts_echo_rtt_ns").is_some()
        })
        .collect();
    assert_eq!(events.len(), want.len());
    assert_eq!(events.len(), 44);
    let ev: HashMap<(String, u64), &Value> = events.iter().map(|r| (key(&r["point"], &r["frame"]), r)).collect();
    for l in want {
        let r = ev[&key(&l["point"], &l["frame"])];
        let t = &l["tcp"];
        assert_eq!(r["events"], t["analysis"]);
        assert_eq!(r["ts"], l["ts_ns"]);
        for f in ["ack_rtt_ns", "acks_frame", "ts_echo_rtt_ns", "dupack_num", "dupack_frame"] {
            assert_eq!(r[f], t.get(f).cloned().unwrap_or(Value::Null), "{f}");
        }
        assert_eq!(r["karn"], t.get("karn").cloned().unwrap_or(json!(false)));
    }
    // The second SYN at client_pod is a retransmission.
    assert_eq!(ev[&("client_pod".to_string(), 2)]["events"], json!(["retransmission"]));

    for table in ["packets", "tcp_events", "flows", "findings", "pairs", "matches"] {
        // Each table in a directory of its own, one file without a split.
        let files: Vec<String> =
            std::fs::read_dir(dir.join(table)).expect("table directory").map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(files, ["part-0.parquet"], "{table}");
        let path = dir.join(table).join("part-0.parquet");
        let reader = SerializedFileReader::new(File::open(&path).expect("open")).expect("parquet");
        let meta = reader.metadata();
        let kv: HashMap<String, Option<String>> = meta
            .file_metadata()
            .key_value_metadata()
            .expect("key-value metadata")
            .iter()
            .map(|k| (k.key.clone(), k.value.clone()))
            .collect();
        assert_eq!(kv["netcap.schema_version"].as_deref(), Some("2"), "{table}");
        assert_eq!(kv["netcap.table"].as_deref(), Some(table));
        for rg in meta.row_groups() {
            for c in rg.columns() {
                assert!(matches!(c.compression(), Compression::ZSTD(_)), "{table}: {:?}", c.compression());
            }
        }
        let schema = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap().schema().clone();
        for f in schema.fields() {
            if let DataType::Timestamp(unit, tz) = f.data_type() {
                assert_eq!((unit, tz.as_deref()), (&TimeUnit::Nanosecond, Some("UTC")), "{table}.{}", f.name());
            }
        }
    }
}

/// findings: the six findings of `netcap correlate`, numbered as it prints them, the
/// first the dropped_bad_outer_checksum between server_underlay and server_vxlan with
/// its evidence; matches: one row per packet and point of its path, agreeing with
/// `netcap correlate --packets` (sightings, misses, frames), the two dropped SYNs missing
/// from server_vxlan right after server_underlay.
#[test]
fn flannel_findings_and_matches_equal_correlate() {
    let dir = out_dir("flannel-findings");
    let files = flannel_files();
    export(&dir, &[], &files);
    let mut args = vec!["correlate", "--format", "json", "--packets"];
    args.extend(files.iter().map(String::as_str));
    let report = json(&args);

    let findings = read(&dir.join("findings"));
    let want = report["findings"].as_array().unwrap();
    assert_eq!(findings.len(), want.len());
    assert_eq!(findings.len(), 6);
    for (i, (r, f)) in findings.iter().zip(want).enumerate() {
        assert_eq!(r["number"], i + 1);
        for col in ["kind", "severity", "summary", "flow", "points", "hint", "related"] {
            assert_eq!(r[col], f[col], "finding {}: {col}", i + 1);
        }
        let evidence: Value = serde_json::from_str(r["evidence"].as_str().unwrap()).expect("evidence is JSON");
        assert_eq!(evidence, f["evidence"]);
        let frames: Vec<Value> = f["frames"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .flat_map(|(p, seen)| seen.as_array().unwrap().iter().map(move |s| json!({"packet": p + 1, "point": s["point"], "frame": s["frame"]})))
            .collect();
        assert_eq!(r["frames"], json!(frames));
    }
    let drop = &findings[0];
    assert_eq!(drop["kind"], "dropped_bad_outer_checksum");
    assert_eq!(drop["points"], json!(["server_underlay", "server_vxlan"]));
    let evidence: Value = serde_json::from_str(drop["evidence"].as_str().unwrap()).unwrap();
    assert_eq!(evidence["outer_udp_checksums"][0], json!({"status": "bad", "stored": 0xffff, "expected": 0x3525}));
    assert_eq!(findings[5]["kind"], "syn_retry_delay");
    assert_eq!(findings[5]["related"], json!([1]));

    let matches = read(&dir.join("matches"));
    let packets = report["packets"].as_array().unwrap();
    let seen: usize = packets.iter().map(|p| p["seen"].as_array().unwrap().len()).sum();
    let missing: usize = packets.iter().map(|p| p["missing"].as_array().unwrap().len()).sum();
    assert_eq!(matches.len(), seen + missing);
    assert_eq!(matches.iter().filter(|r| r["seen"] == true).count(), seen);
    // Every sighting of the report is a row with the same frame and time.
    let rows: HashMap<(String, u64), &Value> =
        matches.iter().filter(|r| r["seen"] == true).map(|r| (key(&r["point"], &r["frame"]), r)).collect();
    for p in packets {
        for s in p["seen"].as_array().unwrap() {
            let r = rows[&key(&s["point"], &s["frame"])];
            assert_eq!((&r["ts"], &r["by"], &r["flow"]), (&s["ts_ns"], &s["by"], &p["flow"]));
        }
    }
    // Packets 0 and 1 are the SYNs the receiver dropped: seen on the four points up to
    // server_underlay, missing at server_vxlan and server_pod.
    for n in [0, 1] {
        let hops: Vec<&Value> = matches.iter().filter(|r| r["packet"] == n).collect();
        let path: Vec<(&str, bool)> = hops.iter().map(|r| (r["point"].as_str().unwrap(), r["seen"] == true)).collect();
        assert_eq!(
            path,
            [
                ("client_pod", true),
                ("client_vxlan", true),
                ("client_underlay", true),
                ("server_underlay", true),
                ("server_vxlan", false),
                ("server_pod", false)
            ]
        );
        assert_eq!(hops[4]["prev_point"], "server_underlay");
        assert_eq!(hops[4]["delay_ns"], Value::Null);
        assert_eq!(hops[3]["frame"], n + 1);
        // One-way delay underlay → underlay: the wire between the two nodes.
        let d = hops[3]["delay_ns"].as_i64().unwrap();
        assert!((0..1_000_000).contains(&d), "{d}");
    }
    // Per pair of adjacent points, matched rows and their median delay agree with the
    // report's pairs.
    for pair in report["pairs"].as_array().unwrap() {
        let delays: Vec<i64> = matches
            .iter()
            .filter(|r| r["seen"] == true && r["point"] == pair["to"] && r["prev_point"] == pair["from"])
            .map(|r| r["delay_ns"].as_i64().unwrap())
            .collect();
        assert_eq!(delays.len() as u64, pair["matched"].as_u64().unwrap(), "{pair}");
    }
    // pairs: the report's pairs, row for row; the receiver's drop is the 2 lost between
    // server_underlay and server_vxlan.
    let pairs = read(&dir.join("pairs"));
    let want = report["pairs"].as_array().unwrap();
    assert_eq!(pairs.len(), want.len());
    // Five hops in each direction.
    assert_eq!(pairs.len(), 10);
    for (r, p) in pairs.iter().zip(want) {
        for col in ["from", "to", "matched", "lost", "appeared", "duplicated", "reordered"] {
            assert_eq!(r[col], p[col], "{col}");
        }
        for q in ["min", "p50", "p99", "max"] {
            assert_eq!(r[format!("delay_{q}_ns").as_str()], p["delay_ns"][q], "{q}");
        }
    }
    let lost: Vec<(&Value, &Value, &Value)> =
        pairs.iter().filter(|r| r["lost"] != 0).map(|r| (&r["from"], &r["to"], &r["lost"])).collect();
    assert_eq!(lost, [(&json!("server_underlay"), &json!("server_vxlan"), &json!(2))]);
}

/// flows: every numeric field of `netcap flows --format json`, for both points of the
/// lossy-wire capture, equal in the table (retransmissions, RTT statistics, SYN
/// attempts, outcome); the sender's 24 retransmissions are there, and the tcp_events
/// labelled `retransmission` are the jsonl's.
#[test]
fn tcp_loss_flows_equal_the_json() {
    let dir = out_dir("tcp-loss");
    let files: Vec<String> = TCP_LOSS.iter().map(|s| s.to_string()).collect();
    export(&dir, &[], &files);
    let mut want: Vec<Value> = Vec::new();
    for f in TCP_LOSS {
        want.extend(json(&["flows", "--format", "json", f])["flows"].as_array().unwrap().iter().cloned());
    }
    let rows = read(&dir.join("flows"));
    assert_eq!(rows.len(), want.len());
    assert_eq!(rows.len(), 4);
    let mut sender_retrans = 0;
    for w in &want {
        let r = rows
            .iter()
            .find(|r| r["point"] == w["point"] && r["client_port"] == w["client"]["port"])
            .unwrap_or_else(|| panic!("no row for {w}"));
        let what = format!("{} {}", w["point"], w["client"]["port"]);
        assert_eq!((&r["client_ip"], &r["server_ip"], &r["server_port"]), (&w["client"]["ip"], &w["server"]["ip"], &w["server"]["port"]));
        for f in ["outcome", "handshake", "exit", "duration_ns"] {
            assert_eq!(r[f], w[f], "{what}: {f}");
        }
        assert_eq!((&r["first_ts"], &r["last_ts"]), (&w["first_ts_ns"], &w["last_ts_ns"]), "{what}");
        for dir in ["c2s", "s2c"] {
            for (k, v) in w[dir].as_object().unwrap() {
                if k == "rtt" {
                    // Each direction's RTT: its own columns, `c2s_karn_rtt_p50_ns`, …
                    for (col, set) in [("ack_rtt", "ack_rtt"), ("karn_rtt", "karn"), ("ts_echo_rtt", "ts_echo")] {
                        assert_eq!(r[format!("{dir}_{col}_count")], v[set]["count"], "{what}: {dir} {set}");
                        for q in ["min", "p50", "p95", "max"] {
                            assert_eq!(r[format!("{dir}_{col}_{q}_ns")], v[set][format!("{q}_ns")], "{what}: {dir} {set} {q}");
                        }
                    }
                    continue;
                }
                let got = &r[format!("{dir}_{k}")];
                match (got.as_f64(), v.as_f64()) {
                    // serde_json parses floats to within an ulp, not exactly.
                    (Some(a), Some(b)) if v.is_f64() => assert!((a - b).abs() <= b.abs() * 1e-12, "{what}: {dir}.{k} {a} {b}"),
                    _ => assert_eq!(got, v, "{what}: {dir}.{k}"),
                }
            }
        }
        let total = w["c2s"]["retransmissions"].as_u64().unwrap() + w["s2c"]["retransmissions"].as_u64().unwrap();
        assert_eq!(r["retransmissions"], total, "{what}");
        if w["point"] == "sender" {
            sender_retrans += total;
        }
        let syn = &w["syn"];
        assert_eq!((&r["syn_attempts"], &r["syn_offsets_ns"], &r["syn_schedule"]), (&syn["attempts"], &syn["offsets_ns"], &syn["schedule"]));
        assert_eq!((&r["syn_outcome"], &r["connect_delay_ns"]), (&syn["outcome"], &syn["connect_delay_ns"]));
        for (col, set) in [("ack_rtt", "ack_rtt"), ("karn_rtt", "karn"), ("ts_echo_rtt", "ts_echo")] {
            let s = &w["rtt"][set];
            assert_eq!(r[format!("{col}_count")], s["count"], "{what}: {set}");
            for q in ["min", "p50", "p95", "max"] {
                assert_eq!(r[format!("{col}_{q}_ns")], s[format!("{q}_ns")], "{what}: {set} {q}");
            }
        }
        for f in ["syn_synack_ns", "synack_ack_ns", "initial_rtt_ns"] {
            assert_eq!(r[f], w["rtt"][f], "{what}: {f}");
        }
        let n = &w["negotiated"];
        assert_eq!((&r["mss_client"], &r["mss_server"]), (&n["mss"]["client"], &n["mss"]["server"]));
        assert_eq!((&r["window_scale_client"], &r["window_scale_server"]), (&n["window_scale"]["client"], &n["window_scale"]["server"]));
        assert_eq!((&r["sack_permitted"], &r["timestamps"]), (&n["sack_permitted"], &n["timestamps"]));
    }
    // The sender's kernel counted 24 retransmitted segments (fixtures/lab/tcp-loss).
    assert_eq!(sender_retrans, 24);

    let events = read(&dir.join("tcp_events"));
    for (point, file) in [("sender", TCP_LOSS[0]), ("receiver", TCP_LOSS[1])] {
        let lines = jsonl(&["packets", "--format", "jsonl", file]);
        let labelled = |label: &str| -> Vec<u64> {
            lines
                .iter()
                .filter(|l| l["tcp"]["analysis"].as_array().is_some_and(|a| a.iter().any(|x| x == label)))
                .map(|l| l["frame"].as_u64().unwrap())
                .collect()
        };
        for label in ["retransmission", "lost_segment", "duplicate_ack", "out_of_order"] {
            let mut got: Vec<u64> = events
                .iter()
                .filter(|r| r["point"] == point && r["events"].as_array().unwrap().iter().any(|x| x == label))
                .map(|r| r["frame"].as_u64().unwrap())
                .collect();
            got.sort_unstable();
            assert_eq!(got, labelled(label), "{point} {label}");
        }
    }
    // A single-direction run with several points writes matches too.
    assert!(dir.join("matches/part-0.parquet").exists());
}

/// `packets.offset` leads back to the record in the original file: in a pcap the
/// frame's bytes follow the 24-byte file header and a 16-byte record header per frame,
/// whose `incl_len` is the row's `caplen` and whose seconds are the row's `ts`.
#[test]
fn packet_offsets_lead_back_to_the_records() {
    let dir = out_dir("offsets");
    let file = "fixtures/lab/flannel/client_vxlan.pcap";
    export(&dir, &[], &[file.to_string()]);
    let rows = read(&dir.join("packets"));
    let bytes = std::fs::read(root().join(file)).expect("read capture");
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let mut next = 24u64;
    assert!(rows.len() > 10);
    for r in &rows {
        let offset = r["offset"].as_u64().unwrap();
        assert_eq!(offset, next + 16, "frame {}", r["frame"]);
        let at = offset as usize;
        assert_eq!(u64::from(u32_at(at - 8)), r["caplen"].as_u64().unwrap());
        assert_eq!(i64::from(u32_at(at - 16)), r["ts"].as_i64().unwrap() / 1_000_000_000);
        next = offset + r["caplen"].as_u64().unwrap();
    }
    assert_eq!(next, bytes.len() as u64);
}

/// `--split-by point --split-by hour` writes hive partitions
/// `<table>/point=<name>/hour=<YYYY-MM-DDTHH>/part-0.parquet` (findings by point only),
/// holding together the same rows as the unsplit table; a second run refuses to
/// overwrite without `--force` and naming the path, and replaces the tables with it.
#[test]
fn split_by_point_and_hour_writes_hive_partitions() {
    let dir = out_dir("split");
    let files = flannel_files();
    export(&dir, &["--split-by", "point", "--split-by", "hour"], &files);
    for table in ["packets", "tcp_events", "flows", "matches"] {
        let mut points: Vec<String> = std::fs::read_dir(dir.join(table))
            .expect("table directory")
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        points.sort();
        let mut want: Vec<String> = FLANNEL.iter().map(|p| format!("point={p}")).collect();
        want.sort();
        assert_eq!(points, want, "{table}");
    }
    // Every flannel frame was captured in the hour 2026-11-22T04 UTC.
    for p in FLANNEL {
        let part = dir.join(format!("packets/point={p}/hour=2026-11-22T04/part-0.parquet"));
        assert!(part.is_file(), "{}", part.display());
        let rows = read(&part);
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| r["point"] == p));
    }
    assert!(dir.join("findings/point=server_underlay/part-0.parquet").is_file());
    assert!(!dir.join("packets/part-0.parquet").exists());
    assert_eq!(read(&dir.join("packets")).len(), 68);
    assert_eq!(read(&dir.join("tcp_events")).len(), 44);
    assert_eq!(read(&dir.join("flows")).len(), 6);
    assert_eq!(read(&dir.join("findings")).len(), 6);
    assert_eq!(read(&dir.join("matches")).len(), 72);

    let mut args = vec!["export", "-o", dir.to_str().unwrap()];
    args.extend(files.iter().map(String::as_str));
    let again = run(&args);
    assert_eq!(again.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&again.stderr);
    assert!(msg.contains("packets") && msg.contains("exists") && msg.contains("--force"), "{msg}");
    args.insert(1, "--force");
    let forced = run(&args);
    assert!(forced.status.success(), "{}", String::from_utf8_lossy(&forced.stderr));
    // Replaced: one file per table, the partition directories gone.
    assert!(dir.join("packets/part-0.parquet").is_file());
    assert!(!dir.join("packets/point=client_pod").exists());
    assert_eq!(read(&dir.join("packets")).len(), 68);
}

/// A file that cannot be read is named on stderr and the exit status is 1; the
/// tables of the other files are still written.
#[test]
fn unreadable_input_is_named() {
    let dir = out_dir("bad-input");
    let out = run(&["export", "-o", dir.to_str().unwrap(), "fixtures/lab/flannel/client_pod.pcap", "no/such/file.pcap"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no/such/file.pcap"));
    assert_eq!(read(&dir.join("packets")).len(), 12);
}

/// `utf8`, `uint64`, `timestamp[ns, UTC]`, `list<struct<layer: utf8, …>>`: the type
/// names docs/parquet.md uses.
fn type_name(t: &DataType) -> String {
    match t {
        DataType::Utf8 => "utf8".into(),
        DataType::Boolean => "bool".into(),
        DataType::Timestamp(TimeUnit::Nanosecond, Some(tz)) => format!("timestamp[ns, {tz}]"),
        DataType::List(f) => format!("list<{}>", type_name(f.data_type())),
        DataType::Struct(fields) => {
            let inner: Vec<String> = fields.iter().map(|f| format!("{}: {}", f.name(), type_name(f.data_type()))).collect();
            format!("struct<{}>", inner.join(", "))
        }
        t => t.to_string().to_lowercase(),
    }
}

/// The column tables of docs/parquet.md: per table, column name → type.
fn documented() -> BTreeMap<String, BTreeMap<String, String>> {
    let doc = std::fs::read_to_string(root().join("docs/parquet.md")).expect("docs/parquet.md");
    let mut out: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut table: Option<String> = None;
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            table = h.strip_prefix('`').and_then(|t| t.strip_suffix('`')).map(str::to_string);
            continue;
        }
        let (Some(t), Some(row)) = (&table, line.strip_prefix("| `")) else { continue };
        let cells: Vec<&str> = row.split(" | ").collect();
        for name in cells[0].split(", ") {
            let name = name.trim_matches('`').to_string();
            let ty = cells[1].trim().to_string();
            assert!(out.entry(t.clone()).or_default().insert(name.clone(), ty).is_none(), "{t}.{name} documented twice");
        }
    }
    out
}

/// Every column of every table is documented in docs/parquet.md with its exact type,
/// and nothing is documented that the tables do not have.
#[test]
fn docs_describe_every_column() {
    use netcap_core::export::parquet::{schema, Findings, Flows, Matches, Packets, Pairs, TcpEvents};
    let docs = documented();
    let schemas = [
        ("packets", schema::<Packets>()),
        ("tcp_events", schema::<TcpEvents>()),
        ("flows", schema::<Flows>()),
        ("findings", schema::<Findings>()),
        ("pairs", schema::<Pairs>()),
        ("matches", schema::<Matches>()),
    ];
    assert_eq!(docs.len(), schemas.len(), "{:?}", docs.keys().collect::<Vec<_>>());
    for (table, s) in schemas {
        let s = s.expect("schema");
        let doc = &docs[table];
        let code: BTreeMap<String, String> = s.fields().iter().map(|f| (f.name().clone(), type_name(f.data_type()))).collect();
        assert_eq!(&code, doc, "{table}: code (left) and docs/parquet.md (right) differ");
    }
}

/// The ```sql blocks of docs/parquet.md and docs/scale-out.md, by their first line
/// (`-- what`); a test takes each by its title and says at the end that it ran them all.
struct DocQueries {
    all: BTreeMap<String, String>,
    ran: BTreeSet<String>,
}

impl DocQueries {
    fn read() -> Self {
        let mut all = BTreeMap::new();
        for doc in ["docs/parquet.md", "docs/scale-out.md"] {
            let text = std::fs::read_to_string(root().join(doc)).expect("doc");
            let mut rest = text.as_str();
            while let Some(start) = rest.find("```sql\n") {
                let body = &rest[start + 7..];
                let end = body.find("```").expect("closed sql block");
                let sql = &body[..end];
                let title = sql.lines().next().and_then(|l| l.strip_prefix("-- ")).unwrap_or_else(|| panic!("{doc}: a `-- title` line"));
                assert!(all.insert(title.to_string(), sql.to_string()).is_none(), "{doc}: `{title}` twice");
                rest = &body[end + 3..];
            }
        }
        DocQueries { all, ran: BTreeSet::new() }
    }

    /// The query titled `title`, as written in the doc.
    fn get(&mut self, title: &str) -> String {
        self.ran.insert(title.to_string());
        self.all.get(title).unwrap_or_else(|| panic!("no query `{title}` in the docs")).clone()
    }
}

fn duckdb_present() -> bool {
    Command::new("python3").args(["-c", "import duckdb"]).output().is_ok_and(|o| o.status.success())
}

/// Whether DuckDB can run; when it cannot, the test says it skipped, unless
/// NETCAP_REQUIRE_DUCKDB=1 (.ci/run sets it) makes that a failure.
fn duckdb_or_skip(test: &str) -> bool {
    if duckdb_present() {
        return true;
    }
    assert!(
        std::env::var("NETCAP_REQUIRE_DUCKDB").as_deref() != Ok("1"),
        "NETCAP_REQUIRE_DUCKDB=1 but `python3 -c 'import duckdb'` fails: run `python3 -m pip install duckdb`"
    );
    common::skip(format_args!("{test}: skipped, DuckDB (python3 -m pip install duckdb) is not installed"));
    false
}

/// Runs `sql` in DuckDB (Python) with `dir` as the working directory; the rows as JSON,
/// timestamps and intervals as nanoseconds (DuckDB's Python timestamps with a time
/// zone need pytz).
fn duckdb(dir: &Path, sql: &str) -> Vec<Value> {
    let script = r#"import duckdb, json, sys
rel = duckdb.sql(sys.argv[1])
def col(c, t):
    q = '"' + c.replace('"', '""') + '"'
    return f"epoch_ns({q}) AS {q}" if t.startswith("TIMESTAMP") or t == "INTERVAL" else q
rows = rel.project(", ".join(col(c, str(t)) for c, t in zip(rel.columns, rel.types))).fetchall()
print(json.dumps([list(r) for r in rows], default=str))"#;
    let out = Command::new("python3").args(["-c", script, sql]).current_dir(dir).output().expect("python3");
    assert!(out.status.success(), "duckdb: {}\n{sql}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("JSON rows")
}

/// `ip:port` of a flow's `client` or `server` in `netcap flows --format json`.
fn endpoint(e: &Value) -> String {
    format!("{}:{}", e["ip"].as_str().expect("ip"), e["port"])
}

/// `netcap flows --format json` of each file, by (point, client `ip:port`).
fn flows_by_client(files: &[&str]) -> BTreeMap<(String, String), Value> {
    let mut out = BTreeMap::new();
    for f in files {
        for w in json(&["flows", "--format", "json", f])["flows"].as_array().unwrap() {
            out.insert((w["point"].as_str().unwrap().to_string(), endpoint(&w["client"])), w.clone());
        }
    }
    out
}

/// Frames per point and the receiver drops per point, from `netcap summary --format
/// json` of `files` (every drop is one of the summary's listed frames: there are few).
fn summary_per_point(files: &[String]) -> BTreeMap<String, (u64, u64)> {
    let mut args = vec!["summary", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let s = json(&args);
    let mut out: BTreeMap<String, (u64, u64)> =
        s["points"].as_array().unwrap().iter().map(|p| (p["name"].as_str().unwrap().to_string(), (p["frames"].as_u64().unwrap(), 0))).collect();
    for d in s["receiver_drops"].as_array().unwrap() {
        let frames = d["first_frames"].as_array().unwrap();
        assert_eq!(d["count"].as_u64(), Some(frames.len() as u64), "every drop listed: {d}");
        for f in frames {
            out.get_mut(f["point"].as_str().unwrap()).expect("a point of the summary").1 += 1;
        }
    }
    out
}

/// Every query of docs/parquet.md and docs/scale-out.md, exactly as written there,
/// gives in DuckDB what netcap's JSON says about the same captures, value by value:
/// the flows with the most retransmissions and every kind of TCP event per flow
/// (`netcap flows`, the tcp-loss captures), retransmissions over time (per point the
/// flows' sum), SYNs per flow by the flags' names (`syn.attempts`, `syn.offsets_ns`),
/// the checksum verdicts and the frames a receiver drops (`netcap summary`, `netcap
/// packets`, the flannel incident), the losses between points and the one-way delay
/// per pair (`netcap correlate`'s `pairs`), the frames per case of two labelled exports
/// and per incident of two exports in `out/incident=NAME/` (`netcap summary`). Skips
/// when DuckDB is not installed, unless NETCAP_REQUIRE_DUCKDB=1 (.ci/run sets it).
#[test]
fn docs_queries_run_in_duckdb() {
    if !duckdb_or_skip("docs_queries_run_in_duckdb") {
        return;
    }
    let mut queries = DocQueries::read();
    let base = out_dir("duckdb");

    // Top flows by retransmissions, on the lossy wire.
    let loss = base.join("tcp-loss");
    let loss_files: Vec<String> = TCP_LOSS.iter().map(|s| s.to_string()).collect();
    export(&loss.join("out"), &[], &loss_files);
    let flows = flows_by_client(&TCP_LOSS);
    let rows = duckdb(&loss, &queries.get("top flows by retransmissions"));
    assert_eq!(rows.len(), flows.len());
    let totals: Vec<u64> = rows.iter().map(|r| r[4].as_u64().unwrap()).collect();
    assert!(totals.windows(2).all(|w| w[0] >= w[1]), "most retransmissions first: {totals:?}");
    for r in &rows {
        let w = &flows[&(r[1].as_str().unwrap().to_string(), r[2].as_str().unwrap().to_string())];
        let (c2s, s2c) = (w["c2s"]["retransmissions"].as_u64().unwrap(), w["s2c"]["retransmissions"].as_u64().unwrap());
        assert_eq!((&r[3], &r[5], &r[6], &r[8]), (&json!(endpoint(&w["server"])), &json!(c2s), &json!(s2c), &w["outcome"]), "{r:?}");
        assert_eq!(r[4], c2s + s2c);
        // serde_json parses floats to within an ulp, not exactly.
        match w["rtt"]["karn"]["p50_ns"].as_i64() {
            Some(ns) => assert!((r[7].as_f64().unwrap() - ns as f64 / 1e6).abs() < 1e-9, "{r:?}"),
            None => assert_eq!(r[7], Value::Null, "{r:?}"),
        }
    }
    assert_eq!((rows[0][1].as_str(), rows[0][4].as_u64()), (Some("sender"), Some(23)));

    // Every kind of TCP event per flow: the flows' counts, both directions together.
    let rows = duckdb(&loss, &queries.get("tcp events per flow"));
    let kinds = [
        "retransmissions",
        "fast_retransmissions",
        "spurious_retransmissions",
        "out_of_order",
        "lost_segments",
        "duplicate_acks",
        "zero_windows",
        "duplicate_captures",
    ];
    let counts = |w: &Value| -> Vec<u64> { kinds.iter().map(|k| w["c2s"][k].as_u64().unwrap() + w["s2c"][k].as_u64().unwrap()).collect() };
    let mut listed = BTreeSet::new();
    for r in &rows {
        let key = (r[0].as_str().unwrap().to_string(), r[2].as_str().unwrap().to_string());
        let got: Vec<u64> = r.as_array().unwrap()[3..].iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(got, counts(&flows[&key]), "{key:?}: {kinds:?}");
        listed.insert(key);
    }
    for (key, w) in &flows {
        if !listed.contains(key) {
            assert!(counts(w).iter().all(|&n| n == 0), "{key:?} has events but no row");
        }
    }
    // The receiver saw the losses: gaps and the duplicate ACKs answering them.
    let receiver: Vec<&Value> = rows.iter().filter(|r| r[0] == "receiver" && r[7].as_u64() > Some(0)).collect();
    assert_eq!((receiver.len(), &receiver[0][7], &receiver[0][8]), (1, &json!(24), &json!(132)));

    // Retransmissions over time: per point, the seconds add up to the flows'
    // retransmissions, every kind (the label `retransmission` alone is 14 of the
    // sender's 24).
    let rows = duckdb(&loss, &queries.get("retransmissions over time"));
    let mut per_point: BTreeMap<String, u64> = BTreeMap::new();
    for r in &rows {
        assert_eq!(r[1].as_i64().unwrap() % 1_000_000_000, 0, "a whole second: {r:?}");
        *per_point.entry(r[0].as_str().unwrap().into()).or_default() += r[2].as_u64().unwrap();
    }
    let mut flows_total: BTreeMap<String, u64> = BTreeMap::new();
    for ((point, _), w) in &flows {
        *flows_total.entry(point.clone()).or_default() += w["c2s"]["retransmissions"].as_u64().unwrap() + w["s2c"]["retransmissions"].as_u64().unwrap();
    }
    flows_total.retain(|_, n| *n > 0);
    assert_eq!(per_point, flows_total);
    assert_eq!(per_point["sender"], 24);
    let plain = duckdb(&loss, "SELECT count(*) FROM 'out/tcp_events/**/*.parquet' WHERE point = 'sender' AND list_contains(events, 'retransmission')");
    assert_eq!(plain[0][0], 14);

    // SYNs per flow, on the lossy wire and on the flannel incident (three SYNs, the
    // first two dropped by the receiver).
    let flannel = base.join("flannel");
    let files = flannel_files();
    export(&flannel.join("out"), &[], &files);
    export(&flannel.join("out-split"), &["--split-by", "point", "--split-by", "hour"], &files);
    let flannel_flows = flows_by_client(&files.iter().map(String::as_str).collect::<Vec<_>>());
    let syns = queries.get("syns per flow");
    for (dir, flows) in [(&loss, &flows), (&flannel, &flannel_flows)] {
        let rows = duckdb(dir, &syns);
        let with_syn: Vec<&(String, String)> = flows.iter().filter(|(_, w)| w["syn"]["attempts"].as_u64() > Some(0)).map(|(k, _)| k).collect();
        assert_eq!(rows.len(), with_syn.len());
        for r in &rows {
            let w = &flows[&(r[0].as_str().unwrap().to_string(), r[2].as_str().unwrap().to_string())];
            let last_offset = w["syn"]["offsets_ns"].as_array().unwrap().last().cloned().unwrap_or(json!(0));
            assert_eq!((&r[3], &r[4]), (&w["syn"]["attempts"], &last_offset), "{r:?}");
        }
    }
    let client_pod = duckdb(&flannel, &syns).into_iter().find(|r| r[0] == "client_pod").expect("client_pod's SYNs");
    assert_eq!(client_pod[3], 3);

    // Checksum verdicts per point, on the flannel incident: per point the frames of
    // `netcap packets`, over all points `netcap summary`'s `checksums`.
    let rows = duckdb(&flannel, &queries.get("checksum verdicts per point"));
    let mut args = vec!["packets", "--format", "jsonl"];
    args.extend(files.iter().map(String::as_str));
    let lines = jsonl(&args);
    let mut counts: BTreeMap<(String, String, u64, String), u64> = BTreeMap::new();
    for l in &lines {
        for x in l["layers"].as_array().unwrap() {
            let Some(c) = x.get("checksum") else { continue };
            let k = (
                l["point"].as_str().unwrap().to_string(),
                x["proto"].as_str().unwrap().to_string(),
                x["depth"].as_u64().unwrap(),
                c["status"].as_str().unwrap().to_string(),
            );
            *counts.entry(k).or_default() += 1;
        }
    }
    let got: BTreeMap<(String, String, u64, String), u64> = rows
        .iter()
        .map(|r| {
            let k = (r[0].as_str().unwrap().into(), r[1].as_str().unwrap().into(), r[2].as_u64().unwrap(), r[3].as_str().unwrap().into());
            (k, r[4].as_u64().unwrap())
        })
        .collect();
    assert_eq!(got, counts);
    assert_eq!(got[&("server_underlay".into(), "udp".into(), 0, "bad".into())], 2);
    let mut args = vec!["summary", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let summary = json(&args);
    let mut all_points: BTreeMap<(String, u64, String), u64> = BTreeMap::new();
    for ((_, layer, depth, status), n) in &got {
        *all_points.entry((layer.clone(), *depth, status.clone())).or_default() += n;
    }
    let want: BTreeMap<(String, u64, String), u64> = summary["checksums"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ((c["proto"].as_str().unwrap().into(), c["depth"].as_u64().unwrap(), c["status"].as_str().unwrap().into()), c["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(all_points, want);

    // The frames a receiver drops: `netcap summary`'s receiver_drops, frame by frame,
    // at their time in `netcap packets`.
    let rows = duckdb(&flannel, &queries.get("frames a receiver drops"));
    let mut want: Vec<Value> = Vec::new();
    for d in summary["receiver_drops"].as_array().unwrap() {
        assert_eq!(d["count"].as_u64(), Some(d["first_frames"].as_array().unwrap().len() as u64));
        for f in d["first_frames"].as_array().unwrap() {
            let l = lines.iter().find(|l| l["point"] == f["point"] && l["frame"] == f["frame"]).expect("the frame in netcap packets");
            want.push(json!([f["point"], f["frame"], l["ts_ns"], d["layer"], d["depth"], d["counter"]]));
        }
    }
    want.sort_by_key(|w| (w[0].as_str().unwrap().to_string(), w[1].as_u64().unwrap()));
    assert_eq!(rows, want);
    assert_eq!(rows.len(), 4);

    // Losses between points, from the hive-partitioned export.
    let rows = duckdb(&flannel, &queries.get("losses between points"));
    let mut args = vec!["correlate", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let report = json(&args);
    let mut want: Vec<(String, String, u64)> = report["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["lost"].as_u64().unwrap() > 0)
        .map(|p| (p["from"].as_str().unwrap().into(), p["to"].as_str().unwrap().into(), p["lost"].as_u64().unwrap()))
        .collect();
    want.sort();
    let mut got: Vec<(String, String, u64)> =
        rows.iter().map(|r| (r[0].as_str().unwrap().into(), r[1].as_str().unwrap().into(), r[2].as_u64().unwrap())).collect();
    got.sort();
    assert_eq!(got, want);
    assert_eq!(got, [("server_underlay".to_string(), "server_vxlan".to_string(), 2)]);

    // One-way delay per pair of points: the pairs of `netcap correlate`.
    let rows = duckdb(&flannel, &queries.get("one-way delay per pair of points"));
    let mut want: Vec<Value> = report["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["matched"].as_u64() > Some(0))
        .map(|p| json!([p["from"], p["to"], p["matched"], p["delay_ns"]["min"], p["delay_ns"]["p50"], p["delay_ns"]["max"]]))
        .collect();
    want.sort_by_key(|w| (w[0].as_str().unwrap().to_string(), w[1].as_str().unwrap().to_string()));
    assert_eq!(rows, want);
    assert_eq!(rows.len(), 10);

    // Label columns: two labelled exports read together, filtered on one case.
    let cases = base.join("labels");
    export(&cases.join("cases/inc-1234"), &["--label", "case=INC-1234"], &files);
    export(&cases.join("cases/inc-1240"), &["--label", "case=INC-1240"], &loss_files);
    let rows = duckdb(&cases, &queries.get("frames per case and point"));
    let want: Vec<Value> = summary_per_point(&files).into_iter().map(|(p, (frames, dropped))| json!(["INC-1234", p, frames, dropped])).collect();
    assert_eq!(rows, want);
    let both = duckdb(&cases, "SELECT \"case\", count(*) FROM 'cases/*/packets/**/*.parquet' GROUP BY ALL ORDER BY ALL");
    let loss_frames: u64 = summary_per_point(&loss_files).values().map(|v| v.0).sum();
    assert_eq!(both, [json!(["INC-1234", 68]), json!(["INC-1240", loss_frames])]);

    // docs/scale-out.md: several incidents' exports, split as it shows, as one table.
    let many = base.join("incidents");
    let split = ["--split-by", "point", "--split-by", "hour"];
    export(&many.join("out/incident=INC-1234"), &split, &files);
    export(&many.join("out/incident=INC-1240"), &split, &loss_files);
    let rows = duckdb(&many, &queries.get("frames and drops per incident and point"));
    let mut want: Vec<Value> = Vec::new();
    for (incident, f) in [("INC-1234", &files), ("INC-1240", &loss_files)] {
        want.extend(summary_per_point(f).into_iter().map(|(p, (frames, dropped))| json!([incident, p, frames, dropped])));
    }
    assert_eq!(rows, want);

    let all: BTreeSet<String> = queries.all.keys().cloned().collect();
    assert_eq!(queries.ran, all, "every query of the docs is checked here");
}

/// Two exports into `out/incident=A/` and `out/incident=B/`, without a split, read as
/// one table with `read_parquet('out/*/packets/**/*.parquet', hive_partitioning =
/// true)`: each incident has its own frames (`netcap summary`), and the flows too.
#[test]
fn exports_of_two_incidents_read_as_one_table() {
    if !duckdb_or_skip("exports_of_two_incidents_read_as_one_table") {
        return;
    }
    let base = out_dir("incidents");
    let flannel = flannel_files();
    let loss: Vec<String> = TCP_LOSS.iter().map(|s| s.to_string()).collect();
    export(&base.join("out/incident=A"), &[], &flannel);
    export(&base.join("out/incident=B"), &[], &loss);
    let frames = |files: &[String]| -> u64 { summary_per_point(files).values().map(|v| v.0).sum() };
    let rows = duckdb(
        &base,
        "SELECT incident, count(*) FROM read_parquet('out/*/packets/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY ALL",
    );
    assert_eq!(rows, [json!(["A", frames(&flannel)]), json!(["B", frames(&loss)])]);
    assert_eq!(rows[0][1], 68);
    let rows = duckdb(
        &base,
        "SELECT incident, count(*) FROM read_parquet('out/*/flows/**/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY ALL",
    );
    assert_eq!(rows, [json!(["A", 6]), json!(["B", 4])]);
}

/// `--label KEY=VALUE` adds a column KEY (utf8, never null) holding VALUE on every row
/// of every table, after the table's own columns, in the order given; the tables are
/// otherwise those of an export without labels. A key that is not a column name, is a
/// column already, is `hour` or comes twice, or a label without `=`, is a usage error
/// (exit 2) before anything is written.
#[test]
fn labels_are_the_last_columns_of_every_table() {
    let dir = out_dir("labels");
    let plain = out_dir("labels-plain");
    let files = flannel_files();
    export(&dir, &["--label", "case=INC-1234", "--label", "site=fra 1"], &files);
    export(&plain, &[], &files);
    for table in ["packets", "tcp_events", "flows", "findings", "pairs", "matches"] {
        let path = dir.join(table).join("part-0.parquet");
        let schema = ParquetRecordBatchReaderBuilder::try_new(File::open(&path).unwrap()).unwrap().schema().clone();
        let own = ParquetRecordBatchReaderBuilder::try_new(File::open(plain.join(table).join("part-0.parquet")).unwrap()).unwrap().schema().clone();
        let n = own.fields().len();
        assert_eq!(schema.fields().len(), n + 2, "{table}");
        assert_eq!(schema.fields()[..n], own.fields()[..], "{table}");
        for (f, name) in schema.fields()[n..].iter().zip(["case", "site"]) {
            assert_eq!((f.name().as_str(), f.data_type(), f.is_nullable()), (name, &DataType::Utf8, false), "{table}");
        }
        let rows = read(&dir.join(table));
        let mut without = read(&plain.join(table));
        assert_eq!(rows.len(), without.len(), "{table}");
        assert!(!rows.is_empty(), "{table}");
        for (r, w) in rows.iter().zip(&mut without) {
            assert_eq!((&r["case"], &r["site"]), (&json!("INC-1234"), &json!("fra 1")), "{table}");
            let w = w.as_object_mut().unwrap();
            w.insert("case".into(), json!("INC-1234"));
            w.insert("site".into(), json!("fra 1"));
            assert_eq!(r, &Value::Object(w.clone()), "{table}");
        }
    }

    for (labels, says) in [
        (vec!["--label", "Case=1"], "`Case` is not a column name"),
        (vec!["--label", "flow=1"], "`flow` is a column of the tcp_events table"),
        (vec!["--label", "hour=1"], "`hour` names the partitions"),
        (vec!["--label", "a=1", "--label", "a=2"], "`a` is given twice"),
        (vec!["--label", "case"], "expected KEY=VALUE"),
    ] {
        let refused = out_dir("labels-refused");
        let mut args = vec!["export", "-o", refused.to_str().unwrap()];
        args.extend(&labels);
        args.push("fixtures/lab/flannel/client_pod.pcap");
        let out = run(&args);
        let msg = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{labels:?}: {msg}");
        assert!(msg.contains(says), "{labels:?}: {msg}");
        assert!(!refused.exists(), "{labels:?}: nothing written");
    }
}

/// A table an export before schema version 2 wrote, `DIR/packets.parquet`, is refused
/// by name (exit 1) before any capture is read; `--force` removes it and writes
/// `DIR/packets/part-0.parquet`, and leaves the other files in DIR alone.
#[test]
fn a_table_of_the_old_layout_is_refused_then_replaced() {
    let dir = out_dir("old-layout");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("packets.parquet"), b"PAR1").unwrap();
    std::fs::write(dir.join("notes.txt"), b"mine").unwrap();
    let mut args = vec!["export", "-o", dir.to_str().unwrap(), "fixtures/lab/flannel/client_pod.pcap"];
    let refused = run(&args);
    let msg = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{msg}");
    assert!(msg.contains("packets.parquet") && msg.contains("exists") && msg.contains("--force"), "{msg}");
    assert!(!dir.join("packets").exists() && dir.join("packets.parquet").is_file());
    args.push("--force");
    let printed = String::from_utf8(netcap(&args)).unwrap();
    let file = dir.join("packets/part-0.parquet");
    assert!(printed.contains(&format!("packets             12 rows  {}", file.display())), "{printed}");
    assert!(!dir.join("packets.parquet").exists());
    assert_eq!(read(&file).len(), 12);
    assert_eq!(std::fs::read(dir.join("notes.txt")).unwrap(), b"mine");
}

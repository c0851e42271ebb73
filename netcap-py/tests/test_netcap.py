"""The Python package against the command line it shares its engine with.

Run from the repository root after ``pip install ./netcap-py``: ``python3 -m pytest
netcap-py/tests``. The ``netcap`` binary is ``$NETCAP_BIN``, else
``target/debug/netcap`` or ``target/release/netcap``, else ``cargo run``.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import netcap

ROOT = Path(__file__).resolve().parents[2]
FLANNEL = [
    ROOT / "fixtures/lab/flannel" / f"{p}.pcap"
    for p in ("client_pod", "client_vxlan", "client_underlay", "server_underlay", "server_vxlan", "server_pod")
]
SENDER = ROOT / "fixtures/lab/tcp-loss/sender.pcap"
RECEIVER = ROOT / "fixtures/lab/tcp-loss/receiver.pcap"
RETRANSMISSIONS = {"retransmission", "fast_retransmission", "spurious_retransmission"}


def cli(*args: str) -> bytes:
    """``netcap ARGS`` run from the repository root; its standard output."""
    exe = os.environ.get("NETCAP_BIN")
    if not exe:
        for profile in ("debug", "release"):
            p = ROOT / "target" / profile / "netcap"
            if p.exists():
                exe = str(p)
                break
    cmd = [exe, *args] if exe else ["cargo", "run", "-q", "-p", "netcap-cli", "--", *args]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def rel(paths):
    return [str(p.relative_to(ROOT)) for p in paths]


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    # File names in the tables are as given: relative to the root, as the CLI's.
    monkeypatch.chdir(ROOT)


def test_three_lines_print_the_flannel_finding():
    result = netcap.correlate(rel(FLANNEL))
    first = result.findings.to_pylist()[0]
    assert first["kind"] == "dropped_bad_outer_checksum"
    assert first["points"] == ["server_underlay", "server_vxlan"]
    assert "0xffff, expected 0x3525" in first["summary"]
    assert str(result).startswith("1. [error] dropped_bad_outer_checksum: 2 packets of 10.244.1.2:55406 > 10.244.2.3:80")


def test_correlate_equals_the_cli_json():
    """The report is `netcap correlate --format json`, and the findings and pairs
    tables hold its findings and pairs."""
    want = json.loads(cli("correlate", "--format", "json", *rel(FLANNEL)))
    result = netcap.correlate(rel(FLANNEL))
    assert result.report == want
    assert [p["name"] for p in result.points] == [p["name"] for p in want["points"]]
    findings = result.findings.to_pylist()
    assert len(findings) == len(want["findings"]) == 6
    for i, (row, f) in enumerate(zip(findings, want["findings"]), 1):
        assert row["number"] == i
        for col in ("kind", "severity", "summary", "flow", "points", "hint", "related"):
            assert row[col] == f[col], (i, col)
        assert json.loads(row["evidence"]) == f["evidence"]
    pairs = result.pairs.to_pylist()
    assert len(pairs) == len(want["pairs"]) == 10
    for row, p in zip(pairs, want["pairs"]):
        for col in ("from", "to", "matched", "lost", "appeared", "duplicated", "reordered"):
            assert row[col] == p[col]
        assert row["delay_p50_ns"] == p["delay_ns"]["p50"]
    lost = [(r["from"], r["to"], r["lost"]) for r in pairs if r["lost"]]
    assert lost == [("server_underlay", "server_vxlan", 2)]
    # Each matched packet of a pair is a `matches` row seen at `to` after `from`.
    m = result.matches.to_pylist()
    for p in pairs:
        rows = [r for r in m if r["seen"] and r["point"] == p["to"] and r["prev_point"] == p["from"]]
        assert len(rows) == p["matched"], p


def test_packet_rows_equal_the_cli_jsonl():
    lines = [json.loads(l) for l in cli("packets", "--format", "jsonl", *rel([SENDER])).splitlines()]
    rows = netcap.packets(rel([SENDER])).to_pylist()
    assert len(rows) == len(lines) == 3088
    retransmissions = 0
    for r, l in zip(rows, lines):
        what = f"frame {l['frame']}"
        assert (r["point"], r["frame"]) == (l["point"], l["frame"]), what
        for f in ("caplen", "len", "link_type", "receiver_accepts"):
            assert r[f] == l[f], (what, f)
        layers = l["layers"]
        assert r["layers"] == "/".join(x["proto"] for x in layers), what
        ip = [x for x in layers if x["proto"] in ("ipv4", "ipv6")][-1]
        assert (r["src"], r["dst"]) == (ip["src"], ip["dst"]), what
        tcp = next(x for x in layers if x["proto"] == "tcp")
        for col, f in (("src_port", "src_port"), ("dst_port", "dst_port"), ("tcp_flags", "flags"),
                       ("tcp_flag_names", "flag_names"), ("tcp_seq", "seq"), ("tcp_ack", "ack"),
                       ("payload_len", "payload_len")):
            assert r[col] == tcp[f], (what, col)
        want = [
            {"layer": x["proto"], "depth": x["depth"], "status": x["checksum"]["status"],
             "stored": x["checksum"]["stored"], "expected": x["checksum"].get("expected")}
            for x in layers if "checksum" in x
        ]
        assert r["checksums"] == want, what
        assert r["tcp_flow"] == l["tcp"]["flow"], what
        assert r["tcp_labels"] == l["tcp"]["analysis"], what
        retransmissions += bool(RETRANSMISSIONS & set(r["tcp_labels"]))
    # The sender's 24 retransmissions: 23 of the data connection, 1 of the control one.
    assert retransmissions == 24
    # Timestamps: nanoseconds since the epoch, UTC.
    t = netcap.packets(rel([SENDER]))
    assert t.schema.field("ts").type == pa.timestamp("ns", tz="UTC")
    assert t.column("ts").cast(pa.int64()).to_pylist() == [l["ts_ns"] for l in lines]


def test_tables_equal_netcap_export_row_for_row(tmp_path):
    """Every table of one run equals the Parquet file `netcap export` writes
    (`OUT/<table>/part-0.parquet`): one schema, defined once, and the same rows."""
    out = tmp_path / "out"
    files = rel(FLANNEL)
    cli("export", "-o", str(out), *files)
    got = netcap.tables(files)
    assert list(got) == list(netcap.TABLES)
    for name, table in got.items():
        written = pq.read_table(out / name / "part-0.parquet")
        assert table.schema.equals(netcap.schema(name))
        assert written.schema.remove_metadata().equals(table.schema), name
        assert written.equals(table), name
        assert table.num_rows > 0, name


def test_flows_equal_the_cli_json():
    want = json.loads(cli("flows", "--format", "json", *rel([SENDER, RECEIVER])))["flows"]
    rows = netcap.flows(rel([SENDER, RECEIVER])).to_pylist()
    assert len(rows) == len(want) == 4
    # The table is in flow-id order, the JSON puts flows in trouble first.
    by_key = {(f["point"], f["client"]["port"]): f for f in want}
    for r in rows:
        f = by_key[(r["point"], r["client_port"])]
        assert (r["id"], r["client_ip"], r["server_ip"], r["server_port"]) == (f["id"], f["client"]["ip"], f["server"]["ip"], f["server"]["port"])
        for d in ("c2s", "s2c"):
            for col in ("packets", "bytes", "retransmissions", "duplicate_acks", "out_of_order"):
                assert r[f"{d}_{col}"] == f[d][col], (r["point"], d, col)
        assert r["syn_attempts"] == f["syn"]["attempts"]
        assert r["outcome"] == f["outcome"]
    data = {r["point"]: r["c2s_retransmissions"] for r in rows if r["client_port"] == 40000}
    assert data == {"sender": 23, "receiver": 23}


def test_polars_and_duckdb_take_the_tables():
    polars = pytest.importorskip("polars")
    duckdb = pytest.importorskip("duckdb")
    t = netcap.packets(rel([SENDER]))
    df = polars.from_arrow(t)
    assert df.height == 3088
    family = polars.col("tcp_labels").list.eval(polars.element().is_in(list(RETRANSMISSIONS))).list.any()
    assert df.filter(family).height == 24
    assert duckdb.arrow(t).aggregate("count(*)").fetchone()[0] == 3088
    flows = netcap.flows(rel([SENDER]))  # noqa: F841 (DuckDB finds the table by its variable name)
    assert duckdb.sql("SELECT sum(c2s_retransmissions + s2c_retransmissions) FROM flows").fetchone()[0] == 24
    assert duckdb.sql("SELECT count(*) FROM t WHERE list_contains(tcp_labels, 'retransmission')"
                      " OR list_contains(tcp_labels, 'fast_retransmission')"
                      " OR list_contains(tcp_labels, 'spurious_retransmission')").fetchone()[0] == 24


def test_a_corrupt_record_is_an_exception_with_file_record_offset(tmp_path):
    data = bytearray((ROOT / "fixtures/lab/flannel/client_pod.pcap").read_bytes())
    # Record 3 starts after the 24-byte header and two records (16-byte header each).
    at = 24
    for _ in range(2):
        at += 16 + struct.unpack_from("<I", data, at + 8)[0]
    struct.pack_into("<I", data, at + 8, 0x7FFFFFFF)
    bad = tmp_path / "corrupt.pcap"
    bad.write_bytes(bytes(data))
    with pytest.raises(netcap.CaptureError) as e:
        netcap.packets(str(bad))
    err = e.value
    assert (err.file, err.record, err.offset) == (str(bad), 3, at)
    assert "captured length 2147483647" in str(err)
    # What came before is kept.
    assert err.partial["packets"].column("frame").to_pylist() == [1, 2]
    # errors="warn": the rows, and a warning naming the record.
    with pytest.warns(netcap.CaptureWarning, match="record 3 at byte offset"):
        assert netcap.packets(str(bad), errors="warn").num_rows == 2
    # Streaming: the batches, then the exception.
    with pytest.raises(netcap.CaptureError):
        netcap.batches("packets", str(bad)).read_all()
    with pytest.raises(netcap.CaptureError, match="No such file"):
        netcap.packets(str(tmp_path / "missing.pcap"))


def test_bad_arguments_are_exceptions():
    with pytest.raises(netcap.FilterError, match=r"syntax error\n.*tcp prot 80\n +\^"):
        netcap.packets(rel([SENDER]), filter="tcp prot 80")
    with pytest.raises(ValueError, match="unknown table"):
        netcap.batches("frames", rel([SENDER]))
    with pytest.raises(netcap.InputError, match="no capture file"):
        netcap.packets(str(ROOT / "docs"))
    with pytest.raises(ValueError, match="no capture given"):
        netcap.packets([])
    with pytest.raises(TypeError, match="unexpected keyword argument 'filtr'"):
        netcap.packets(rel([SENDER]), filtr="tcp")
    with pytest.raises(ValueError, match="errors="):
        netcap.packets(rel([SENDER]), errors="loud")


def test_filter_and_count_select_as_the_cli():
    want = [json.loads(l)["frame"] for l in cli("packets", "--format", "jsonl", "-f", "tcp[tcpflags] & tcp-syn != 0",
                                                *rel([SENDER])).splitlines()]
    got = netcap.packets(rel([SENDER]), filter="tcp[tcpflags] & tcp-syn != 0").column("frame").to_pylist()
    # The SYN and SYN/ACK of the control and the data connection.
    assert got == want == [1, 2, 14, 15]
    assert netcap.packets(rel([SENDER]), count=5).num_rows == 5


def test_progress_reaches_the_total():
    seen = []
    netcap.packets(rel([SENDER]), progress=lambda done, total: seen.append((done, total)))
    size = SENDER.stat().st_size
    assert seen and seen[-1] == (size, size)
    assert all(d <= t for d, t in seen)


def test_points_and_clock_offsets_name_and_shift():
    result = netcap.correlate(points={"node1": rel([SENDER])[0], "node2": rel([RECEIVER])[0]},
                              clock_offsets={"node2": 1_000_000})
    assert [p["name"] for p in result.points] == ["node1", "node2"]
    assert [p["clock_offset_ns"] for p in result.points] == [0, 1_000_000]


# ---- a capture larger than the batches: flat memory, Ctrl-C ---------------------------

GIB = 1 << 30


def write_bulk(path: Path, size: int) -> int:
    """A pcap of one TCP stream of 1514-byte frames (Ethernet/IPv4/TCP), 10,000 per
    second (121 Mbit/s), `size` bytes at most; the frames written."""
    payload = 1460
    frame = bytearray(14 + 20 + 20 + payload)
    frame[0:14] = bytes.fromhex("020000000002" "020000000001" "0800")
    struct.pack_into("!BBHHHBBH4s4s", frame, 14, 0x45, 0, 20 + 20 + payload, 0, 0x4000, 64, 6, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2]))
    struct.pack_into("!HHIIBBHHH", frame, 34, 40000, 80, 0, 1, 0x50, 0x10, 65535, 0, 0)
    record = 16 + len(frame)
    n = (size - 24) // record
    chunk = 4096
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        buf = bytearray(record * chunk)
        for start in range(0, n, chunk):
            k = min(chunk, n - start)
            for j in range(k):
                i = start + j
                o = j * record
                struct.pack_into("<IIII", buf, o, 1_700_000_000 + i // 10_000, (i % 10_000) * 100, len(frame), len(frame))
                buf[o + 16:o + record] = frame
                struct.pack_into("!I", buf, o + 16 + 38, (1 + i * payload) & 0xFFFFFFFF)
            f.write(memoryview(buf)[: k * record])
    return n


@pytest.fixture(scope="module")
def bulk(tmp_path_factory):
    path = tmp_path_factory.mktemp("bulk") / "bulk.pcap"
    frames = write_bulk(path, GIB)
    yield path, frames
    path.unlink()


def anon_rss() -> int:
    """Anonymous resident memory (bytes): what the run allocates, not the mapped file."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) * 1024
    return 0


def peak_while_reading(path: Path, count=None) -> tuple:
    """Rows streamed and the peak anonymous memory while reading `packets`."""
    peak = anon_rss()
    rows = 0
    for b in netcap.batches("packets", str(path), count=count, batch_rows=8192):
        rows += b.num_rows
        peak = max(peak, anon_rss())
    return rows, peak


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc")
def test_a_1_gib_capture_streams_with_flat_memory(bulk):
    path, frames = bulk
    assert path.stat().st_size > GIB - 2000
    before = anon_rss()
    # An eighth of the capture first, then all of it: the whole costs no more memory
    # than its eighth (the batches are dropped as read; what stays is a few batches
    # and the analysis' state, not the capture).
    rows, small = peak_while_reading(path, count=frames // 8)
    assert rows == frames // 8
    rows, full = peak_while_reading(path)
    assert rows == frames
    assert full - before < small - before + (48 << 20), (before, small, full)
    # Its packets table alone would be about 200 MiB in memory.
    assert full - before < 192 << 20, (before, full)


def test_ctrl_c_stops_a_run(bulk):
    path, _ = bulk
    # Python leaves SIGINT ignored when it started with it ignored (under a background
    # job of a non-interactive shell, say): here it gets the handler a terminal's
    # Python has.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            netcap.correlate(str(path), tables=("packets",))
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)

"""The Spark job in local mode against `netcap export` on the lab fixtures.

Run from the repository root with the `netcap` Python package importable:
``python3 -m pytest examples/spark``. Skips when pyspark or Java is missing, unless
``NETCAP_REQUIRE_SPARK=1``.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "netcap-py" / "tests"))

import netcap_job  # noqa: E402
from test_netcap import cli  # noqa: E402

FLANNEL = ("client_pod", "client_vxlan", "client_underlay", "server_underlay", "server_vxlan", "server_pod")
CAPTURES = [
    {"path": f"fixtures/lab/flannel/{p}.pcap", "incident": "flannel", "point": p} for p in FLANNEL
] + [
    {"path": f"fixtures/lab/tcp-loss/{p}.pcap", "incident": "tcp-loss", "point": p} for p in ("sender", "receiver")
]
KEYS = {
    "packets": ["point", "frame"],
    "tcp_events": ["point", "frame"],
    "flows": ["point", "id"],
    "findings": ["number"],
    "pairs": ["from", "to"],
    "matches": ["packet", "hop"],
}


def spark_missing() -> str:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed"
    if not shutil.which("java") and not os.environ.get("JAVA_HOME"):
        return "no Java runtime"
    return ""


@pytest.fixture(scope="module")
def spark():
    why = spark_missing()
    if why:
        if os.environ.get("NETCAP_REQUIRE_SPARK") == "1":
            pytest.fail(f"NETCAP_REQUIRE_SPARK=1 but {why}")
        print(f"skipped: the Spark job tests need pyspark and Java ({why})", file=sys.stderr)
        pytest.skip(why)
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("netcap-test")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def job(spark, tmp_path_factory):
    os.chdir(ROOT)
    out = tmp_path_factory.mktemp("job") / "out"
    netcap_job.run(spark, CAPTURES, str(out))
    return out


PARTITIONING = ds.partitioning(
    pa.schema([("incident", pa.string()), ("point", pa.string()), ("hour", pa.string())]), flavor="hive"
)


def job_rows(out: Path, table: str, incident: str, point: str = "") -> pa.Table:
    """The job's rows of one incident (and point), as the export's columns."""
    t = ds.dataset(out / table, format="parquet", partitioning=PARTITIONING).to_table()
    mask = pc.equal(t.column("incident"), incident)
    if point:
        mask = pc.and_(mask, pc.equal(t.column("point"), point))
    import netcap

    want = netcap_job.spark_arrow_schema(netcap.schema(table))
    return t.filter(mask).select(want.names).cast(want)


def exported(tmp: Path, table: str, points: dict) -> pa.Table:
    """`netcap export --point P=F …` of these points: the table, with Spark's types."""
    out = tmp / ("export-" + "-".join(sorted(points)))
    if not out.exists():
        args = ["export", "-o", str(out)]
        for p, f in points.items():
            args += ["--point", f"{p}={f}"]
        cli(*args)
    return netcap_job.to_spark(pq.read_table(out / table / "part-0.parquet").replace_schema_metadata(None))


def sort(t: pa.Table, table: str) -> pa.Table:
    return t.sort_by([(k, "ascending") for k in KEYS[table]])


@pytest.mark.parametrize("table", ["packets", "tcp_events", "flows"])
def test_per_file_tables_equal_netcap_export(job, tmp_path, table):
    for c in CAPTURES:
        want = sort(exported(tmp_path, table, {c["point"]: c["path"]}), table)
        got = sort(job_rows(job, table, c["incident"], c["point"]), table)
        assert got.num_rows == want.num_rows, (c["point"], table)
        assert got.equals(want), (c["point"], table)
    total = sum(job_rows(job, table, i).num_rows for i in ("flannel", "tcp-loss"))
    assert total > 0


@pytest.mark.parametrize("table", ["findings", "pairs", "matches"])
def test_incident_tables_equal_netcap_export(job, tmp_path, table):
    for incident in ("flannel", "tcp-loss"):
        points = {c["point"]: c["path"] for c in CAPTURES if c["incident"] == incident}
        want = sort(exported(tmp_path, table, points), table)
        got = sort(job_rows(job, table, incident), table)
        assert got.num_rows == want.num_rows > 0, (incident, table)
        assert got.equals(want), (incident, table)


def test_the_flannel_finding_is_in_the_job_output(job):
    findings = job_rows(job, "findings", "flannel").to_pylist()
    first = min(findings, key=lambda f: f["number"])
    assert (first["kind"], first["points"]) == ("dropped_bad_outer_checksum", ["server_underlay", "server_vxlan"])


def test_partitions_are_incident_point_hour(job):
    files = sorted(p.relative_to(job / "packets").parent.as_posix() for p in (job / "packets").rglob("*.parquet"))
    assert "incident=flannel/point=client_pod/hour=2026-11-22T04" in files
    assert all(f.startswith(("incident=flannel/point=", "incident=tcp-loss/point=")) for f in files)
    findings = sorted(p.relative_to(job / "findings").parent.as_posix() for p in (job / "findings").rglob("*.parquet"))
    assert "incident=flannel/point=server_underlay" in findings


QUERY = """
SELECT incident, point, count(*) AS frames,
       count(*) FILTER (WHERE NOT receiver_accepts) AS dropped,
       count(*) FILTER (WHERE is_retransmission) AS retransmissions,
       sum(payload_len) AS payload
FROM read_parquet('{glob}', hive_partitioning = true)
GROUP BY ALL ORDER BY ALL
"""


def test_duckdb_gives_the_same_answer_over_the_job_and_over_exports(job, tmp_path):
    """One query, over the job's output and over `netcap export --split-by point
    --split-by hour` of each incident into `exports/incident=NAME/`: the same rows.
    DuckDB reads the exports of several incidents as one table (hive partitions
    incident, point, hour from the paths)."""
    duckdb = pytest.importorskip("duckdb")
    exports = tmp_path / "exports"
    for incident in ("flannel", "tcp-loss"):
        args = ["export", "--split-by", "point", "--split-by", "hour", "-o", str(exports / f"incident={incident}")]
        for c in CAPTURES:
            if c["incident"] == incident:
                args += ["--point", f"{c['point']}={c['path']}"]
        cli(*args)
    over_job = duckdb.sql(QUERY.format(glob=f"{job}/packets/**/*.parquet")).fetchall()
    over_exports = duckdb.sql(QUERY.format(glob=f"{exports}/*/packets/**/*.parquet")).fetchall()
    assert over_job == over_exports
    assert len(over_job) == 8
    rows = {(r[0], r[1]): r for r in over_job}
    # The two SYNs the receiver dropped are on server_underlay, with a bad outer checksum.
    assert rows[("flannel", "server_underlay")][3] == 2
    findings = "SELECT incident, kind, count(*) FROM read_parquet('{glob}', hive_partitioning = true) GROUP BY ALL ORDER BY ALL"
    assert duckdb.sql(findings.format(glob=f"{job}/findings/**/*.parquet")).fetchall() == duckdb.sql(
        findings.format(glob=f"{exports}/*/findings/**/*.parquet")
    ).fetchall()

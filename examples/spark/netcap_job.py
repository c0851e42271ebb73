"""netcap on Spark: weeks of captures from every node, analysed inside the executors.

    python3 examples/spark/netcap_job.py --captures captures.csv --out OUT [--master local[*]]
    spark-submit examples/spark/netcap_job.py --captures captures.csv --out OUT

``captures.csv`` is the table of capture files: a header ``path,incident,point`` and
one row per file (``/data/inc-1234/node2-eth0.pcap.gz,INC-1234,node2/eth0``); a
Parquet file or directory with those columns works too. Every executor needs the
``netcap`` Python package (``pip install ./netcap-py``) and the files at their paths.

Two stages of netcap, one read of each file per stage (docs/scale-out.md):

1. **Per file** (one task per file): ``packets``, ``tcp_events`` and ``flows`` of that
   file alone, as ``netcap export --point POINT=FILE`` writes them.
2. **Per incident** (one task per incident, all its points together): the correlation,
   ``findings``, ``pairs`` and ``matches``, as ``netcap export --point P1=F1 --point
   P2=F2 …`` writes them.

Each task hands its tables to Spark as Arrow IPC record batches (zstd), kept on disk
until every table is written; Spark then writes each table, with Spark's types, under
``OUT/<table>/incident=…/point=…/hour=…/`` (``findings`` and ``pairs`` by incident and
point only; ``hour`` is the UTC hour of ``ts``, of ``first_ts`` for flows).

Spark has no unsigned integers and keeps timestamps in microseconds, so the tables are
written with these types (the only difference from ``netcap export``): uint8 → short,
uint16 → int, uint32 → long, uint64 → long, timestamp[ns] → timestamp (microseconds,
nanoseconds dropped). The partition columns ``incident``, ``point`` and ``hour`` live in
the directory names, as Hive lays them out.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Dict, Iterator, List

import pyarrow as pa

IPC_SCHEMA = "table string, incident string, point string, ipc binary"

PER_FILE = ("packets", "tcp_events", "flows")
PER_INCIDENT = ("findings", "pairs", "matches")

# ---- Arrow types Spark can take ----------------------------------------------------


def spark_arrow_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type Spark takes for netcap's type ``t``: signed integers wide enough,
    microsecond timestamps, the same nesting."""
    if pa.types.is_uint8(t):
        return pa.int16()
    if pa.types.is_uint16(t):
        return pa.int32()
    if pa.types.is_uint32(t) or pa.types.is_uint64(t):
        return pa.int64()
    if pa.types.is_timestamp(t):
        return pa.timestamp("us", tz="UTC")
    if pa.types.is_list(t):
        return pa.list_(pa.field(t.value_field.name, spark_arrow_type(t.value_type), t.value_field.nullable))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, spark_arrow_type(f.type), f.nullable) for f in t])
    return t


def spark_arrow_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema([pa.field(f.name, spark_arrow_type(f.type), f.nullable) for f in schema])


def to_spark(table: pa.Table) -> pa.Table:
    """``table`` with Spark's types (nanoseconds truncated to microseconds)."""
    return table.cast(spark_arrow_schema(table.schema), safe=False)


def ddl(t: pa.DataType) -> str:
    """Spark's DDL for Arrow type ``t`` (after :func:`spark_arrow_type`)."""
    if pa.types.is_string(t):
        return "string"
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int16(t):
        return "short"
    if pa.types.is_int32(t):
        return "int"
    if pa.types.is_int64(t):
        return "long"
    if pa.types.is_float64(t):
        return "double"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_list(t):
        return f"array<{ddl(t.value_type)}>"
    if pa.types.is_struct(t):
        return "struct<" + ", ".join(f"`{f.name}`: {ddl(f.type)}" for f in t) + ">"
    raise TypeError(f"no Spark type for {t}")


def spark_ddl(table: str, extra: str = "") -> str:
    import netcap

    s = spark_arrow_schema(netcap.schema(table))
    return ", ".join([f"`{f.name}` {ddl(f.type)}" for f in s] + ([extra] if extra else []))


# ---- the two stages -----------------------------------------------------------------


def ipc_rows(tables: Dict[str, pa.Table], incident: str, point: str) -> pa.RecordBatch:
    """One row per (table, record batch): the batch as Arrow IPC, zstd-compressed."""
    names, blobs = [], []
    options = pa.ipc.IpcWriteOptions(compression="zstd")
    for name, t in tables.items():
        for batch in to_spark(t).to_batches(max_chunksize=65536) or [pa.RecordBatch.from_pylist([], schema=spark_arrow_schema(t.schema))]:
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, batch.schema, options=options) as w:
                w.write_batch(batch)
            names.append(name)
            blobs.append(sink.getvalue().to_pybytes())
    n = len(names)
    return pa.RecordBatch.from_arrays(
        [pa.array(names), pa.array([incident] * n), pa.array([point] * n), pa.array(blobs, pa.binary())],
        names=["table", "incident", "point", "ipc"],
    )


def task_cpus() -> int:
    """The cores of this task's slot (`spark.task.cpus`): netcap's threads."""
    from pyspark import TaskContext

    ctx = TaskContext.get()
    return max(1, ctx.cpus()) if ctx is not None else 1


def run_files(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Stage 1, inside an executor: each file's per-file tables (one read)."""
    import netcap

    for b in batches:
        for row in b.to_pylist():
            tables = netcap.tables(points={row["point"]: row["path"]}, tables=PER_FILE, order="files", threads=task_cpus())
            yield ipc_rows(tables, row["incident"], row["point"])


def run_incident(group: pa.Table) -> pa.Table:
    """Stage 2, inside an executor: one incident's points correlated (one read)."""
    import netcap

    rows = group.to_pylist()
    incident = rows[0]["incident"]
    points = {r["point"]: r["path"] for r in rows}
    tables = netcap.tables(points=points, tables=PER_INCIDENT, order="time", threads=task_cpus())
    return pa.Table.from_batches([ipc_rows(tables, incident, "")])


def decode(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """The rows of one table back out of the IPC column (the caller keeps that table's
    rows), with the incident."""
    for b in batches:
        for incident, blob in zip(b.column("incident").to_pylist(), b.column("ipc").to_pylist()):
            for rb in pa.ipc.open_stream(blob):
                yield rb.append_column("incident", pa.array([incident] * rb.num_rows, pa.string()))


# ---- the job ------------------------------------------------------------------------


def read_captures(spark, path: str) -> List[dict]:
    """The table of capture files, collected on the driver (one row per file)."""
    reader = spark.read.option("header", True)
    df = reader.csv(path) if path.endswith(".csv") else spark.read.parquet(path)
    missing = {"path", "incident", "point"} - set(df.columns)
    if missing:
        raise SystemExit(f"{path}: missing column(s) {', '.join(sorted(missing))} (need path, incident, point)")
    rows = [r.asDict() for r in df.select("path", "incident", "point").collect()]
    seen = set()
    for r in rows:
        key = (r["incident"], r["point"])
        if key in seen:
            raise SystemExit(f"{path}: point {r['point']!r} of incident {r['incident']!r} is given twice")
        seen.add(key)
    return rows


def run(spark, captures: List[dict], out: str, tables=PER_FILE + PER_INCIDENT) -> Dict[str, float]:
    """Runs both stages and writes ``out/<table>/…``; seconds per stage."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    spark.conf.set("spark.sql.session.timeZone", "UTC")
    if __name__ != "__main__":
        # Imported as a module: the executors' Python workers import it too.
        spark.sparkContext.addPyFile(__file__)
    timings = {}
    start = time.monotonic()
    schema = "path string, incident string, point string"
    files = spark.createDataFrame(spark.sparkContext.parallelize(captures, max(1, len(captures))), schema)
    parts = []
    if any(t in PER_FILE for t in tables):
        parts.append(files.mapInArrow(run_files, IPC_SCHEMA))
    if any(t in PER_INCIDENT for t in tables):
        incidents = len({c["incident"] for c in captures})
        parts.append(files.repartition(max(1, incidents), "incident").groupBy("incident").applyInArrow(run_incident, IPC_SCHEMA))
    runs = parts[0] if len(parts) == 1 else parts[0].unionByName(parts[1])
    runs = runs.persist(StorageLevel.DISK_ONLY)
    runs.count()
    timings["netcap"] = time.monotonic() - start

    for table in tables:
        t0 = time.monotonic()
        rows = runs.where(F.col("table") == table).mapInArrow(decode, spark_ddl(table, "`incident` string"))
        if table in ("packets", "tcp_events"):
            rows = rows.withColumn("hour", F.date_format("ts", "yyyy-MM-dd'T'HH"))
            keys = ["incident", "point", "hour"]
        elif table == "flows":
            rows = rows.withColumn("hour", F.date_format("first_ts", "yyyy-MM-dd'T'HH"))
            keys = ["incident", "point", "hour"]
        elif table == "matches":
            # A point that did not see the packet: the hour of the packet's first sighting.
            from pyspark.sql.window import Window

            first = F.min("ts").over(Window.partitionBy("incident", "packet"))
            rows = rows.withColumn("hour", F.date_format(F.coalesce("ts", first), "yyyy-MM-dd'T'HH"))
            keys = ["incident", "point", "hour"]
        elif table == "findings":
            rows = rows.withColumn("point", F.element_at("points", 1))
            keys = ["incident", "point"]
        else:  # pairs
            rows = rows.withColumn("point", F.col("from"))
            keys = ["incident", "point"]
        rows.write.mode("overwrite").partitionBy(*keys).parquet(f"{out}/{table}")
        timings[table] = time.monotonic() - t0
    runs.unpersist()
    timings["total"] = time.monotonic() - start
    return timings


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--captures", required=True, help="CSV (path,incident,point) or Parquet table of capture files")
    ap.add_argument("--out", required=True, help="output directory (each table's directory is replaced)")
    ap.add_argument("--master", default=None, help="Spark master when run with python3 (default: local[*])")
    ap.add_argument("--tables", default=",".join(PER_FILE + PER_INCIDENT), help="tables to write (comma-separated)")
    args = ap.parse_args(argv)
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName("netcap")
    if args.master or "pyspark.shell" not in sys.modules:
        builder = builder.master(args.master or "local[*]")
    spark = builder.config("spark.sql.session.timeZone", "UTC").config("spark.ui.showConsoleProgress", "false").getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    captures = read_captures(spark, args.captures)
    wanted = tuple(t for t in args.tables.split(",") if t)
    unknown = [t for t in wanted if t not in PER_FILE + PER_INCIDENT]
    if unknown:
        raise SystemExit(f"unknown table {unknown[0]!r}")
    timings = run(spark, captures, args.out, wanted)
    for k, v in timings.items():
        print(f"{k:<11} {v:8.2f} s")
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""netcap for Python: the engine of the ``netcap`` command-line tool, its tables as pyarrow.

Every function reads its captures once with netcap-core's engine (the one ``netcap``
runs: decoding and checksum verdicts at every depth, TCP analysis, packets matched
across capture points) and returns the tables of ``netcap export`` — the same columns,
types and rows (``docs/parquet.md``) — as ``pyarrow.Table``\\ s handed over through the
Arrow C data interface, never as Python objects per row::

    import netcap
    result = netcap.correlate(["fixtures/lab/flannel/client_pod.pcap", "fixtures/lab/flannel/server_underlay.pcap"])
    print(result.findings["summary"][0])

``polars.from_arrow(table)`` and ``duckdb.arrow(table)`` take the tables unchanged.
For captures larger than memory, :func:`batches` streams a table as a
``pyarrow.RecordBatchReader``.

Inputs (``paths``) are read as ``netcap``'s FILE arguments: capture files (pcap,
pcapng, gzip/zstd/xz-compressed), directories (every capture in them), Microsoft
Retina bundles; ``points`` names points as ``--point NAME=FILE[#IFACE]`` does.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, TypedDict, Union

import pyarrow as pa

from . import _netcap

if TYPE_CHECKING:
    from typing_extensions import Unpack
from ._netcap import TABLES, FilterError, InputError, NetcapError, __version__

__all__ = [
    "TABLES",
    "CaptureError",
    "CaptureWarning",
    "FilterError",
    "InputError",
    "NetcapError",
    "Options",
    "Result",
    "batches",
    "correlate",
    "flows",
    "packets",
    "schema",
    "tables",
    "tcp_events",
    "__version__",
]

PathLike = Union[str, "os.PathLike[str]"]
Paths = Union[PathLike, Sequence[PathLike]]
Points = Mapping[str, Union[PathLike, Sequence[PathLike]]]
Progress = Union[bool, Callable[[int, int], Any], None]


class CaptureError(NetcapError):
    """An input that could not be opened or stopped at a corrupt record.

    ``file``, ``record`` (1-based packet record, ``None`` outside one) and ``offset``
    (byte offset of the record or block in the file, decompressed) locate the first
    error; ``errors`` lists every one as ``(message, file, record, offset)``.
    ``partial`` holds what was read before: the tables, by name (for :func:`batches`,
    the batches were already handed over).
    """

    def __init__(
        self,
        message: str,
        file: str,
        record: Optional[int],
        offset: int,
        errors: Sequence[Tuple[str, str, Optional[int], int]] = (),
        partial: Optional[Dict[str, pa.Table]] = None,
    ) -> None:
        super().__init__(message)
        self.file = file
        self.record = record
        self.offset = offset
        self.errors = list(errors)
        self.partial = partial if partial is not None else {}


class CaptureWarning(UserWarning):
    """A note about an input that did not stop it, or (``errors="warn"``) an error."""


def schema(table: str) -> pa.Schema:
    """The Arrow schema of ``table`` (one of :data:`TABLES`), as ``netcap export`` writes it."""
    return _netcap.table_schema(table)


def _paths(paths: Optional[Paths]) -> List[str]:
    if paths is None:
        return []
    if isinstance(paths, (str, os.PathLike)):
        return [os.fspath(paths)]
    return [os.fspath(p) for p in paths]


def _points(points: Optional[Points]) -> Tuple[list, list]:
    """``{name: FILE | FILE#IFACE | [FILES]}`` into single-file points and series."""
    single, series = [], []
    for name, target in (points or {}).items():
        if isinstance(target, (str, os.PathLike)):
            target = os.fspath(target)
            path, iface = target, None
            if not os.path.exists(target) and "#" in target:
                path, iface = target.rsplit("#", 1)
            single.append((name, path, iface))
        else:
            series.append((name, [os.fspath(p) for p in target]))
    return single, series


def _size(paths: Iterable[str]) -> int:
    total = 0
    for p in paths:
        try:
            if os.path.isdir(p):
                for root, _, files in os.walk(p):
                    total += sum(os.path.getsize(os.path.join(root, f)) for f in files)
            else:
                total += os.path.getsize(p)
        except OSError:
            pass
    return total


class _Bar:
    """``progress=True``: tqdm when installed, else a line on stderr; or the caller's
    ``callable(bytes_read, bytes_total)``."""

    def __init__(self, progress: Progress, total: int) -> None:
        self.total = total
        self.call: Optional[Callable[[int, int], Any]] = None
        self.tqdm = None
        if callable(progress):
            self.call = progress
        elif progress:
            try:
                from tqdm.auto import tqdm

                self.tqdm = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="netcap")
            except ImportError:
                self.call = self._line

    def _line(self, done: int, total: int) -> None:
        pct = 100.0 * done / total if total else 0.0
        sys.stderr.write(f"\rnetcap: {done / 2**20:,.1f} of {total / 2**20:,.1f} MiB read ({pct:.0f} %)")
        sys.stderr.flush()

    def __call__(self, done: int) -> None:
        done = min(done, self.total) if self.total else done
        if self.tqdm is not None:
            self.tqdm.update(done - self.tqdm.n)
        elif self.call is not None:
            self.call(done, self.total)

    def close(self, finished: bool, done: int) -> None:
        """The last figure: everything, when the run went to its end."""
        if finished and self.total:
            done = self.total
        self(done)
        if self.tqdm is not None:
            self.tqdm.close()
        elif self.call is self._line:
            sys.stderr.write("\n")


class Options(TypedDict, total=False):
    """The keyword options every function takes, each as its command-line option."""

    #: ``{name: FILE | "FILE#IFACE" | [FILES]}``: ``--point NAME=FILE[#IFACE]`` (a list:
    #: one point of several files, a ring buffer).
    points: Points
    #: ``"time"``: merge every input by capture time and correlate (``netcap correlate``,
    #: ``export``); ``"files"``: each input to its end (``netcap packets``, ``flows``).
    order: str
    #: A tcpdump capture filter on the frame (``-f``), compiled by the system's libpcap.
    filter: str
    #: A tcpdump capture filter on the frame's innermost packet (``--inner``).
    inner: str
    #: The first N frames (``-c``).
    count: int
    #: The time window (``--from``, ``--to``): RFC 3339, or ``+90s`` after the first frame.
    start: str
    end: str
    #: ``{point: nanoseconds}`` added to a point's times (``--clock-offset``).
    clock_offsets: Mapping[str, int]
    #: Match packets across NAT (``--nat``).
    nat: bool
    #: ``{udp_port: "vxlan"}`` (``--decode-as PORT=PROTO``).
    decode_as: Mapping[int, str]
    #: The TCP flow table's bounds (``--max-flows``, ``--flow-timeout``).
    max_flows: int
    flow_timeout_s: int
    #: Threads; 0 (the default): every core.
    threads: int
    #: ``True``: tqdm when installed, else a line on stderr; or ``callable(read, total)``.
    progress: Progress
    #: An input that cannot be read to its end: ``"raise"`` (CaptureError, what came
    #: before in ``.partial``), ``"warn"`` (CaptureWarning) or ``"ignore"``.
    errors: str
    #: Rows per record batch (default 65,536).
    batch_rows: int


_ENGINE = ("filter", "inner", "count", "start", "end", "nat", "max_flows", "flow_timeout_s", "threads")


@dataclass
class _Options:
    paths: List[str]
    points: Optional[Points]
    progress: Progress
    errors: str
    engine: Dict[str, Any]


def _options(paths: Optional[Paths], options: Mapping[str, Any], default_order: str) -> _Options:
    """The options of one call, checked, and the engine's arguments."""
    unknown = sorted(set(options) - set(Options.__annotations__))
    if unknown:
        raise TypeError(f"unexpected keyword argument {unknown[0]!r}")
    errors = options.get("errors", "raise")
    if errors not in ("raise", "warn", "ignore"):
        raise ValueError(f'errors={errors!r}: "raise", "warn" or "ignore"')
    points = options.get("points")
    given = _paths(paths)
    if not given and not points:
        raise ValueError("no capture given: pass paths or points")
    single, series = _points(points)
    engine: Dict[str, Any] = {k: options[k] for k in _ENGINE if options.get(k) is not None}
    engine.update(
        points=single,
        series=series,
        clock_offsets=list((options.get("clock_offsets") or {}).items()),
        order=options.get("order", default_order),
        decode_as=list((options.get("decode_as") or {}).items()),
        batch_rows=options.get("batch_rows", 65536),
    )
    return _Options(given, points, options.get("progress", False), errors, engine)


def _inputs(o: _Options) -> List[str]:
    files = list(o.paths)
    for _, target in (o.points or {}).items():
        files.extend(_paths(target))
    return files


class _Stream:
    """One run: its batches by table, then its end."""

    def __init__(self, wanted: Sequence[str], o: _Options) -> None:
        self.o = o
        self.bar = _Bar(o.progress, _size(_inputs(o)))
        self.run = _netcap.run(list(wanted), o.paths, **o.engine)
        self.progress = self.bar if o.progress else None

    def __iter__(self) -> Iterator[Tuple[str, pa.RecordBatch]]:
        finished = False
        try:
            while True:
                got = self.run.next(self.progress)
                if got is None:
                    finished = self.run.stopped() is None
                    break
                yield got
        finally:
            if self.progress is not None:
                self.bar.close(finished, self.run.bytes_read())

    def finish(self, partial: Optional[Dict[str, pa.Table]] = None) -> None:
        """After the last batch: warnings, then the errors as ``errors=`` says."""
        stopped = self.run.stopped()
        if stopped is not None:
            raise NetcapError(stopped)
        for w in self.run.warnings():
            warnings.warn(w, CaptureWarning, stacklevel=3)
        errors = self.run.errors()
        if not errors:
            return
        if self.o.errors == "raise":
            message, file, record, offset = errors[0]
            raise CaptureError(message, file, record, offset, errors, partial)
        if self.o.errors == "warn":
            for e in errors:
                warnings.warn(e[0], CaptureWarning, stacklevel=3)


def _collect(wanted: Sequence[str], o: _Options) -> Tuple[Dict[str, pa.Table], _Stream]:
    stream = _Stream(wanted, o)
    got: Dict[str, List[pa.RecordBatch]] = {t: [] for t in wanted}
    for name, batch in stream:
        got[name].append(batch)
    out = {t: pa.Table.from_batches(got[t], schema=schema(t)) for t in wanted}
    stream.finish(out)
    return out, stream


_DOC_OPTIONS = """
    Keyword options (:class:`Options`), as the command line's: ``points``, ``order``,
    ``filter``, ``inner``, ``count``, ``start``, ``end``, ``clock_offsets``, ``nat``,
    ``decode_as``, ``max_flows``, ``flow_timeout_s``, ``threads``, ``progress``,
    ``errors``, ``batch_rows``.
"""


def _table_function(table: str, default_order: str, what: str):
    def read(paths: Optional[Paths] = None, **options: Unpack[Options]) -> pa.Table:
        return _collect([table], _options(paths, options, default_order))[0][table]

    read.__name__ = read.__qualname__ = table
    read.__doc__ = f"""The ``{table}`` table of the captures: {what}

    Columns and types are ``netcap export``'s (``docs/parquet.md``, :func:`schema`).
    Default order ``{default_order!r}``.
{_DOC_OPTIONS}"""
    return read


packets = _table_function("packets", "files", "one row per frame, every checksum verdict (``netcap packets``).")
tcp_events = _table_function("tcp_events", "files", "a row per frame with a TCP analysis label or RTT sample.")
flows = _table_function("flows", "files", "one row per TCP flow and point (``netcap flows``).")


def batches(table: str, paths: Optional[Paths] = None, **options: Unpack[Options]) -> pa.RecordBatchReader:
    """Table ``table`` as a stream of record batches, for captures larger than memory:
    the analysis runs ahead of the reader by at most a few batches, so memory stays
    flat whatever the capture's size. Errors (CaptureError) come after the last batch.
    Default order ``"time"``.
    """
    if table not in TABLES:
        raise ValueError(f"unknown table {table!r}: one of {', '.join(TABLES)}")
    stream = _Stream([table], _options(paths, options, "time"))

    def gen() -> Iterator[pa.RecordBatch]:
        for _, b in stream:
            yield b
        stream.finish()

    return pa.RecordBatchReader.from_batches(schema(table), gen())


@dataclass
class Result:
    """What :func:`correlate` found: the tables of ``netcap export`` and the report.

    ``report`` is the JSON of ``netcap correlate --format json`` as a dict (paths,
    pairs, findings with their evidence, notes); ``findings``, ``pairs``, ``matches``
    and ``flows`` are its tables; ``points`` the capture points (name, file, clock
    offset, …). ``str(result)`` is one line per finding.
    """

    report: Dict[str, Any]
    points: List[Dict[str, Any]]
    findings: pa.Table
    pairs: pa.Table
    matches: pa.Table
    flows: pa.Table
    tables: Dict[str, pa.Table] = field(repr=False)

    def __str__(self) -> str:
        lines = []
        for i, f in enumerate(self.report.get("findings", []), 1):
            lines.append(f"{i}. [{f['severity']}] {f['kind']}: {f['summary']}")
        return "\n".join(lines) if lines else "No findings."

    def __repr__(self) -> str:
        names = ", ".join(p["name"] for p in self.points)
        return f"<netcap.Result: {len(self.points)} points ({names}), {self.findings.num_rows} findings>"


def correlate(
    paths: Optional[Paths] = None,
    *,
    tables: Sequence[str] = ("flows", "findings", "pairs", "matches"),
    **options: Unpack[Options],
) -> Result:
    """``netcap correlate``: every input read at once in capture-time order, the same
    packets matched across the capture points, where they were lost and why.

    ``tables`` chooses what is built besides the report (add ``"packets"`` and
    ``"tcp_events"`` for everything ``netcap export`` writes).
    """
    if "order" in options:
        raise TypeError("correlate reads in time order: no order option")
    wanted = [t for t in TABLES if t in set(tables) | {"findings", "pairs", "matches", "flows"}]
    out, stream = _collect(wanted, _options(paths, options, "time"))
    return Result(
        report=json.loads(stream.run.correlation() or "{}"),
        points=json.loads(stream.run.points() or "[]"),
        findings=out["findings"],
        pairs=out["pairs"],
        matches=out["matches"],
        flows=out["flows"],
        tables=out,
    )


def tables(paths: Optional[Paths] = None, *, tables: Sequence[str] = TABLES, **options: Unpack[Options]) -> Dict[str, pa.Table]:
    """Several tables from one run (each input read once), by name: what ``netcap
    export`` writes, in memory. Default order ``"time"``."""
    unknown = [t for t in tables if t not in TABLES]
    if unknown:
        raise ValueError(f"unknown table {unknown[0]!r}: one of {', '.join(TABLES)}")
    return _collect([t for t in TABLES if t in tables], _options(paths, options, "time"))[0]


for _f in (batches, correlate, tables):
    _f.__doc__ = (_f.__doc__ or "") + _DOC_OPTIONS

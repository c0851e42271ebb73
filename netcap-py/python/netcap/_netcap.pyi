"""Type stubs of the extension module (``netcap-py/src/lib.rs``); the public API is
``netcap`` (``__init__.py``)."""

from typing import Any, Callable, List, Optional, Sequence, Tuple

import pyarrow as pa

__version__: str
TABLES: List[str]

class NetcapError(Exception):
    """Every error netcap raises."""

class FilterError(NetcapError):
    """A capture filter libpcap does not compile."""

class InputError(NetcapError):
    """A path that cannot be read as netcap's input."""

class Run:
    """A run of the engine on a thread of its own; its batches taken one by one."""

    def next(self, progress: Optional[Callable[[int], Any]] = None) -> Optional[Tuple[str, pa.RecordBatch]]: ...
    def bytes_read(self) -> int: ...
    def correlation(self) -> Optional[str]: ...
    def points(self) -> Optional[str]: ...
    def errors(self) -> List[Tuple[str, str, Optional[int], int]]: ...
    def warnings(self) -> List[str]: ...
    def frames(self) -> int: ...
    def stopped(self) -> Optional[str]: ...

def run(
    tables: Sequence[str],
    paths: Sequence[str],
    *,
    points: Sequence[Tuple[str, str, Optional[str]]] = ...,
    series: Sequence[Tuple[str, Sequence[str]]] = ...,
    clock_offsets: Sequence[Tuple[str, int]] = ...,
    order: str = "time",
    filter: Optional[str] = None,
    inner: Optional[str] = None,
    count: Optional[int] = None,
    start: Optional[str] = None,
    end: Optional[str] = None,
    threads: int = 0,
    nat: bool = False,
    decode_as: Sequence[Tuple[int, str]] = ...,
    max_flows: Optional[int] = None,
    flow_timeout_s: Optional[int] = None,
    batch_rows: int = 0,
) -> Run: ...
def table_schema(name: str) -> pa.Schema: ...

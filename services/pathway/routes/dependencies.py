"""The one dependency of the pathway's episode routes: who calls (a reader, `access.READERS`), with the store
and the clock the handlers' queries need."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from services.pathway import access
from services.pathway.store import PathwayStore
from shared.auth import Caller, allow
from shared.clock import Clock
from shared.service import RuntimeDep


@dataclass(frozen=True)
class Reader:
    caller: Caller
    store: PathwayStore
    clock: Clock


async def reader(runtime: RuntimeDep, caller: Annotated[Caller, allow(*access.READERS)]) -> Reader:
    # async: a plain def would run in a worker thread
    return Reader(caller, PathwayStore(runtime.pool, runtime.store), runtime.clock)


ReaderDep = Annotated[Reader, Depends(reader)]

"""Work that blocks (the AT SDK's HTTP call, database reads), run off the event loop.

The service answers every request on one event loop per worker process. A call that waits
on a socket or a disk without awaiting would stop that loop, and every other request of the
process with it, so it runs on a small pool of threads (``VOICE_THREADS`` per process).
Webhook writes do not come here: they go to the event store's own writer
(``store/commit_queue.py``).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

ParamsT = ParamSpec("ParamsT")
ResultT = TypeVar("ResultT")

DEFAULT_THREADS = 16


class BlockingCalls:
    """A bounded pool of threads, awaited from the loop."""

    def __init__(self, threads: int = DEFAULT_THREADS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="voice-blocking")

    async def run(
        self, function: Callable[ParamsT, ResultT], *args: ParamsT.args, **kwargs: ParamsT.kwargs
    ) -> ResultT:
        """``function(*args, **kwargs)`` on a pool thread; its result or its exception."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, functools.partial(function, *args, **kwargs))

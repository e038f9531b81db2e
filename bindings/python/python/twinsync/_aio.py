"""The asyncio side of `Watch` (`async for note in project.watch()`, `async with`).

Waiting for a note takes no thread and does not block the event loop: when the channel
is empty, the coroutine leaves the watch a waker and awaits a future; the watch thread
calls the waker when it delivers a note (and `stop()` when the watch ends), which
resolves the future on the loop's own thread. A cancelled wait loses nothing: the note
stays in the channel for the next `__anext__`.
"""

import asyncio
from typing import Any, Dict

from ._twinsync import Watch

# How long a waiting iterator sleeps before looking again should a wake-up never come
# (a watch thread that died without being stopped): a safety net, not the way notes arrive.
_RECHECK_S = 1.0


def _resolve(woken: "asyncio.Future[None]") -> None:
    if not woken.done():
        woken.set_result(None)


async def next_note(watch: Watch) -> Dict[str, Any]:
    loop = asyncio.get_running_loop()
    while True:
        note = watch._try_next()
        if note is not None:
            return note
        woken: "asyncio.Future[None]" = loop.create_future()

        def wake() -> None:
            try:
                loop.call_soon_threadsafe(_resolve, woken)
            except RuntimeError:
                # The loop closed meanwhile: nobody is waiting any more.
                pass

        watch._set_waker(wake)
        try:
            # A note may have come between the first look and leaving the waker.
            note = watch._try_next()
            if note is not None:
                return note
            await asyncio.wait({woken}, timeout=_RECHECK_S)
        finally:
            watch._set_waker(None)


async def aenter(watch: Watch) -> Watch:
    return watch


async def aexit(watch: Watch) -> bool:
    await asyncio.to_thread(watch.stop)
    return False

"""A trivial voice app that keeps calls live, for load tests: thousands of connections, no work.

An asyncio HTTP/1.1 server (keep-alive, one event loop) answering every POST at once, by path:

- ``/hold``: keeps the call in the flow, chosen by the caller's number so a batch mixes
  them: ``GetDigits`` waiting an hour for four keys, ``Record`` of up to an hour, or ``Dial``
  to an agent (the simulator's callee scripts decide how long people stay);
- ``/getdigits``: always the GetDigits;
- ``/say``: a short Say, then the call ends normally;
- ``/hang``: reads the request and never answers (until the app stops);
- anything else (events URLs): ``OK``.

It counts what it received (first requests, final requests, per path), so a test can tell how
many calls reached the flow and whether anything was sent after a reset. Run it in a thread
(:class:`HoldingApp`, a context manager) or as a process:
``python -m tests.simulator.holding_app`` prints its URL and serves until SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import threading
from collections import Counter
from urllib.parse import parse_qsl, urlsplit

from tests.simulator.misbehaving_apps import request_target_and_length

AGENT = "+254711082999"
PROLOGUE = '<?xml version="1.0" encoding="UTF-8"?><Response>'
GET_DIGITS = (
    PROLOGUE + '<GetDigits numDigits="4" timeout="3600" finishOnKey="#">'
    "<Say>Please enter your four digit PIN, then press hash.</Say></GetDigits></Response>"
)
RECORD = (
    PROLOGUE + "<Say>Please leave your message after the beep.</Say>"
    '<Record maxLength="3600" timeout="3600" finishOnKey="#" playBeep="true"/></Response>'
)
DIAL = PROLOGUE + f'<Dial phoneNumbers="{AGENT}" record="false"/></Response>'
SAY = PROLOGUE + "<Say>Thank you for calling. Goodbye.</Say></Response>"
HOLDS = (GET_DIGITS, RECORD, DIAL)
START_TIMEOUT_SECONDS = 10.0
MAX_HEAD_BYTES = 64 * 1024


def hold_answer(caller_number: str) -> str:
    """GetDigits, Record or Dial, by the caller's last digit."""
    last = caller_number[-1:] or "0"
    return HOLDS[int(last) % len(HOLDS) if last.isdigit() else 0]


class HoldingApp:
    """The app on a loopback port, served from its own thread and event loop."""

    def __init__(self) -> None:
        self.first_requests = 0
        self.final_requests = 0
        self.by_path: Counter[str] = Counter()
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._stopped: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> HoldingApp:
        ready = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._serve(ready)), name="holding-app", daemon=True
        )
        self._thread.start()
        if not ready.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError("the holding app did not start")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._loop is not None and self._stopped is not None:
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(timeout=START_TIMEOUT_SECONDS)

    async def _serve(self, ready: threading.Event | None = None, port: int = 0) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", port, backlog=4096)
        host, bound = self._server.sockets[0].getsockname()[:2]
        self.url = f"http://{host}:{bound}"
        if ready is not None:
            ready.set()
        async with self._server:
            await self._stopped.wait()
            self._server.close()
            # Hanging handlers wait on _stopped too; give them a moment to close their sockets.
            await asyncio.sleep(0)

    def stop_soon(self) -> None:
        """Stop serving (from the app's own loop, e.g. a signal handler)."""
        if self._stopped is not None:
            self._stopped.set()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                path, form = request
                self.by_path[path] += 1
                if _is_callback(path) and form.get("isActive") == "0":
                    self.final_requests += 1
                elif _is_callback(path) and "dtmfDigits" not in form:
                    self.first_requests += 1
                if path.endswith("/hang"):
                    assert self._stopped is not None
                    await self._stopped.wait()
                    return
                writer.write(_answer(path, form))
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
            return
        finally:
            writer.close()


CALLBACK_PATHS = ("/hold", "/getdigits", "/say", "/hang")


def _is_callback(path: str) -> bool:
    return path.endswith(CALLBACK_PATHS)


def _answer(path: str, form: dict[str, str]) -> bytes:
    body, content_type = "OK", "text/plain"
    if form.get("isActive") == "0" or not _is_callback(path):
        pass
    elif path.endswith("/getdigits"):
        body, content_type = GET_DIGITS, "application/xml"
    elif path.endswith("/say"):
        body, content_type = SAY, "application/xml"
    else:
        body, content_type = hold_answer(form.get("callerNumber", "")), "application/xml"
    data = body.encode()
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(data)}\r\n\r\n"
    return head.encode() + data


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, dict[str, str]] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        raise ValueError("request head too large") from None
    target, length = request_target_and_length(head)
    body = await reader.readexactly(length) if length else b""
    return urlsplit(target).path, dict(parse_qsl(body.decode("utf-8", "replace")))


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT; print the URL first (for a parent process to read)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args(argv)
    app = HoldingApp()

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        for stop in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(stop, app.stop_soon)
        task = asyncio.create_task(app._serve(port=options.port))
        while not app.url and not task.done():
            await asyncio.sleep(0.01)
        print(app.url, flush=True)
        await task

    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())

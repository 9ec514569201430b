"""A Procrastinate worker in a thread of its own, with its own event loop: started once it is connected
(and has done its start-up work), stopped gracefully (the job in hand finishes first).

The jobs worker (`queue_pg.ProcrastinateWorker`) and the periodic rounds (`rounds_pg.ProcrastinateRounds`)
differ only in their app, their start-up work and their worker's options; the thread's life is here once.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
from typing import Any, Generic, TypeVar

from procrastinate import App

T = TypeVar("T")

START_TIMEOUT_S = 60.0
"""Seconds `start` waits for the worker to connect and finish its start-up work."""


class WorkerThread(Generic[T]):
    """Subclasses say what app to run (`app`), what to do before the worker starts (`prepare`, whose
    result `start` returns) and how the worker runs (`worker_options`)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None

    def app(self) -> App:
        raise NotImplementedError

    async def prepare(self, app: App) -> T:
        """Start-up work on the open app, before the worker fetches a job (an error stops the start)."""
        raise NotImplementedError

    def worker_options(self) -> dict[str, Any]:
        """Keyword arguments of `App.run_worker_async` besides the name and the signal handlers."""
        raise NotImplementedError

    def start_thread(self) -> T:
        """Start the thread; returns `prepare`'s result once the worker runs (raises if it cannot)."""
        ready: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._main, args=(ready,), name=self.name, daemon=True)
        self._thread.start()
        return ready.result(timeout=START_TIMEOUT_S)

    def stop(self, timeout: float = 30.0) -> None:
        """Let the job in hand finish (Procrastinate's graceful stop), then end the thread."""
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        if self._thread is not None:
            self._thread.join(timeout)

    def _main(self, ready: concurrent.futures.Future[T]) -> None:
        with asyncio.Runner() as runner:
            runner.run(self._serve(ready))

    async def _serve(self, ready: concurrent.futures.Future[T]) -> None:
        try:
            app = self.app()
            await app.open_async()
        except Exception as exc:
            ready.set_exception(exc)
            return
        try:
            try:
                prepared = await self.prepare(app)
            except Exception as exc:
                ready.set_exception(exc)
                return
            self._loop = asyncio.get_running_loop()
            self._task = asyncio.create_task(
                app.run_worker_async(name=self.name, install_signal_handlers=False, **self.worker_options())
            )
            ready.set_result(prepared)
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        finally:
            await app.close_async()

"""Progress display, always drawn from the caller's thread (ipykernel routes display output
reliably only from there). The run posts outcome events; ``drain`` draws them."""

from __future__ import annotations

import queue
from collections import Counter
from types import TracebackType
from typing import Any

__all__ = ["LiveView", "Progress"]


class Progress:
    """A tqdm bar (``tqdm.auto``: a widget in Jupyter, text elsewhere) with live counts.

    ``progress`` is True (tqdm.auto), False (nothing) or a tqdm-compatible class.
    """

    def __init__(self, total: int, desc: str, progress: Any = True, **tqdm_kwargs: Any) -> None:
        self.counts: Counter[str] = Counter()
        self.bar: Any = None
        if progress:
            self.bar = _bar_class(progress)(total=total, desc=desc, unit="row", **tqdm_kwargs)

    def update(self, outcome: str, n: int = 1) -> None:
        self.counts[outcome] += n
        self.show(self.counts, n)

    def show(self, counts: Counter[str], advance: int) -> None:
        """Draw ``counts`` as the bar's postfix and move it ``advance`` steps."""
        self.counts = counts
        if self.bar is not None:
            self.bar.set_postfix(dict(sorted(counts.items())), refresh=False)
            self.bar.update(advance)

    def phase(self, desc: str, total: int) -> None:
        """Start the next phase on the same bar (launch, then wait: one display)."""
        self.counts = Counter()
        if self.bar is not None:
            self.bar.reset(total=total)
            self.bar.set_description(desc)

    def drain(self, events: queue.SimpleQueue[str]) -> None:
        """Draw every event posted so far (called between waits on the caller's thread)."""
        batch: Counter[str] = Counter()
        while True:
            try:
                batch[events.get_nowait()] += 1
            except queue.Empty:
                break
        for outcome, n in batch.items():
            self.update(outcome, n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _bar_class(progress: Any) -> Any:
    if progress is True:
        from tqdm.auto import tqdm

        return tqdm
    return progress


class LiveView:
    """Following jobs: a bar of finished jobs with counts per status, plus, in Jupyter, a
    compact table (counts per status, latest changes) redrawn at most once a second."""

    def __init__(
        self,
        total: int,
        progress: Any = True,
        *,
        interval: float = 1.0,
        bar: Progress | None = None,
    ) -> None:
        self._own_bar = bar is None
        if bar is None:
            bar = Progress(total, "wait", progress)
        else:
            bar.phase("wait", total)
        self.bar = bar
        self.statuses: dict[int, str | None] = {}  # by row: a tenant may be in two flows
        self.recent: list[tuple[str, str | None]] = []
        self.interval = interval
        self._drawn = 0.0
        self._handle: Any = _display_handle() if progress else None

    def event(self, row: int, tenant: str, status: str | None) -> None:
        from ._models import is_terminal

        newly_done = is_terminal(status) and not is_terminal(self.statuses.get(row))
        self.statuses[row] = status
        self.recent = [*self.recent[-7:], (tenant, status)]
        self.bar.show(Counter(s or "?" for s in self.statuses.values()), int(newly_done))
        self._maybe_draw()

    def drain(self, events: queue.SimpleQueue[tuple[int, str, str | None]]) -> None:
        while True:
            try:
                self.event(*events.get_nowait())
            except queue.Empty:
                return

    def _maybe_draw(self, force: bool = False) -> None:
        import time

        if self._handle is None or (not force and time.monotonic() - self._drawn < self.interval):
            return
        self._drawn = time.monotonic()
        self._handle.update(self.table())

    def table(self) -> Any:
        import pandas as pd

        counts = Counter(s or "?" for s in self.statuses.values())
        rows = [{"status": s, "jobs": n} for s, n in sorted(counts.items())]
        latest = ", ".join(f"{t}: {s}" for t, s in self.recent[-5:])
        frame = pd.DataFrame(rows, columns=["status", "jobs"])
        return frame.set_index("status").T.assign(latest=latest)

    def close(self) -> None:
        self._maybe_draw(force=True)
        if self._own_bar:
            self.bar.close()


def _display_handle() -> Any:
    """A display handle when running in a Jupyter kernel, else None (scripts use the bar)."""
    import sys

    if "ipykernel" not in sys.modules:
        return None
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or not hasattr(shell, "kernel"):
        return None
    return display({"text/plain": "waiting for jobs..."}, raw=True, display_id=True)  # type: ignore[no-untyped-call]

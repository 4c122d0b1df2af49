"""Progress display for every fan-out, fed by one kind of event (``_fanout.Event``).

Always drawn from the caller's thread (ipykernel routes display output reliably only from
there): a blocking call posts events to a queue and ``drain`` draws them between waits; an
async call draws each event as it comes.
"""

from __future__ import annotations

import queue
import sys
import time
from collections import Counter
from types import TracebackType
from typing import Any

from ._fanout import Event
from ._types import ProgressChoice

__all__ = ["Progress"]

TABLE_INTERVAL = 0.25  # seconds between redraws of the live table
SHOWN = 5  # statuses shown on the bar itself (the live table has them all)


class Progress:
    """A tqdm bar (``tqdm.auto``: a widget in Jupyter, text elsewhere) with live counts of
    each row's latest outcome or status; for a wait phase in Jupyter also a compact table
    (counts per status, latest changes) redrawn at most once a second.

    ``progress`` is True (tqdm.auto), False (nothing) or a tqdm-compatible class. One
    Progress serves consecutive phases (launch, then wait) on one bar.
    """

    def __init__(self, progress: ProgressChoice = True) -> None:
        self._make = (_tqdm() if progress is True else progress) if progress else None
        self._jupyter = progress is True and _in_kernel()
        self._bar_handle: Any = None  # Jupyter: the bar's output, replaced by text at the end
        self.bar: Any = None
        self.counts: Counter[str] = Counter()
        self._values: dict[int, str] = {}
        self._done: set[int] = set()
        self._recent: list[str] = []
        self._handle: Any = None
        self._drawn = 0.0

    def phase(self, desc: str, total: int, *, table: bool = False) -> Progress:
        """Start a phase: counts restart, the bar is reset (or created)."""
        self.counts, self._values, self._done, self._recent = Counter(), {}, set(), []
        self._desc, self._started = desc, time.monotonic()
        if self._make is not None and self.bar is None:
            self.bar = self._new_bar(total, desc)
        elif self.bar is not None:
            self.bar.reset(total=total)
            self.bar.set_description(desc)
        if table and self._make is not None:
            self._handle = _display_handle()
        return self

    def event(self, event: Event, *, draw: bool = True) -> None:
        """Count one row's new value; advance the bar when the row is newly over."""
        if self._make is None:
            return  # nothing is shown: keep no per-row state
        label = event.value or "?"
        old = self._values.get(event.row)
        if old is not None:
            self.counts[old] -= 1
            if not self.counts[old]:
                del self.counts[old]
        self._values[event.row] = label
        self.counts[label] += 1
        advance = event.done and event.row not in self._done
        if advance:
            self._done.add(event.row)
        if self._handle is not None:
            self._recent = [*self._recent[-4:], f"{event.tenant}: {label}"]
        if draw:
            self._draw(int(advance))

    def drain(self, events: queue.SimpleQueue[Event]) -> None:
        """Draw every event posted so far (called between waits on the caller's thread)."""
        before = len(self._done)
        while True:
            try:
                self.event(events.get_nowait(), draw=False)
            except queue.Empty:
                break
        self._draw(len(self._done) - before)

    def _new_bar(self, total: int, desc: str) -> Any:
        if not self._jupyter:
            return self._make(total=total, desc=desc, unit="row")  # type: ignore[misc]
        from tqdm.notebook import tqdm as notebook_bar

        bar = notebook_bar(total=total, desc=desc, unit="row", display=False)
        self._bar_handle = _display(bar.container, display_id=True)
        return bar

    def _draw(self, advance: int) -> None:
        if self.bar is not None:
            self.bar.set_postfix(_short(self.counts), refresh=False)
            self.bar.update(advance)
        if self._handle is not None and time.monotonic() - self._drawn >= TABLE_INTERVAL:
            self._draw_table()

    def _draw_table(self) -> None:
        import pandas as pd

        self._drawn = time.monotonic()
        frame = pd.DataFrame([dict(sorted(self.counts.items()))], index=["jobs"])
        self._handle.update(frame.assign(latest=", ".join(self._recent)))

    def close(self) -> None:
        if self._handle is not None:
            self._draw_table()
        if self.bar is not None:
            self.bar.close()
        if self._bar_handle is not None:  # a saved notebook keeps text, not a dead widget
            self._bar_handle.update(_html(self._summary()))
            self.bar.container.close()

    def _summary(self) -> str:
        done = self.bar.n if self.bar is not None else len(self._done)
        total = (self.bar.total if self.bar is not None else 0) or done  # 0: not known ahead
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(self.counts.items())) or "nothing"
        took = time.monotonic() - self._started
        return (f"<div class='hg-progress-summary'><b>{self._desc}</b> {done}/{total} rows in "
                f"{took:.1f} s &middot; {counts}</div>")  # fmt: skip

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _tqdm() -> Any:
    from tqdm.auto import tqdm

    return tqdm


def _short(counts: Counter[str]) -> dict[str, int]:
    """The bar's postfix: a few statuses, short names (long text is cut at the edge)."""
    top = sorted(counts.items(), key=lambda item: -item[1])[:SHOWN]
    return {name.removeprefix("JOB_").lower(): n for name, n in sorted(top)}


def _in_kernel() -> bool:
    if "ipykernel" not in sys.modules:
        return False
    try:
        import IPython
    except ImportError:
        return False
    ipython: Any = IPython  # typed differently across IPython releases
    shell = ipython.get_ipython()
    return shell is not None and hasattr(shell, "kernel")


def _display(obj: Any, **kwargs: Any) -> Any:
    from IPython import display

    show: Any = display.display
    return show(obj, **kwargs)


def _html(text: str) -> Any:
    from IPython import display

    shown: Any = display
    return shown.HTML(text)


def _display_handle() -> Any:
    """A display handle when running in a Jupyter kernel, else None (scripts use the bar)."""
    if not _in_kernel():
        return None
    return _display({"text/plain": "waiting for jobs..."}, raw=True, display_id=True)

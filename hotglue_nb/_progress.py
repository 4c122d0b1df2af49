"""Progress display, always drawn from the caller's thread (ipykernel routes display output
reliably only from there). The run posts outcome events; ``drain`` draws them."""

from __future__ import annotations

import queue
from collections import Counter
from types import TracebackType
from typing import Any

__all__ = ["Progress"]


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
        if self.bar is not None:
            self.bar.set_postfix(dict(sorted(self.counts.items())), refresh=False)
            self.bar.update(n)

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

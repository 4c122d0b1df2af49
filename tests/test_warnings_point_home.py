"""A warning points at the user's own line, never into the package: in a notebook it is
shown as "<cell>:3: HotglueWarning: ...", not as a path inside hotglue_nb (the fleet read
builds its frame on the loop's thread, where no user line exists)."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox


@pytest.fixture(scope="module")
def sb() -> sandbox.Sandbox:
    with sandbox.serve(sandbox.demo_world(0, tenants=12), history_days=10) as running:
        yield running  # type: ignore[misc]


def caught(call: object) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        call()  # type: ignore[operator]
    return [w for w in seen if issubclass(w.category, hg.HotglueWarning)]


def test_a_cut_short_history_warns_at_the_callers_line(sb: sandbox.Sandbox) -> None:
    seen = caught(lambda: hg.job_history(sb.flow_id, since="30d", progress=False,
                                         **sb.credentials))  # fmt: skip
    assert len(seen) == 1 and "cut short" in str(seen[0].message)
    assert seen[0].filename == __file__, seen[0].filename


def test_the_async_read_warns_at_the_awaiting_line(sb: sandbox.Sandbox) -> None:
    async def read() -> pd.DataFrame:
        return await hg.aio.job_history(sb.flow_id, since="30d", progress=False,
                                        **sb.credentials)  # fmt: skip

    seen = caught(lambda: asyncio.run(read()))
    assert len(seen) == 1 and seen[0].filename == __file__, [w.filename for w in seen]


def test_the_note_does_not_stay_on_the_frame(sb: sandbox.Sandbox) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", hg.HotglueWarning)
        history = hg.job_history(sb.flow_id, since="30d", progress=False, **sb.credentials)
    assert "cut_short" not in history.attrs
    assert caught(lambda: hg.fleet_health(history)) == []  # said once, by the read


def test_skipped_rows_of_a_sheet_warn_at_the_callers_line(tmp_path: Path) -> None:
    sheet = tmp_path / "t.csv"
    pd.DataFrame({"tenant": ["acme", "", "globex"], "flow_id": ["", "x", ""]}).to_csv(
        sheet, index=False)  # fmt: skip
    seen = caught(lambda: hg.read_tenants(sheet, on_invalid="skip"))
    assert len(seen) == 1 and seen[0].filename == __file__, [w.filename for w in seen]

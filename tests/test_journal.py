"""The run journal: durable records, reading back, torn lines, where journals live."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import hotglue_nb as hg
from hotglue_nb._journal import (
    Journal,
    default_path,
    find_journal,
    launch_journal_path,
    read_journal,
    wait_journal_path,
)


def write(path: Path, *records: dict[str, object]) -> None:
    async def go() -> None:
        journal = Journal(path)
        for record in records:
            await journal.durable(record)
        journal.later({"kind": "outcome", "row": 9, "tenant": "late"})
        await journal.aclose()

    asyncio.run(go())


def test_records_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "run.jsonl"
    write(
        path,
        {"kind": "run", "run_id": "r1", "flow_id": "f"},
        {"kind": "intent", "row": 0, "tenant": "a", "job_name": "n0"},
        {"kind": "intent", "row": 0, "tenant": "a", "job_name": "n0"},
        {"kind": "outcome", "row": 0, "tenant": "a", "outcome": "created"},
        {"kind": "status", "row": 0, "tenant": "a", "status": "JOB_COMPLETED"},
    )
    state = read_journal(path)
    assert state.run_id == "r1" and len(state.intents[0]) == 2
    assert state.outcomes[0]["outcome"] == "created" and state.outcomes[9]["tenant"] == "late"
    assert state.statuses[0]["status"] == "JOB_COMPLETED"


def test_a_torn_last_line_is_ignored_but_not_a_torn_middle(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    head = json.dumps({"kind": "run", "run_id": "r1"}) + "\n"
    path.write_text(head + '{"kind": "inte')
    assert read_journal(path).intents == {}
    path.write_text(head + '{"kind": "inte\n' + head)
    with pytest.raises(hg.ConfigError, match=":2 is not a journal record"):
        read_journal(path)


@pytest.mark.parametrize(
    "text,message",
    [
        pytest.param("", "is empty", id="empty"),
        pytest.param('{"kind": "intent", "row": 0}\n', "does not start with a run", id="headless"),
    ],
)
def test_not_a_journal(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "x.jsonl"
    path.write_text(text)
    with pytest.raises(hg.ConfigError, match=message):
        read_journal(path)


def test_where_journals_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert default_path("r1") == Path("hotglue-runs/r1.jsonl")
    assert launch_journal_path(True, None, "r1") == default_path("r1")
    assert launch_journal_path(None, None, "r1") is None
    assert launch_journal_path(tmp_path / "j.jsonl", None, "r1") == tmp_path / "j.jsonl"
    assert wait_journal_path(None, None, ["r1"]) is None  # the default does not exist yet
    default_path("r1").parent.mkdir()
    default_path("r1").write_text("{}")
    assert wait_journal_path(None, None, ["r1"]) == default_path("r1")
    assert wait_journal_path(None, None, ["r1", "r2"]) is None  # two runs: no guess
    assert wait_journal_path("given.jsonl", "hint", ["r1"]) == Path("given.jsonl")
    assert find_journal("r1") == default_path("r1")
    with pytest.raises(hg.ConfigError, match="No journal"):
        find_journal("r2")


def test_a_write_failure_settles_every_waiter_and_never_raises_on_close(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {"n": 0}
    real = Journal._write

    def failing(self: Journal, lines: list[bytes]) -> None:
        calls["n"] += 1
        if calls["n"] >= 2:
            raise OSError(28, "No space left on device")
        real(self, lines)

    monkeypatch.setattr(Journal, "_write", failing)

    async def go() -> tuple[list[object], Journal]:
        journal = Journal(tmp_path / "run.jsonl")
        await journal.durable({"kind": "run", "run_id": "r1"})
        waiters = [journal.durable({"kind": "intent", "row": i}) for i in range(5)]
        journal.later({"kind": "outcome", "row": 0})
        results = await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True), 5)
        journal.later({"kind": "outcome", "row": 1})  # after the failure: dropped, no raise
        await journal.aclose()
        return list(results), journal

    results, journal = asyncio.run(go())
    assert all(isinstance(r, hg.JournalError) for r in results)  # nobody hangs
    assert journal.error is not None and "No space left" in str(journal.error)
    assert read_journal(tmp_path / "run.jsonl").run_id == "r1"

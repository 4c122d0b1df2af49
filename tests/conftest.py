from __future__ import annotations

import pytest

from hotglue_nb._config import ENV_API_KEY, ENV_BASE_URL, ENV_ENV_ID


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real credentials."""
    for var in (ENV_API_KEY, ENV_ENV_ID, ENV_BASE_URL):
        monkeypatch.delenv(var, raising=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow browser tests last, after every fast test has had its say."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)

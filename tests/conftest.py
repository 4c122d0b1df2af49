from __future__ import annotations

import pytest

from hotglue_nb._config import ENV_API_KEY, ENV_BASE_URL, ENV_ENV_ID, ENV_TRANSPORT


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No test sees the developer's real credentials."""
    for var in (ENV_API_KEY, ENV_ENV_ID, ENV_BASE_URL, ENV_TRANSPORT):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(params=["aiohttp", "httpx"])
def both_transports(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test once per transport (fault-injection tests must hold on both)."""
    monkeypatch.setenv(ENV_TRANSPORT, request.param)
    return str(request.param)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow browser tests last, after every fast test has had its say."""
    items.sort(key=lambda item: "tests/browser/" in item.nodeid)

import subprocess
import sys

import hotglue_nb


def test_all_is_sorted_and_public() -> None:
    assert hotglue_nb.__all__ == sorted(hotglue_nb.__all__)
    for name in hotglue_nb.__all__:
        assert hasattr(hotglue_nb, name), name


def test_import_is_light() -> None:
    code = (
        "import sys, hotglue_nb; "
        "heavy = ('ipywidgets', 'anywidget', 'starlette', 'uvicorn', 'aiohttp'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_lazy_modules_and_unknown_attribute() -> None:
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        hotglue_nb.nope  # noqa: B018

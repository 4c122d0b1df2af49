from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

import hotglue_nb as hg


def workbook(path: Path, rows: list[list[Any]], sheet: str = "Sheet") -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def test_ids_stay_text(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "t.xlsx",
        [["Tenant"], ["0012598713"], [12598714], [12598715.0], ["  acme  "], ["00042"]],
    )
    df = hg.read_tenants(path)
    assert list(df.tenant) == ["0012598713", "12598714", "12598715", "acme", "00042"]
    assert df.tenant.dtype == "string"
    assert list(df.index) == [2, 3, 4, 5, 6] and df.index.name == "row"


def test_csv_written_from_a_float_column(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("tenant_id\n12598713.0\n0042\n\n  beta \n")
    df = hg.read_tenants(path)
    assert list(df.tenant) == ["12598713", "0042", "beta"]
    assert list(df.index) == [2, 3, 5]  # the blank line 4 is ignored, numbering kept


@pytest.mark.parametrize("header", ["Tenant", "tenant_id", "Tenant ID", " TENANT-ID "])
def test_header_aliases(tmp_path: Path, header: str) -> None:
    path = tmp_path / "t.csv"
    path.write_text(f"{header},Flow,Environment\nacme,f1,env.x\n")
    df = hg.read_tenants(path)
    assert list(df.columns) == ["tenant", "flow_id", "env_id"]


def test_tenant_column_argument(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("customer,tenant\nacme,ignored\n")
    df = hg.read_tenants(path, tenant_column="customer")
    assert list(df.tenant) == ["acme"] and list(df.tenant_original) == ["ignored"]


FIELD_MAP = '{"Account": {"name": "Account", "selected": ["*"]}}'


def test_body_columns_are_parsed(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "t.xlsx",
        [
            ["tenant", "override_start_date", "reset_source_state", "override_field_map", "Notes"],
            ["a", dt.datetime(2024, 1, 31), True, FIELD_MAP, "vip"],
            ["b", "2024-02-01", "no", None, None],
            ["c", "2024-02-01T10:00:00+02:00", "TRUE", None, None],
        ],
    )  # fmt: skip
    df = hg.read_tenants(path)
    assert df.override_start_date.tolist() == [
        pd.Timestamp("2024-01-31", tz="UTC"),
        pd.Timestamp("2024-02-01", tz="UTC"),
        pd.Timestamp("2024-02-01 08:00", tz="UTC"),
    ]
    assert df.reset_source_state.tolist() == [True, False, True]
    assert df.override_field_map.iloc[0] == {"Account": {"name": "Account", "selected": ["*"]}}
    assert df.Notes.iloc[0] == "vip"  # the user's own columns are kept


def test_every_problem_with_spreadsheet_rows(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "t.xlsx",
        [
            ["tenant", "flow_id", "override_start_date", "state", "streaming_job"],
            ["a", "f", "01/02/2024", None, None],
            [None, "f", None, None, None],
            [None, None, None, None, None],
            ["b", "f", "2024-02-30", "{bad", "maybe"],
            ["a", "f", None, None, None],
        ],
    )
    with pytest.raises(hg.TenantsFileError) as info:
        hg.read_tenants(path)
    text = str(info.value)
    assert "row 2: column 'override_start_date': '01/02/2024' is not an unambiguous date" in text
    assert "row 3: column 'tenant': blank tenant id" in text
    assert "row 4" not in text  # blank line ignored
    assert "row 5: column 'override_start_date': '2024-02-30' is not a valid date" in text
    assert "row 5: column 'state'" in text and "not valid JSON" in text
    assert "row 5: column 'streaming_job': 'maybe' is not TRUE/FALSE" in text
    assert "row 6: duplicate of row 2" in text
    assert len(info.value.problems) == 6
    assert isinstance(info.value, hg.HotglueError)


def test_skip_drops_bad_rows_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("tenant,override_start_date\na,2024-01-01\nb,13/13/2024\nc,\n")
    with pytest.warns(hg.HotglueWarning, match="skipped 1 bad row.*row 3"):
        df = hg.read_tenants(path, on_invalid="skip")
    assert list(df.tenant) == ["a", "c"]


def test_misspelt_column_and_missing_tenant(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("tenant,overide_start_date\na,2024-01-01\n")
    with pytest.raises(hg.TenantsFileError, match="looks like a misspelt 'override_start_date'"):
        hg.read_tenants(path)
    path.write_text("customer\na\n")
    with pytest.raises(hg.TenantsFileError, match="no tenant column.*'customer'"):
        hg.read_tenants(path)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(hg.TenantsFileError, match="No such file"):
        hg.read_tenants(tmp_path / "missing.xlsx")
    with pytest.raises(hg.TenantsFileError, match=".csv, .xlsx or .ods"):
        hg.read_tenants(tmp_path / "tenants.json")
    bad = tmp_path / "broken.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(hg.TenantsFileError, match="broken.xlsx"):
        hg.read_tenants(bad)
    path = workbook(tmp_path / "s.xlsx", [["tenant"], ["a"]], sheet="tenants")
    with pytest.raises(hg.TenantsFileError, match="sheet"):
        hg.read_tenants(path, sheet="nope")
    assert list(hg.read_tenants(path, sheet="tenants").tenant) == ["a"]
    with pytest.raises(hg.ConfigError, match="on_invalid"):
        hg.read_tenants(path, on_invalid="drop")


def test_buffers(tmp_path: Path) -> None:
    path = workbook(tmp_path / "t.xlsx", [["tenant"], ["007"]])
    assert list(hg.read_tenants(io.BytesIO(path.read_bytes())).tenant) == ["007"]
    assert list(hg.read_tenants(io.StringIO("tenant\n007\n")).tenant) == ["007"]


def test_shipped_demo_workbook() -> None:
    from hotglue_nb._demo import demo_workbook

    df = hg.read_tenants(demo_workbook())
    assert len(df) == 200 and df.tenant.str.startswith("00").any()
    assert df.override_start_date.notna().sum() > 50


def test_read_then_launch_dry_run(tmp_path: Path) -> None:
    path = workbook(
        tmp_path / "t.xlsx",
        [["Tenant ID", "override_start_date", "reset_source_state"],
         ["0042", dt.datetime(2024, 3, 1), True], ["0043", None, None]],
    )  # fmt: skip
    tenants = hg.read_tenants(path)
    out = hg.launch_jobs(tenants, flow_id="f", env_id="e", dry_run=True, progress=False)
    assert list(out.index) == [2, 3]
    assert '"override_start_date": "2024-03-01T00:00:00.000Z"' in out.request.iloc[0]
    assert "reset_source_state" not in out.request.iloc[1]


# --- issue #12: items 15 and 16 -------------------------------------------------------------------


def test_numeric_ids_beyond_2_53_are_reported_with_their_row(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "big.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["tenant"])
    sheet.append([12598713])  # fine as a number
    sheet.append([12345678901234567890])  # beyond 2**53: a float cannot hold it
    sheet.append([2.0**60])
    book.save(path)
    with pytest.raises(hg.TenantsFileError) as info:
        hg.read_tenants(path)
    problems = info.value.problems
    assert (
        len(problems) == 2
        and problems[0].startswith("row 3:")
        and "store ids as text" in problems[0]
    )
    assert problems[1].startswith("row 4:")


def test_formula_cells_without_a_saved_value_are_reported_never_dropped(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "script.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["tenant", "tap"])
    sheet.append(["acme", "hubspot"])
    sheet.append(['=CONCAT("glo", "bex")'])  # a formula no spreadsheet has computed yet
    sheet.append(["initech", "=A2"])
    book.save(path)
    with pytest.raises(hg.TenantsFileError) as info:
        hg.read_tenants(path)
    text = "\n".join(info.value.problems)
    assert "row 3: column 'tenant': a formula without a saved value" in text
    assert "row 4: column 'tap': a formula without a saved value" in text
    with pytest.warns(hg.HotglueWarning, match="row 3"):
        kept = hg.read_tenants(path, on_invalid="skip")
    assert list(kept.tenant) == ["acme"]  # every other row is in the warning, by number

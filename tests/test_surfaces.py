"""The promises on the surfaces built since the launch core: fleet frames, the fleet loop on
a two-way flow, time zones (issue #22's hostile pass, one test per finding)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pandas as pd
import pytest

import hotglue_nb as hg
from hotglue_nb import sandbox

ENV = "prod.hg.example.com"


def mock_client(handler: Any) -> hg.AsyncHotglue:
    return hg.AsyncHotglue(api_key="k", env_id=ENV, transport=httpx.MockTransport(handler))


def job(tenant: str, n: int, **extra: Any) -> dict[str, Any]:
    return {
        "job_id": f"j{n}", "job_name": f"job{n}", "tenant": tenant, "flow_id": "F",
        "env_id": ENV, "s3_root": f"{ENV}/F/{tenant}/jobs/2026/{n}", "status": "JOB_COMPLETED",
        "start_time": f"2026-11-2{n}T10:00:00+00:00",
        "last_updated": f"2026-11-2{n}T10:05:00+00:00", **extra,
    }  # fmt: skip


def lists(jobs: dict[str, list[dict[str, Any]]]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        tenant = request.url.path.split("/")[3]
        if tenant not in jobs:
            return httpx.Response(404, json={"message": "Tenant not found"})
        if request.url.path.endswith("/jobs"):
            return httpx.Response(200, json=jobs.get(tenant, []))
        if request.url.path.endswith("/jobs/latest"):
            return httpx.Response(200, json=(jobs.get(tenant) or [{}])[-1])
        if request.url.path.endswith("/linkedSources"):
            return httpx.Response(200, json=[{"tap": "api", "fieldMap": {}}])
        return httpx.Response(404, json={"message": "no"})

    return handler


# 5 (and #23's concat / merge): frames with plain attrs ------------------------------------


def test_fleet_frames_filter_concat_merge_and_retry_like_any_frame() -> None:
    jobs = {"a": [job("a", 1), job("a", 2, status="EXPORT_FAILED")], "b": [job("b", 3)]}
    client = mock_client(lists(jobs))
    history = hg.job_history("F", ["a", "b", "gone"], client=client, progress=False)
    latest = hg.latest_jobs("F", ["a", "b"], client=client, progress=False)
    failed = history[history.succeeded == False]  # noqa: E712  (the README's own usage)
    retry = hg.retry_frame(failed)
    assert list(retry.tenant) == ["a"]
    assert len(pd.concat([history[:1], history[1:]])) == len(history)
    assert len(history.merge(latest, on="tenant", suffixes=("", "_latest"))) == len(history)
    assert list(hg.retry_frame(latest[latest.status.str.contains("FAILED")]).tenant) == ["a"]
    errors = hg.read_errors(history)
    assert list(errors.tenant) == ["gone"] and errors.http_status.tolist() == [404]
    assert all(isinstance(e, dict) for e in history.attrs["errors"])


def test_read_errors_of_a_frame_without_any_and_a_non_frame() -> None:
    assert hg.read_errors(pd.DataFrame({"tenant": ["a"]})).empty
    with pytest.raises(hg.ConfigError, match="read_errors takes a frame"):
        hg.read_errors([1, 2])  # type: ignore[arg-type]


# 6 and the start_time-less job: times normalised to UTC on the way in ---------------------


def test_a_latest_job_without_a_utc_offset_is_read_as_utc() -> None:
    naive = job("a", 1, start_time="2026-11-21T10:00:00", last_updated="2026-11-21 10:05:00")
    client = mock_client(lists({"a": [naive], "b": [job("b", 2)]}))
    check = hg.check_tenants(["a", "b"], "F", client=client, progress=False)
    assert str(check.last_job_at.dtype) == "datetime64[ns, UTC]"
    assert check.set_index("tenant").last_job_at["a"] == pd.Timestamp("2026-11-21T10:00Z")
    parsed = hg.Job.from_api(naive)
    assert parsed.start_time == "2026-11-21T10:00:00+00:00"
    assert parsed.last_updated == "2026-11-21T10:05:00+00:00"
    history = hg.job_history("F", ["a"], client=client, progress=False)
    assert history.duration_s.tolist() == [300.0]
    offset = hg.Job.from_api(job("a", 1, start_time="2026-11-21T12:00:00+02:00"))
    assert offset.start_time == "2026-11-21T10:00:00+00:00"
    odd = hg.Job.from_api(job("a", 1, start_time="yesterday"))
    assert odd.start_time == "yesterday"  # kept as the API said it; frames read it as NaT


def test_preflight_with_a_naive_latest_job_launches_instead_of_crashing() -> None:
    naive = job("a", 1, start_time="2026-11-21T10:00:00")
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            sent.append(request.url.path)
            return httpx.Response(200, json=job("a", 9, status="JOB_CREATED"))
        return lists({"a": [naive]})(request)

    out = hg.launch_jobs(["a"], flow_id="F", preflight=True, preflight_allow=["dormant"],
                         client=mock_client(handler), progress=False)  # fmt: skip
    assert out.outcome.tolist() == ["created"] and len(sent) == 1


def test_a_job_without_a_start_time_is_never_the_latest() -> None:
    undated = job("a", 3, status="SYNC_FAILED", start_time=None, last_updated=None)
    client = mock_client(lists({"a": [job("a", 1), undated, job("a", 2)]}))
    history = hg.job_history("F", ["a"], client=client, progress=False)
    assert history.status.tolist() == ["SYNC_FAILED", "JOB_COMPLETED", "JOB_COMPLETED"]
    health = hg.fleet_health(history, now="2026-11-23")
    assert health.problem.tolist() == ["ok"]


def test_a_tenant_named_twice_is_read_once() -> None:
    client = mock_client(lists({"a": [job("a", 1), job("a", 2)]}))
    history = hg.job_history("F", ["a", "a"], client=client, progress=False)
    assert len(history) == 2
    assert hg.fleet_health(history, now="2026-11-23").jobs.tolist() == [2]
    latest = hg.latest_jobs("F", pd.DataFrame({"tenant": ["a", "a"]}), client=client,
                            progress=False)  # fmt: skip
    assert len(latest) == 1


# 10: the fleet loop on a two-way flow keeps its V2 identity --------------------------------


def test_the_fleet_loop_on_a_two_way_flow_reruns_v2_read_jobs() -> None:
    world = sandbox.demo_world(0)
    flow = world.v2_flow_ids[0]
    linked = {t: world.connectors(t, flow)[0] for t in world.tenants if world.connectors(t, flow)}
    tenants = [t for t, c in linked.items() if not c["disconnected"]][:3]
    connectors = [linked[t]["connector_id"] for t in tenants]
    frame = pd.DataFrame({"tenant": tenants, "connector_id": connectors})
    with sandbox.serve(world) as sb:
        first = hg.launch_jobs(frame, flow_id=flow, job_type="read", wait=True, progress=False,
                               **sb.credentials)  # fmt: skip
        assert (first.outcome == "created").all()
        history = hg.job_history(flow, frame, progress=False, **sb.credentials)
        health = hg.fleet_health(history)
        assert health.connector_id.notna().all()
        retry = hg.retry_frame(health)
        assert retry.job_type.tolist() == ["read"] * 3
        assert sorted(retry.connector_id) == sorted(frame.connector_id)
        again = hg.launch_jobs(retry, progress=False, **sb.credentials)
        posts = [r for r in sb.state.requests if r[0] == "POST"]
    assert (again.outcome == "created").all() and again.connector_id.notna().all()
    assert all(path.startswith("/v2/") for _, path, *_ in posts)
    bodies = [json.loads(r) for r in again.request]
    assert all(b["job_type"] == "read" and b["connector_id"] for b in bodies)


def test_retry_frame_refuses_write_jobs_of_a_fleet_frame_naming_the_fix() -> None:
    history = pd.DataFrame({"tenant": ["a", "b"], "flow_id": ["F", "F"],
                            "connector_id": ["c", "c"], "job_type": ["read", "write"]})  # fmt: skip
    with pytest.raises(hg.ConfigError, match="write jobs.*failed_records"):
        hg.retry_frame(history)
    assert hg.retry_frame(history[history.job_type == "read"]).job_type.tolist() == ["read"]


# 7: an export never cuts a cell ----------------------------------------------------------


@pytest.mark.parametrize("suffix", [".xlsx", ".csv", ".parquet"])
def test_cells_longer_than_a_spreadsheet_cell_survive_an_export(tmp_path: Any, suffix: str) -> None:
    records = pd.DataFrame({"email": [f"p{i}@x.io" for i in range(400)],
                            "note": ["=" + "n" * 200] * 400})  # fmt: skip
    written = hg.write_records(records, object="Contact", flow_id="F", tenant="t",
                               connector_id="c", api_key="k", env_id="e", dry_run=True,
                               progress=False)  # fmt: skip
    fields = {f"stream_{i}": {f"col_{j}": f"target_{j}" for j in range(60)} for i in range(60)}
    launched = hg.launch_jobs(["a", "b"], flow_id="F", override_field_map=fields, api_key="k",
                              env_id="e", dry_run=True, progress=False)  # fmt: skip
    for frame in (written, launched):
        assert frame.request.str.len().max() > 2 * 32_767
        path = hg.export_results(frame, tmp_path / f"out{suffix}")
        back = hg.read_results(path)
        assert back.request.tolist() == frame.request.tolist()
    retry = hg.retry_frame(hg.read_results(tmp_path / f"out{suffix}"), which="skipped")
    assert retry.override_field_map.tolist() == [fields, fields]
    fates = hg.record_fates(hg.read_results(hg.export_results(written, tmp_path / f"w{suffix}")))
    assert len(fates) == 400 and fates.note.iloc[0].startswith("=")


# issue #23 (4, 5): run-wide failures raise, with the frame ---------------------------------


def test_a_fleet_read_where_every_tenant_failed_raises_with_the_frame() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there
    dead = {"api_key": "k", "env_id": "e", "base_url": f"http://127.0.0.1:{port}",
            "progress": False}  # fmt: skip
    with pytest.raises(hg.APIConnectionError, match="every one of the 3 tenants") as caught:
        hg.job_history("F", ["a", "b", "c"], **dead)
    frame = caught.value.results
    assert frame is hg.last_run() and list(hg.read_errors(frame).tenant) == ["a", "b", "c"]
    one_ok = mock_client(lists({"a": [job("a", 1)]}))
    partly = hg.job_history("F", ["a", "gone"], client=one_ok, progress=False)
    assert list(hg.read_errors(partly).tenant) == ["gone"]  # some read: data, not an error


def test_a_refused_key_in_a_launch_raises_with_every_row() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, json={"Code": "UnauthorizedError", "Message": "bad key"})

    with pytest.raises(hg.AuthenticationError) as caught:
        hg.launch_jobs(["a", "b", "c"], flow_id="F", client=mock_client(refuse), progress=False)
    out = caught.value.results
    assert len(out) == 3 and set(out.outcome) <= {"rejected", "skipped"}
    assert out is hg.last_run()


# issue #23 (7): a keyword nobody takes -----------------------------------------------------


@pytest.mark.parametrize(
    ("call", "given", "expected"),
    [
        ("launch", {"concurency": 4}, "did you mean concurrency="),
        ("launch", {"flow": "F"}, "did you mean flow_id="),
        ("launch", {"env": "e"}, "did you mean env_id="),
        ("launch", {"override_start_dat": "2024-01-01"}, "did you mean override_start_date="),
        ("wait", {"wait_timeout": 3}, "takes timeout="),
        ("wait", {"polling_interval": 3}, "did you mean poll_interval="),
        ("history", {"concurency": 3}, r"job_history\(\) got an unexpected keyword"),
    ],
)  # fmt: skip
def test_a_misspelt_keyword_names_the_function_and_the_nearest_name(
    call: str, given: dict[str, Any], expected: str
) -> None:
    calls = {
        "launch": lambda: hg.launch_jobs(["a"], flow_id="F", api_key="k", env_id="e",
                                         dry_run=True, progress=False, **given),
        "wait": lambda: hg.wait_for_jobs(pd.DataFrame({"outcome": []}), **given),
        "history": lambda: hg.job_history("F", ["a"], api_key="k", env_id="e", **given),
    }  # fmt: skip
    with pytest.raises(hg.ConfigError, match=expected):
        calls[call]()


# issue #23 (8, 9): tenants as people have them ---------------------------------------------


def _dry(tenants: Any) -> pd.DataFrame:
    return hg.launch_jobs(tenants, flow_id="F", api_key="k", env_id="e", dry_run=True,
                          progress=False)  # fmt: skip


def test_tenant_ids_in_any_list_like_and_the_file_headers_in_a_frame() -> None:
    import numpy as np

    ids = pd.Series(["a", "b", "a", "c"], dtype="string[pyarrow]")
    for given in (ids.unique(), np.array(["a", "b", "c"]), pd.Index(["a", "b", "c"]),
                  {"c", "a", "b"}, ("a", "b", "c")):  # fmt: skip
        assert _dry(given).tenant.tolist() == ["a", "b", "c"], type(given)
    frame = pd.DataFrame({"Tenant ID": ["a", "b"], "Flow": ["F", "F"]})
    assert _dry(frame).tenant.tolist() == ["a", "b"]
    with pytest.raises(hg.ConfigError, match="got str"):
        _dry("a")


def test_tenants_files_as_spreadsheets_write_them(tmp_path: Any) -> None:
    (tmp_path / "semi.csv").write_text("tenant;override_start_date\na;2024-01-01\nb;\n")
    semi = hg.read_tenants(tmp_path / "semi.csv")
    assert semi.tenant.tolist() == ["a", "b"] and "override_start_date" in semi
    (tmp_path / "u16.csv").write_bytes("tenant\nä1\nb2\n".encode("utf-16"))
    assert hg.read_tenants(tmp_path / "u16.csv").tenant.tolist() == ["ä1", "b2"]
    (tmp_path / "ragged.csv").write_text("tenant,flow_id\na,F\nb,F,\n")
    with pytest.raises(hg.TenantsFileError, match=r"line 3: 3 cells where the header has 2"):
        hg.read_tenants(tmp_path / "ragged.csv")
    (tmp_path / "latin.csv").write_bytes("tenant\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(hg.TenantsFileError, match="CSV UTF-8"):
        hg.read_tenants(tmp_path / "latin.csv")
    book = tmp_path / "two.xlsx"
    with pd.ExcelWriter(book) as sheets:
        pd.DataFrame({"notes": ["x"]}).to_excel(sheets, sheet_name="readme", index=False)
        pd.DataFrame({"Tenant": ["a"]}).to_excel(sheets, sheet_name="tenants", index=False)
    with pytest.raises(hg.TenantsFileError, match="pass sheet='tenants'"):
        hg.read_tenants(book)
    assert hg.read_tenants(book, sheet="tenants").tenant.tolist() == ["a"]
    both = tmp_path / "both.xlsx"
    with pd.ExcelWriter(both) as sheets:
        pd.DataFrame({"tenant": ["a"]}).to_excel(sheets, sheet_name="q1", index=False)
        pd.DataFrame({"tenant": ["b"]}).to_excel(sheets, sheet_name="q2", index=False)
    with pytest.raises(hg.TenantsFileError, match=r"\['q1', 'q2'\] all have a tenant column"):
        hg.read_tenants(both)
    frame = hg.read_tenants(pd.DataFrame({"Tenant ID": ["a", "b"]}))
    assert frame.tenant.tolist() == ["a", "b"]


# issue #23 (10): one cause, one signature -------------------------------------------------

_CAUSES = [
    "Request {uuid} to {url} failed after {dur}",
    "Could not connect to {ip} for tenant data",
    "Postgres at {hostport} refused the connection",
    "User {email} has no access to object Account",
    "Salesforce record {sfid} is locked (attempt {n})",
    "Token for {email} expired at {time}",
    "Rate limited by {url}: retry in {dur}",
    "Field {quoted} is not in schema Contact",
    "Job {hexid} timed out after {dur}",
    "Export of batch {n} rejected by {hostport}",
]


def _variant(template: str, rng: Any) -> str:
    hexes = "0123456789abcdef"

    def hx(n: int) -> str:
        return "".join(rng.choice(hexes) for _ in range(n))

    values = {
        "uuid": f"{hx(8)}-{hx(4)}-{hx(4)}-{hx(4)}-{hx(12)}",
        "url": f"https://{rng.choice(['api', 'eu1', 'na3'])}.example.com/v{rng.randint(1, 9)}/"
               f"x?id={rng.randint(1, 10**6)}",
        "dur": rng.choice([f"{rng.randint(1, 99)}s", f"{rng.random() * 60:.1f} s",
                           f"{rng.randint(1, 900)}ms", f"{rng.randint(1, 9)} minutes"]),
        "ip": ".".join(str(rng.randint(0, 255)) for _ in range(4)),
        "hostport": f"db{rng.randint(1, 99)}.internal.example:{rng.randint(1000, 65000)}",
        "email": f"{rng.choice(['ann', 'bo.b', 'c+d'])}{rng.randint(1, 999)}@"
                 f"{rng.choice(['acme', 'globex'])}.io",
        "sfid": "00" + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
                               for _ in range(16)),
        "n": str(rng.randint(1, 10**5)),
        "time": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T10:"
                f"{rng.randint(0, 59):02d}:00Z",
        "quoted": repr(rng.choice(["email_2", "Phone", "x_custom__c"])),
        "hexid": hx(rng.choice([6, 8, 12])),
    }  # fmt: skip
    return template.format(**values)


def test_variants_of_one_cause_share_a_signature_and_causes_never_merge() -> None:
    import random

    from hotglue_nb._analysis._triage import signature

    rng = random.Random(22)
    found = {}
    for cause in _CAUSES:
        signatures = {signature(_variant(cause, rng), tenant=f"t{rng.randint(1, 99)}")
                      for _ in range(200)}  # fmt: skip
        assert len(signatures) == 1, (cause, sorted(signatures)[:4])
        found[cause] = signatures.pop()
    assert len(set(found.values())) == len(_CAUSES)  # ten causes, ten signatures


# issue #23 (12): in IPython an error shows the user's own line -------------------------------


def test_an_error_in_ipython_shows_the_callers_line_and_the_cause(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(hg.ConfigError) as caught:
        hg.launch_jobs(["a"], flow_id="F", concurency=3, api_key="k", env_id="e")
    exc = caught.value
    shown = exc._render_traceback_()
    assert "test_surfaces.py" in shown[0] and "concurency=3" in shown[0]
    assert "did you mean concurrency=" in shown[-1] and len(shown) == 2
    monkeypatch.setenv("HOTGLUE_TRACEBACK", "1")
    full = "".join(exc._render_traceback_())
    assert "_options.py" in full and "Traceback" in full


def test_a_cell_long_in_excels_units_is_split_too(tmp_path: Any) -> None:
    frame = pd.DataFrame({"tenant": ["t"], "error": ["😀" * 20_000]})  # 40,000 UTF-16 units
    back = hg.read_results(hg.export_results(frame, tmp_path / "e.xlsx"))
    assert back.error.iloc[0] == frame.error.iloc[0]
    import openpyxl

    book = openpyxl.load_workbook(tmp_path / "e.xlsx")
    cells = [c.value for sheet in book for row in sheet.iter_rows() for c in row if c.value]
    longest = max(len(str(value).encode("utf-16-le")) // 2 for value in cells)
    assert longest <= 32_767


def test_record_fates_match_reordered_records_by_value() -> None:
    records = pd.DataFrame({"email": [f"p{i}@x.io" for i in range(300)], "n": range(300)})
    out = hg.write_records(records, object="Contact", flow_id="F", tenant="t", connector_id="c",
                           batch_size=50, api_key="k", env_id="e", dry_run=True,
                           progress=False)  # fmt: skip
    shuffled = records.sample(frac=1.0, random_state=1)
    fates = hg.record_fates(out, shuffled)
    assert list(fates.index) == list(range(300)) and (fates.email == records.email).all()

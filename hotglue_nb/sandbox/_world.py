"""The sandbox's world: environment, flows, tenants, linked sources, catalogs, failures.

A world is plain JSON-able data, generated deterministically from a seed or loaded from a
file (``World.load(path)``), so a rehearsal can mirror a real environment's tenant list.
"""

from __future__ import annotations

import hashlib
import json
import random
import string
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["UNIFIED_OBJECTS", "World", "demo_world", "roll", "short_id"]

ID_ALPHABET = string.ascii_letters + string.digits
UNIFIED_OBJECTS = [
    "Accounts", "Bills", "Contacts", "Customers", "Deals", "Invoices",
    "Items", "JournalEntries", "Payments", "Vendors",
]  # fmt: skip
_CORE_STREAMS = {
    "salesforce": ["Account", "Contact", "Opportunity", "Lead", "Case", "Campaign", "Task",
                   "Event", "User", "Product2", "Pricebook2", "Contract", "Order", "Quote"],
    "hubspot": ["contacts", "companies", "deals", "tickets", "owners", "engagements",
                "line_items", "products", "quotes", "forms", "email_events", "campaigns"],
    "quickbooks": ["Account", "Bill", "BillPayment", "Customer", "Employee", "Estimate",
                   "Invoice", "Item", "JournalEntry", "Payment", "Purchase", "Vendor"],
}  # fmt: skip
_STREAM_COUNTS = {"salesforce": 320, "hubspot": 40, "quickbooks": 30}
_FIELD_WORDS = (
    "Name Status Type Amount Owner Email Phone Region Industry Source Stage Priority Currency "
    "Description Country City Score Rating Balance Total Notes Code"
).split()
_FAILURES = {
    "DISCOVER": "Discover failed: the source API returned 'API limit exceeded'",
    "SYNC": "Sync failed: invalid credentials - the refresh token has expired",
    "ETL": "ETL failed: KeyError 'Id' in etl.py, line 42",
    "EXPORT": "Export failed: the target rejected 3 records (duplicate external id)",
}


@dataclass
class World:
    """Everything the sandbox knows before any request; JSON round-trips."""

    api_key: str
    env_id: str
    flows: list[dict[str, Any]]
    tenants: dict[str, dict[str, Any]]
    catalogs: dict[str, dict[str, Any]]
    unified_objects: list[str] = field(default_factory=lambda: list(UNIFIED_OBJECTS))
    v2_flows: list[dict[str, Any]] = field(default_factory=list)  # two-way flows

    @property
    def v2_flow_ids(self) -> list[str]:
        return [flow["id"] for flow in self.v2_flows]

    def connectors(self, tenant: str, flow_id: str) -> list[dict[str, Any]] | None:
        """The tenant's linked connectors in a two-way flow, or None when not linked."""
        info = self.tenants.get(tenant)
        return None if info is None else info.get("connectors", {}).get(flow_id)

    @property
    def flow_ids(self) -> list[str]:
        return [flow["id"] for flow in self.flows]

    def linked(self, tenant: str, flow_id: str) -> list[dict[str, Any]] | None:
        """The tenant's linked sources in a flow, or None when it has not linked the flow."""
        info = self.tenants.get(tenant)
        return None if info is None else info["flows"].get(flow_id)

    def failure(self, tenant: str, flow_id: str) -> dict[str, str] | None:
        info = self.tenants.get(tenant) or {}
        failure: dict[str, str] | None = info.get("failures", {}).get(flow_id)
        return failure

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> World:
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> World:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def demo_world(seed: int = 0, *, tenants: int = 240) -> World:
    """A deterministic demo environment: 3 flows, ``tenants`` tenants, 3 taps."""
    rng = random.Random(seed)
    flows = [
        _flow(rng, "CRM sync", ["salesforce", "hubspot"]),
        _flow(rng, "Accounting sync", ["quickbooks"]),
        _flow(rng, "Full export", ["salesforce", "hubspot", "quickbooks"]),
    ]
    catalogs = {tap: _catalog(random.Random(f"{seed}:{tap}"), tap) for tap in _STREAM_COUNTS}
    ids = _tenant_ids(rng, tenants)
    world_tenants = {tid: _tenant(rng, i, flows, catalogs) for i, tid in enumerate(ids)}
    v2 = random.Random(f"{seed}:v2")  # its own generator: the V1 world stays as it was
    two_way = {**_flow(v2, "Two-way CRM", ["salesforce", "hubspot"]), "version": 2}
    two_way["connectors"] = two_way.pop("taps")
    for index, info in enumerate(world_tenants.values()):
        if index % 2 == 0:
            info["connectors"] = {two_way["id"]: [_connector(v2, index, two_way, catalogs)]}
    return World(
        api_key=f"sandbox-key-{seed}",
        env_id="sandbox.hotglue.example",
        flows=flows,
        tenants=world_tenants,
        catalogs=catalogs,
        v2_flows=[two_way],
    )


def _connector(
    rng: random.Random, index: int, flow: dict[str, Any], catalogs: dict[str, Any]
) -> dict[str, Any]:
    """A linked connector of a two-way flow: a source's fields plus how its writes go [I]:
    every ``reject_every``-th record of a write is refused by the target (0: none)."""
    connector_id = flow["connectors"][(index // 2) % 2]
    source = _source(rng, connector_id, catalogs[connector_id])
    source.pop("tap")
    if index % 10 == 6:  # a broken link, for the fleet view's pre-launch check
        source.update(disconnected=True, error="invalid_grant: the refresh token has expired")
    return {"connector_id": connector_id, **source, "reject_every": 4 if index % 6 == 4 else 0}


def roll(*parts: object) -> float:
    """A uniform number in [0, 1) fixed by its parts."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def short_id(rng: random.Random, size: int) -> str:
    return "".join(rng.choice(ID_ALPHABET) for _ in range(size))


def _flow(rng: random.Random, name: str, taps: list[str]) -> dict[str, Any]:
    return {
        "id": short_id(rng, 9),
        "name": name,
        "description": f"{name} ({', '.join(taps)})",
        "type": "tenant",
        "taps": taps,
        "targets": ["bigquery"],
        "version": 1,
    }


def _tenant_ids(rng: random.Random, count: int) -> list[str]:
    makers = [
        lambda i: f"00{rng.randrange(10**7, 10**8)}",
        lambda i: f"{rng.choice(['acme', 'globex', 'initech', 'umbrella', 'stark'])}-{i:03d}",
        lambda i: f"{rng.choice(['eu', 'us', 'apac'])}.{rng.choice(['shop', 'corp'])}{i}",
        lambda i: str(rng.randrange(10**7, 10**8)),
        lambda i: f"t-{i:04d}",
    ]
    ids: list[str] = []
    while len(ids) < count:
        candidate = makers[len(ids) % len(makers)](len(ids))
        if candidate not in ids:
            ids.append(candidate)
    return ids


def _tenant(
    rng: random.Random, index: int, flows: list[dict[str, Any]], catalogs: dict[str, Any]
) -> dict[str, Any]:
    linked: dict[str, list[dict[str, Any]]] = {}
    main_tap = flows[0]["taps"][index % 2]
    linked[flows[0]["id"]] = [_source(rng, main_tap, catalogs[main_tap], discover=index % 7 == 0)]
    if index % 3 != 2:
        linked[flows[1]["id"]] = [_source(rng, "quickbooks", catalogs["quickbooks"])]
    if index % 4 == 0:
        linked[flows[2]["id"]] = [_source(rng, tap, catalogs[tap]) for tap in flows[2]["taps"]]
    failures: dict[str, dict[str, str]] = {}
    history = _profile(index)
    if index % 29 == 5:  # a few tenants are scripted to fail, at different stages
        stage = ["SYNC", "ETL", "EXPORT", "DISCOVER"][(index // 29) % 4]
        failures[flows[0]["id"]] = {"stage": stage, "message": _FAILURES[stage]}
        history.update(stage=stage, message=_FAILURES[stage])
    if history["profile"] == "disconnected":  # the link is broken: new jobs fail too
        source = linked[flows[0]["id"]][0]
        source.update(disconnected=True, error="invalid_grant: the refresh token has expired")
        failures[flows[0]["id"]] = {"stage": "SYNC", "message": _DISCONNECTED}
    return {"flows": linked, "failures": failures, "history": {flows[0]["id"]: history}}


_DISCONNECTED = "Sync failed: invalid_grant - the refresh token has expired"


def _profile(index: int) -> dict[str, Any]:
    """The tenant's past in the first flow (see _history): known answers for a fleet view."""
    rules = [
        (29, 5, "failing", 10 + index % 15),  # the scripted failures: a streak since that day
        (13, 4, "fixed", 26 + index % 3),  # a recent streak whose cause has passed
        (17, 3, "flaky", 0),
        (23, 7, "dormant", 0),
        (19, 11, "records_drop", 29),
        (31, 13, "slow", 25),
        (37, 17, "disconnected", 20 + index % 7),
    ]
    for modulo, rest, profile, day in rules:
        if index % modulo == rest:
            return {"profile": profile, "day": day}
    return {"profile": "ok"}


def _source(
    rng: random.Random, tap: str, catalog: dict[str, Any], *, discover: bool = False
) -> dict[str, Any]:
    streams = rng.sample(catalog["streams"], k=min(6, len(catalog["streams"])))
    field_map = {}
    for stream in streams:
        props = list(stream["schema"]["properties"])
        chosen = ["*"] if rng.random() < 0.5 else rng.sample(props, k=min(4, len(props)))
        field_map[stream["stream"]] = {"name": stream["stream"], "selected": chosen}
    selected = {name: rng.random() < 0.6 for name in UNIFIED_OBJECTS}
    return {
        "tap": tap,
        "label": tap.title(),
        "domain": f"{tap}.com",
        "type": "api",
        "config": {"selected_tables": selected, "start_date": "2024-01-01T00:00:00Z"},
        "fieldMap": field_map,
        "discover_on_job": discover,
        "disconnected": False,  # link health, as hotglue's widget reads it [C-code]
        "error": None,
        "isReconnecting": False,
    }


def _catalog(rng: random.Random, tap: str) -> dict[str, Any]:
    names = list(_CORE_STREAMS[tap])
    while len(names) < _STREAM_COUNTS[tap]:
        names.append(f"Custom{len(names):03d}" + ("__c" if tap == "salesforce" else ""))
    return {"streams": [_stream(rng, name) for name in names]}


def _stream(rng: random.Random, name: str) -> dict[str, Any]:
    extra = rng.sample(_FIELD_WORDS, k=rng.randrange(3, len(_FIELD_WORDS)))
    fields = ["Id", "CreatedDate", "LastModifiedDate", *extra]
    properties = {f: _field_schema(f) for f in fields}
    metadata: list[dict[str, Any]] = [
        {
            "breadcrumb": [],
            "metadata": {
                "table-key-properties": ["Id"],
                "replication-key": "LastModifiedDate",
                "inclusion": "available",
                "selected": False,
            },
        }
    ]
    for f in fields:
        inclusion = "automatic" if f in ("Id", "LastModifiedDate") else "available"
        metadata.append({"breadcrumb": ["properties", f], "metadata": {"inclusion": inclusion}})
    return {
        "stream": name,
        "tap_stream_id": name,
        "key_properties": ["Id"],
        "schema": {"type": "object", "properties": properties},
        "metadata": metadata,
    }


def _field_schema(name: str) -> dict[str, Any]:
    if name.endswith("Date"):
        return {"type": ["null", "string"], "format": "date-time"}
    if name in ("Amount", "Balance", "Total", "Score"):
        return {"type": ["null", "number"]}
    return {"type": ["null", "string"]}

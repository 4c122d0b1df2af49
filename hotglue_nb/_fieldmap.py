"""Pure field-map logic: Singer catalog -> tables and fields; selections -> the API's shapes.

Shapes [C]: ``override_field_map`` = ``{"Account": {"name": "Account", "selected": ["*"]}}``
(a table is on iff its key exists; ``["*"]`` = every field); ``override_selected_tables`` =
``{"Vendors": true}``. Fields with ``inclusion: automatic`` (keys, replication keys) are
always selected and cannot be removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ._exceptions import ConfigError
from ._warnings import warn

__all__ = ["ALL", "Catalog", "FieldMapError", "Selection", "Table"]

ALL = "*"


class FieldMapError(ConfigError):
    """Raised for a field map or table selection that does not fit the catalog."""


@dataclass(frozen=True)
class Table:
    """One stream of a catalog: its fields and which of them are automatic."""

    name: str
    fields: tuple[str, ...]
    automatic: frozenset[str] = frozenset()

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(f for f in self.fields if f not in self.automatic)


@dataclass(frozen=True)
class Catalog:
    """Tables by name (in catalog order) and the unified-schema objects that can be toggled."""

    tables: dict[str, Table]
    unified: tuple[str, ...] = ()

    @classmethod
    def from_singer(cls, catalog: Mapping[str, Any], unified: Iterable[str] = ()) -> Catalog:
        streams = catalog.get("streams") if isinstance(catalog, Mapping) else None
        if not isinstance(streams, list):
            raise FieldMapError("A Singer catalog is a dict with a 'streams' list.")
        tables: dict[str, Table] = {}
        ids: dict[str, list[str]] = {}
        for stream in streams:
            table = _table(stream)
            ids.setdefault(table.name, []).append(str(stream.get("tap_stream_id") or table.name))
            known = tables.get(table.name)
            tables[table.name] = table if known is None else _merged(known, table)
        _warn_shared({name: found for name, found in ids.items() if len(found) > 1})
        return cls(tables, tuple(unified))

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, unified: Iterable[str] = ()) -> Catalog:
        missing = {"table", "field"} - set(frame.columns)
        if missing:
            raise FieldMapError(f"The frame needs columns 'table' and 'field' (missing {missing}).")
        automatic = frame["automatic"] if "automatic" in frame else pd.Series(False, frame.index)
        fields: dict[str, list[str]] = {}
        autos: dict[str, set[str]] = {}
        for table, name, auto in zip(frame["table"], frame["field"], automatic, strict=True):
            fields.setdefault(str(table), []).append(str(name))
            if bool(auto):
                autos.setdefault(str(table), set()).add(str(name))
        tables = {
            t: Table(t, tuple(dict.fromkeys(f)), frozenset(autos.get(t, ())))
            for t, f in fields.items()
        }
        return cls(tables, tuple(unified))


def _merged(first: Table, second: Table) -> Table:
    fields = tuple(dict.fromkeys((*first.fields, *second.fields)))
    return Table(first.name, fields, first.automatic | second.automatic)


def _warn_shared(shared: dict[str, list[str]]) -> None:
    """Streams of one name (tap-postgres' schemas: public-users, sales-users) are one table:
    hotglue's field map keys a table by its stream name [C-code: the widget's serializer]."""
    for name, found in shared.items():
        warn(
            f"The catalog's streams {found} share the name {name!r}: hotglue's field map keys "
            "tables by stream name, so they are one table here (fields of both) and a "
            "selection applies to both."
        )


def _table(stream: Mapping[str, Any]) -> Table:
    name = str(stream.get("stream") or stream.get("tap_stream_id") or "")
    if not name:
        raise FieldMapError("A catalog stream has no 'stream' name.")
    props = list((stream.get("schema") or {}).get("properties") or {})
    automatic: set[str] = set(stream.get("key_properties") or [])
    for entry in stream.get("metadata") or []:
        crumb = entry.get("breadcrumb") or []
        meta = entry.get("metadata") or {}
        if not crumb:
            automatic.update(meta.get("table-key-properties") or [])
        elif len(crumb) == 2 and meta.get("inclusion") == "automatic":
            automatic.add(str(crumb[1]))
    return Table(name, tuple(props), frozenset(automatic & set(props)))


@dataclass
class Selection:
    """Which tables and fields are on. ``tables[name]`` is ALL or a set of optional fields."""

    catalog: Catalog
    tables: dict[str, str | set[str]] = field(default_factory=dict)
    unified: dict[str, bool] = field(default_factory=dict)

    # --- changing the selection -------------------------------------------------------

    def set_table(self, name: str, on: bool) -> None:
        self._table(name)
        if on:
            self.tables.setdefault(name, ALL)
        else:
            self.tables.pop(name, None)

    def set_tables(self, names: Iterable[str]) -> None:
        """Exactly these tables on (kept tables keep their field choice)."""
        wanted = list(names)
        for name in wanted:
            self._table(name)
        self.tables = {n: self.tables.get(n, ALL) for n in wanted}

    def set_all_fields(self, name: str, on: bool) -> None:
        self._table(name)
        self.tables[name] = ALL if on else set()

    def set_fields(self, name: str, fields: Iterable[str]) -> None:
        table = self._table(name)
        chosen = set(fields)
        unknown = chosen - set(table.fields)
        if unknown:
            raise FieldMapError(f"Table {name!r} has no field(s) {sorted(unknown)}.")
        self.tables[name] = chosen - table.automatic

    def set_unified(self, name: str, on: bool) -> None:
        if name not in self.catalog.unified:
            raise FieldMapError(f"Unknown unified-schema object {name!r}.")
        self.unified[name] = on

    # --- reading it -----------------------------------------------------------------------

    def fields_of(self, name: str) -> list[str]:
        """Selected fields of a table, automatic ones included (catalog order)."""
        table = self._table(name)
        chosen = self.tables.get(name)
        if chosen is None:
            return []
        if chosen == ALL:
            return list(table.fields)
        return [f for f in table.fields if f in table.automatic or f in chosen]

    def field_map(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name, chosen in self.tables.items():
            selected = [ALL] if chosen == ALL else self.fields_of(name)
            out[name] = {"name": name, "selected": selected}
        return out

    def selected_tables(self) -> dict[str, bool]:
        return {name: True for name in self.catalog.unified if self.unified.get(name)}

    def value(self) -> dict[str, dict[str, Any]]:
        """The overrides, ready for ``launch_jobs(..., **value)``."""
        return {
            "override_field_map": self.field_map(),
            "override_selected_tables": self.selected_tables(),
        }

    def counts(self) -> tuple[int, int]:
        """(selected tables, selected fields, automatic included)."""
        return len(self.tables), sum(len(self.fields_of(n)) for n in self.tables)

    # --- loading ---------------------------------------------------------------------------

    def load(self, value: Mapping[str, Any]) -> None:
        """Replace the selection from a value / field map; refuse anything not in the catalog."""
        if not isinstance(value, Mapping):
            raise FieldMapError(f"Expected a dict, got {type(value).__name__}.")
        extra = set(value) - {"override_field_map", "override_selected_tables"}
        if extra:
            raise FieldMapError(f"Unknown key(s) {sorted(extra)}; expected override_field_map "
                                "and override_selected_tables.")  # fmt: skip
        tables = self._parse_field_map(value.get("override_field_map") or {})
        unified = self._parse_unified(value.get("override_selected_tables") or {})
        self.tables, self.unified = tables, unified

    def _parse_field_map(self, field_map: Mapping[str, Any]) -> dict[str, str | set[str]]:
        unknown_tables = [t for t in field_map if t not in self.catalog.tables]
        problems = [f"unknown table(s) {unknown_tables}"] if unknown_tables else []
        tables: dict[str, str | set[str]] = {}
        for name, entry in field_map.items():
            if name in unknown_tables:
                continue
            selected = entry.get("selected", [ALL]) if isinstance(entry, Mapping) else entry
            table = self.catalog.tables[name]
            if list(selected) == [ALL]:
                tables[name] = ALL
                continue
            bad = [f for f in selected if f not in table.fields]
            if bad:
                problems.append(f"table {name!r} has no field(s) {bad}")
            tables[name] = set(selected) - table.automatic - set(bad)
        if problems:
            raise FieldMapError(
                "The field map does not fit the catalog: " + "; ".join(problems) + "."
            )
        return tables

    def _parse_unified(self, selected: Mapping[str, Any]) -> dict[str, bool]:
        unknown = [n for n in selected if n not in self.catalog.unified]
        if unknown:
            raise FieldMapError(f"Unknown unified-schema object(s) {unknown}; known: "
                                f"{list(self.catalog.unified)}.")  # fmt: skip
        return {name: bool(on) for name, on in selected.items()}

    def _table(self, name: str) -> Table:
        try:
            return self.catalog.tables[name]
        except KeyError:
            raise FieldMapError(f"Unknown table {name!r}.") from None

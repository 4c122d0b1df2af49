"""OverridesForm: pick tables, fields and unified-schema objects for a rerun, in a notebook.

Usage:
    >>> form = hg.widgets.OverridesForm.from_api(client, flow_id, tenant)   # saved map prefilled
    >>> form                                    # displays the form
    >>> hg.launch_jobs(df, flow_id=flow_id, **form.value)

A thin view over the pure ``_fieldmap.Selection``: every widget event edits the selection,
then ``value`` (a real traitlet: ``form.observe(cb, "value")`` works) is recomputed. A table's
fields are rendered only when it is opened, so catalogs of hundreds of tables stay fast.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import ipywidgets as w
import pandas as pd
import traitlets

from ._client import AsyncHotglue, Hotglue
from ._exceptions import ConfigError
from ._fieldmap import ALL, Catalog, FieldMapError, Selection

__all__ = ["FieldMapError", "OverridesForm"]


class OverridesForm(w.VBox, w.ValueWidget):  # type: ignore[misc]
    """Build ``override_field_map`` and ``override_selected_tables`` from a catalog."""

    value = traitlets.Dict()

    def __init__(self, catalog: Catalog, *, saved: Mapping[str, Any] | None = None) -> None:
        self._selection = Selection(catalog)
        self._saved = dict(saved or {})
        self._busy = False
        self._build()
        super().__init__(children=self._layout())
        self.value = self._saved
        self._refresh_all()

    # --- constructors --------------------------------------------------------------------

    @classmethod
    def from_catalog(
        cls,
        catalog: Mapping[str, Any],
        *,
        field_map: Mapping[str, Any] | None = None,
        unified_tables: Any = None,
    ) -> OverridesForm:
        """From a Singer catalog dict; ``field_map`` prefills (and is what Reset returns to);
        ``unified_tables`` is a list of object names or a ``{"Vendors": true}`` selection."""
        names, selected = _unified(unified_tables)
        saved = {"override_field_map": dict(field_map or {}), "override_selected_tables": selected}
        return cls(Catalog.from_singer(catalog, names), saved=saved)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, unified_tables: Any = None) -> OverridesForm:
        """From a frame with columns ``table``, ``field`` and (optional) ``automatic``."""
        names, selected = _unified(unified_tables)
        saved = {"override_field_map": {}, "override_selected_tables": selected}
        return cls(Catalog.from_frame(frame, names), saved=saved)

    @classmethod
    def from_api(
        cls, client: Hotglue, flow_id: str, tenant: str, *, tap: str | None = None
    ) -> OverridesForm:
        """From the tenant's linked source (``catalog=true``), prefilled with its saved
        fieldMap and unified-schema selection."""
        if isinstance(client, AsyncHotglue):
            raise ConfigError("from_api needs a Hotglue client; with AsyncHotglue use "
                              "await OverridesForm.afrom_api(...).")  # fmt: skip
        sources = client.linked_sources(flow_id, tenant, catalog=True, tap=tap, config=True)
        return cls._from_source(_pick_source(sources, tenant, tap))

    @classmethod
    async def afrom_api(
        cls, client: AsyncHotglue, flow_id: str, tenant: str, *, tap: str | None = None
    ) -> OverridesForm:
        """Async twin of ``from_api``."""
        sources = await client.linked_sources(flow_id, tenant, catalog=True, tap=tap, config=True)
        return cls._from_source(_pick_source(sources, tenant, tap))

    @classmethod
    def _from_source(cls, source: Mapping[str, Any]) -> OverridesForm:
        saved_tables = (source.get("config") or {}).get("selected_tables") or {}
        return cls.from_catalog(
            source.get("catalog") or {"streams": []},
            field_map=source.get("fieldMap") or {},
            unified_tables=saved_tables,
        )

    # --- value ---------------------------------------------------------------------------------

    @traitlets.validate("value")
    def _validate_value(self, proposal: dict[str, Any]) -> dict[str, Any]:
        value = proposal["value"]
        if not value:
            value = {"override_field_map": {}, "override_selected_tables": {}}
        self._selection.load(value)  # raises FieldMapError naming unknown tables/fields
        return self._selection.value()

    @traitlets.observe("value")
    def _on_value_change(self, change: dict[str, Any]) -> None:
        if not self._busy:
            self._refresh_all()

    def _commit(self) -> None:
        """Push the selection (edited by a widget) out as the new ``value``."""
        self._busy = True
        try:
            self.value = self._selection.value()
        finally:
            self._busy = False
        self._refresh_summary()

    # --- building ---------------------------------------------------------------------------

    def _build(self) -> None:
        catalog = self._selection.catalog
        self._search = w.Text(placeholder="filter tables", description="Tables")
        self._tables = w.SelectMultiple(options=list(catalog.tables), rows=12)
        self._all_button = w.Button(description="Select all", icon="check-square")
        self._none_button = w.Button(description="Select none", icon="square")
        self._open = w.Dropdown(options=[], description="Fields of")
        self._fields_box = w.VBox()
        self._unified = {
            name: w.ToggleButton(description=name, layout=w.Layout(width="auto"))
            for name in catalog.unified
        }
        self._counts = w.HTML()
        self._preview = w.HTML()
        self._reset_button = w.Button(description="Reset to saved", icon="undo")
        self._path = w.Text(value="overrides.json", description="File")
        self._load_button = w.Button(description="Load", icon="upload")
        self._save_button = w.Button(description="Save", icon="download")
        self._status = w.HTML()
        self._wire()

    def _wire(self) -> None:
        self._search.observe(self._on_search_change, names="value")
        self._tables.observe(self._on_tables_change, names="value")
        self._all_button.on_click(self._on_all_click)
        self._none_button.on_click(self._on_none_click)
        self._open.observe(self._on_open_change, names="value")
        for name, toggle in self._unified.items():
            toggle.observe(lambda change, n=name: self._on_unified_change(n, change), "value")
        self._reset_button.on_click(self._on_reset_click)
        self._load_button.on_click(self._on_load_click)
        self._save_button.on_click(self._on_save_click)

    def _layout(self) -> list[w.Widget]:
        unified = [w.HTML("<b>Unified-schema objects</b>"), w.HBox(list(self._unified.values()),
                   layout=w.Layout(flex_flow="row wrap"))] if self._unified else []  # fmt: skip
        return [
            w.HBox([self._search, self._all_button, self._none_button]),
            self._tables,
            self._open,
            self._fields_box,
            *unified,
            w.HBox([self._counts, self._reset_button]),
            w.HBox([self._path, self._load_button, self._save_button]),
            self._status,
            self._preview,
        ]

    # --- handlers -----------------------------------------------------------------------------

    def _on_search_change(self, change: dict[str, Any]) -> None:
        self._refresh_tables()

    def _on_tables_change(self, change: dict[str, Any]) -> None:
        if self._busy:
            return
        visible = set(self._tables.options)
        hidden = [t for t in self._selection.tables if t not in visible]
        self._selection.set_tables([*hidden, *change["new"]])
        self._refresh_open()
        self._commit()

    def _on_all_click(self, button: w.Button) -> None:
        self._select_visible(True)

    def _on_none_click(self, button: w.Button) -> None:
        self._select_visible(False)

    def _select_visible(self, on: bool) -> None:
        for name in self._tables.options:
            self._selection.set_table(name, on)
        self._refresh_tables()
        self._refresh_open()
        self._commit()

    def _on_open_change(self, change: dict[str, Any]) -> None:
        self._render_fields(change["new"])

    def _on_all_fields_change(self, table: str, change: dict[str, Any]) -> None:
        if self._busy:
            return
        self._selection.set_all_fields(table, change["new"])
        self._render_fields(table)
        self._commit()

    def _on_fields_change(self, table: str, change: dict[str, Any]) -> None:
        if self._busy:
            return
        self._selection.set_fields(table, change["new"])
        self._commit()

    def _on_unified_change(self, name: str, change: dict[str, Any]) -> None:
        if self._busy:
            return
        self._selection.set_unified(name, change["new"])
        self._commit()

    def _on_reset_click(self, button: w.Button) -> None:
        self.value = self._saved
        self._say("Reset to the saved field map.")

    def _on_load_click(self, button: w.Button) -> None:
        try:
            self.value = json.loads(Path(self._path.value).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:  # FieldMapError is a ValueError too
            self._say(f"Cannot load {self._path.value}: {exc}", error=True)
            return
        self._say(f"Loaded {self._path.value}.")

    def _on_save_click(self, button: w.Button) -> None:
        try:
            Path(self._path.value).write_text(json.dumps(self.value, indent=2), encoding="utf-8")
        except OSError as exc:
            self._say(f"Cannot save {self._path.value}: {exc}", error=True)
            return
        self._say(f"Saved {self._path.value}.")

    # --- drawing ---------------------------------------------------------------------------------

    def _refresh_all(self) -> None:
        self._refresh_tables()
        self._refresh_open()
        self._busy = True
        try:
            for name, toggle in self._unified.items():
                toggle.value = bool(self._selection.unified.get(name))
        finally:
            self._busy = False
        self._refresh_summary()

    def _refresh_tables(self) -> None:
        needle = self._search.value.strip().lower()
        names = [n for n in self._selection.catalog.tables if needle in n.lower()]
        self._busy = True
        try:
            self._tables.options = names
            self._tables.value = tuple(n for n in names if n in self._selection.tables)
        finally:
            self._busy = False

    def _refresh_open(self) -> None:
        chosen = list(self._selection.tables)
        current = self._open.value
        self._open.options = chosen
        self._open.value = current if current in chosen else (chosen[0] if chosen else None)
        self._render_fields(self._open.value)

    def _render_fields(self, table: str | None) -> None:
        """Build the field picker of one table only (the reason big catalogs stay fast)."""
        if table is None or table not in self._selection.tables:
            self._fields_box.children = ()
            return
        info = self._selection.catalog.tables[table]
        everything = self._selection.tables[table] == ALL
        all_box = w.Checkbox(value=everything, description="all fields (*)", indent=False)
        all_box.observe(lambda change: self._on_all_fields_change(table, change), "value")
        picker = w.SelectMultiple(
            options=list(info.optional),
            value=tuple(f for f in self._selection.fields_of(table) if f not in info.automatic),
            disabled=everything,
            rows=min(10, max(len(info.optional), 1)),
        )
        picker.observe(lambda change: self._on_fields_change(table, change), "value")
        locked = ", ".join(sorted(info.automatic)) or "none"
        note = w.HTML(f"🔒 always included (automatic): <code>{locked}</code>")
        self._fields_box.children = (all_box, picker, note)

    def _refresh_summary(self) -> None:
        tables, fields = self._selection.counts()
        objects = len(self._selection.selected_tables())
        self._counts.value = (
            f"<b>{tables}</b> tables, <b>{fields}</b> fields, <b>{objects}</b> unified objects"
        )
        text = json.dumps(self.value, indent=2)
        self._preview.value = f"<pre style='max-height:16em;overflow:auto'>{_escape(text)}</pre>"

    def _say(self, text: str, *, error: bool = False) -> None:
        color = "#b00" if error else "#060"
        self._status.value = f"<span style='color:{color}'>{_escape(text)}</span>"

    # --- for tests and scripts: open a table as a user would ---------------------

    def open_table(self, name: str) -> None:
        """Show the field picker of ``name`` (selecting the table if needed)."""
        if name not in self._selection.tables:
            self._selection.set_table(name, True)
            self._refresh_tables()
            self._commit()
        self._refresh_open()
        self._open.value = name


def _unified(value: Any) -> tuple[list[str], dict[str, bool]]:
    if value is None:
        return [], {}
    if isinstance(value, Mapping):
        return list(value), {k: True for k, v in value.items() if v}
    return list(value), {}


def _pick_source(sources: list[dict[str, Any]], tenant: str, tap: str | None) -> dict[str, Any]:
    if not sources:
        raise ConfigError(f"Tenant {tenant!r} has no linked source{f' {tap!r}' if tap else ''}.")
    if tap is None and len(sources) > 1:
        taps = [s.get("tap") for s in sources]
        raise ConfigError(f"Tenant {tenant!r} has several linked sources {taps}: pass tap=.")
    return sources[0]


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

"""OverridesForm: pick tables, fields and unified-schema objects for a rerun, in a notebook.

Usage:
    >>> form = hg.widgets.OverridesForm.from_api(client, flow_id, tenant)   # saved map prefilled
    >>> form                                    # displays the form
    >>> hg.launch_jobs(df, flow_id=flow_id, **form.value)

An anywidget: the browser side is one small ES module shipped in the package
(``static/overrides_form.js``, no build step), chosen over composed core ipywidgets because
it renders only the table rows in view (500 tables x 100 fields stay instant), sends a whole
``value`` in one message (no options/selection races), and can draw a checkbox tree with
half-ticked tables. The Python side validates every value with the pure ``_fieldmap``.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import anywidget
import pandas as pd
import traitlets

from ._client import AsyncHotglue, Hotglue
from ._exceptions import ConfigError
from ._fieldmap import Catalog, FieldMapError, Selection
from ._types import UnifiedTables

__all__ = ["FieldMapError", "OverridesForm"]

_STATIC = Path(__file__).parent / "static"


class OverridesForm(anywidget.AnyWidget):
    """Build ``override_field_map`` and ``override_selected_tables`` from a catalog.

    In the browser: one checkbox per table (half-ticked when only some fields are chosen),
    the selected tables first, a search that only filters, the focused table's fields with
    automatic ones ticked and locked, "All fields (*)" that remembers the explicit list,
    unified-schema objects, undo and per-table reset. ``value`` is a synced traitlet:
    ``form.observe(cb, "value")`` works, and setting it refuses tables or fields the
    catalog lacks (``FieldMapError``).
    """

    _esm = _STATIC / "overrides_form.js"
    _css = _STATIC / "overrides_form.css"
    catalog = traitlets.Dict().tag(sync=True)
    value = traitlets.Dict().tag(sync=True)
    saved = traitlets.Dict().tag(sync=True)

    def __init__(self, catalog: Catalog, *, saved: Mapping[str, Any] | None = None) -> None:
        self._selection = Selection(catalog)
        self._static: Any = None
        tables = [[t.name, list(t.fields), sorted(t.automatic)] for t in catalog.tables.values()]
        super().__init__(catalog={"tables": tables, "unified": list(catalog.unified)})
        self.saved = self._canonical(dict(saved or {}))
        self.value = self.saved

    @classmethod
    def from_catalog(
        cls,
        catalog: Mapping[str, Any],
        *,
        field_map: Mapping[str, Any] | None = None,
        unified_tables: UnifiedTables = None,
    ) -> OverridesForm:
        """From a Singer catalog dict; ``field_map`` prefills (and is what Reset returns to);
        ``unified_tables`` is a list of object names or a ``{"Vendors": true}`` selection."""
        names, selected = _unified(unified_tables)
        saved = {"override_field_map": dict(field_map or {}), "override_selected_tables": selected}
        return cls(Catalog.from_singer(catalog, names), saved=saved)

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, *, unified_tables: UnifiedTables = None
    ) -> OverridesForm:
        """From a frame with columns ``table``, ``field`` and (optional) ``automatic``."""
        names, selected = _unified(unified_tables)
        saved = {"override_field_map": {}, "override_selected_tables": selected}
        return cls(Catalog.from_frame(frame, names), saved=saved)

    @classmethod
    def from_api(
        cls, client: Hotglue, flow_id: str, tenant: str, *, tap: str | None = None,
        connector_id: str | None = None,
    ) -> OverridesForm:  # fmt: skip
        """From the tenant's linked source (``catalog=true``), prefilled with its saved
        fieldMap and unified-schema selection; with ``connector_id``, from a two-way flow's
        linked connector (``linkedConnectors``)."""
        if isinstance(client, AsyncHotglue):
            raise ConfigError("from_api needs a Hotglue client; with AsyncHotglue use "
                              "await OverridesForm.afrom_api(...).")  # fmt: skip
        if connector_id is not None:
            _no_tap(tap)
            links = client.linked_connectors(flow_id, tenant, catalog=True, config=True,
                                             connector_id=connector_id)  # fmt: skip
            return cls._from_source(_pick_connector(links, tenant, connector_id))
        sources = client.linked_sources(flow_id, tenant, catalog=True, tap=tap, config=True)
        return cls._from_source(_pick_source(sources, tenant, tap))

    @classmethod
    async def afrom_api(
        cls, client: AsyncHotglue, flow_id: str, tenant: str, *, tap: str | None = None,
        connector_id: str | None = None,
    ) -> OverridesForm:  # fmt: skip
        """Async twin of ``from_api``."""
        if connector_id is not None:
            _no_tap(tap)
            links = await client.linked_connectors(flow_id, tenant, catalog=True, config=True,
                                                   connector_id=connector_id)  # fmt: skip
            return cls._from_source(_pick_connector(links, tenant, connector_id))
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
        return self._canonical(proposal["value"])

    def _canonical(self, value: Mapping[str, Any]) -> dict[str, Any]:
        """The value as the API takes it; refuses what the catalog lacks (FieldMapError)."""
        selection = Selection(self._selection.catalog)
        selection.load(value or {"override_field_map": {}, "override_selected_tables": {}})
        return selection.value()

    @traitlets.observe("value")
    def _on_value_change(self, change: dict[str, Any]) -> None:
        if self._static is not None:
            self._static.update(self._static_html())

    # --- what a script (or a test) does instead of clicking ---------------------------------

    def reset(self) -> None:
        """Back to the saved field map (what the form was built with)."""
        self.value = self.saved

    def save(self, path: str | Path) -> Path:
        """Write ``value`` as JSON (re-usable with ``load`` or ``launch_jobs(**json)``)."""
        target = Path(path)
        target.write_text(json.dumps(self.value, indent=2), encoding="utf-8")
        return target

    def load(self, path: str | Path) -> None:
        """Read a value saved by ``save``; refuses what the catalog lacks (FieldMapError)."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise FieldMapError(f"Cannot load {path}: {exc}") from None
        self.value = data

    def counts(self) -> tuple[int, int]:
        """(selected tables, selected fields, automatic included)."""
        selection = Selection(self._selection.catalog)
        selection.load(self.value)
        return selection.counts()

    # --- a static copy for saved notebooks ---------------------------------------------------

    def _ipython_display_(self) -> None:
        """The live form, and under it a static copy of ``value`` that a saved notebook keeps
        when the kernel (and so the widget) is gone."""
        display = _ipython().display
        bundle = self._repr_mimebundle_()
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        display(data, metadata=metadata, raw=True)
        self._static = display(self._static_html(), display_id=True)

    def _static_html(self) -> Any:
        tables, fields = self.counts()
        text = html.escape(json.dumps(self.value, indent=1))
        return _ipython().HTML(
            f"<details class='hg-static'><summary>OverridesForm value: {tables} tables, "
            f"{fields} fields (a static copy, kept in the saved notebook)</summary>"
            f"<pre>{text}</pre></details>"
        )


def _ipython() -> Any:
    import IPython.display

    return IPython.display


def _unified(value: UnifiedTables) -> tuple[list[str], dict[str, bool]]:
    if value is None:
        return [], {}
    if isinstance(value, Mapping):
        return list(value), {k: True for k, v in value.items() if v}
    return list(value), {}


def _no_tap(tap: str | None) -> None:
    if tap is not None:
        raise ConfigError("tap is for V1 flows; a two-way flow's form reads its connector: "
                          "pass connector_id= only.")  # fmt: skip


def _pick_connector(links: list[dict[str, Any]], tenant: str, connector_id: str) -> dict[str, Any]:
    """The tenant's link of that connector: keyed ``id`` by hotglue [C-code] (``connector_id``
    also read, in case)."""
    for link in links:
        if connector_id in (link.get("id"), link.get("connector_id")):
            return link
    raise ConfigError(f"Tenant {tenant!r} has no linked connector {connector_id!r} in this "
                      "flow (client.linked_connectors(flow_id, tenant) lists them).")  # fmt: skip


def _pick_source(sources: list[dict[str, Any]], tenant: str, tap: str | None) -> dict[str, Any]:
    if not sources:
        raise ConfigError(f"Tenant {tenant!r} has no linked source{f' {tap!r}' if tap else ''}.")
    if tap is None and len(sources) > 1:
        taps = [s.get("tap") for s in sources]
        raise ConfigError(f"Tenant {tenant!r} has several linked sources {taps}: pass tap=.")
    return sources[0]

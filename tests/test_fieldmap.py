from __future__ import annotations

import pandas as pd
import pytest

from hotglue_nb._fieldmap import ALL, Catalog, FieldMapError, Selection


def stream(name: str, fields: list[str], auto: list[str]) -> dict[str, object]:
    return {
        "stream": name,
        "tap_stream_id": name,
        "key_properties": [],
        "schema": {"type": "object", "properties": {f: {"type": "string"} for f in fields}},
        "metadata": [
            {"breadcrumb": [], "metadata": {"table-key-properties": auto[:1]}},
            *[
                {"breadcrumb": ["properties", f], "metadata": {"inclusion": "automatic"}}
                for f in auto[1:]
            ],
        ],
    }


CATALOG = {
    "streams": [
        stream("Account", ["Id", "Name", "Industry", "Updated"], ["Id", "Updated"]),
        stream("Contact", ["Id", "Email", "Phone"], ["Id"]),
        stream("Invoice", ["Number", "Total"], []),
    ]
}


def selection() -> Selection:
    return Selection(Catalog.from_singer(CATALOG, ["Vendors", "Bills"]))


def test_catalog_from_singer() -> None:
    cat = Catalog.from_singer(CATALOG)
    assert list(cat.tables) == ["Account", "Contact", "Invoice"]
    assert cat.tables["Account"].automatic == {"Id", "Updated"}
    assert cat.tables["Account"].optional == ("Name", "Industry")
    with pytest.raises(FieldMapError, match="streams"):
        Catalog.from_singer({"tables": []})


def test_catalog_from_frame() -> None:
    frame = pd.DataFrame(
        {"table": ["A", "A", "B"], "field": ["Id", "x", "y"], "automatic": [True, False, False]}
    )
    cat = Catalog.from_frame(frame)
    assert cat.tables["A"].fields == ("Id", "x") and cat.tables["A"].automatic == {"Id"}
    with pytest.raises(FieldMapError, match="columns 'table' and 'field'"):
        Catalog.from_frame(pd.DataFrame({"name": []}))


def test_value_shapes() -> None:
    sel = selection()
    sel.set_table("Account", True)
    sel.set_table("Contact", True)
    sel.set_fields("Contact", ["Email"])
    sel.set_unified("Vendors", True)
    sel.set_unified("Bills", False)
    assert sel.value() == {
        "override_field_map": {
            "Account": {"name": "Account", "selected": ["*"]},
            "Contact": {"name": "Contact", "selected": ["Id", "Email"]},
        },
        "override_selected_tables": {"Vendors": True},
    }
    assert sel.counts() == (2, 6)


def test_automatic_fields_cannot_be_removed() -> None:
    sel = selection()
    sel.set_table("Account", True)
    sel.set_fields("Account", [])
    assert sel.fields_of("Account") == ["Id", "Updated"]
    sel.set_all_fields("Account", False)
    assert sel.field_map()["Account"]["selected"] == ["Id", "Updated"]


def test_set_tables_keeps_field_choices() -> None:
    sel = selection()
    sel.set_tables(["Account", "Contact"])
    sel.set_fields("Contact", ["Phone"])
    sel.set_tables(["Contact", "Invoice"])
    assert sel.tables == {"Contact": {"Phone"}, "Invoice": ALL}


def test_load_round_trips_and_adds_automatic_fields() -> None:
    sel = selection()
    sel.load(
        {
            "override_field_map": {"Account": {"name": "Account", "selected": ["Name"]}},
            "override_selected_tables": {"Bills": True},
        }
    )
    value = sel.value()
    assert value["override_field_map"]["Account"]["selected"] == ["Id", "Name", "Updated"]
    again = selection()
    again.load(value)
    assert again.value() == value


@pytest.mark.parametrize(
    "value,match",
    [
        pytest.param({"override_field_map": {"Nope": {"selected": ["*"]}}}, "'Nope'", id="table"),
        pytest.param(
            {"override_field_map": {"Account": {"selected": ["Id", "Colour"]}}},
            "'Account' has no field.*'Colour'",
            id="field",
        ),
        pytest.param({"override_selected_tables": {"Moons": True}}, "'Moons'", id="unified"),
        pytest.param({"field_map": {}}, "Unknown key", id="key"),
    ],
)
def test_load_refuses_what_the_catalog_lacks(value: dict[str, object], match: str) -> None:
    with pytest.raises(FieldMapError, match=match):
        selection().load(value)


def test_unknown_names_in_edits() -> None:
    sel = selection()
    with pytest.raises(FieldMapError, match="Unknown table 'X'"):
        sel.set_table("X", True)
    sel.set_table("Contact", True)
    with pytest.raises(FieldMapError, match="no field"):
        sel.set_fields("Contact", ["Fax"])
    with pytest.raises(FieldMapError, match="unified"):
        sel.set_unified("Moons", True)


def test_streams_sharing_a_name_are_one_table_with_a_warning() -> None:
    import pytest as _pytest

    import hotglue_nb as hg
    from hotglue_nb._fieldmap import Catalog

    def stream(sid: str, props: list[str]) -> dict[str, object]:
        schema = {"properties": {p: {} for p in props}}
        return {"stream": "users", "tap_stream_id": sid, "schema": schema, "key_properties": ["id"]}

    singer = {"streams": [stream("public-users", ["id", "email"]),
                          stream("sales-users", ["id", "region"])]}  # fmt: skip
    with _pytest.warns(hg.HotglueWarning, match=r"\['public-users', 'sales-users'\] share"):
        catalog = Catalog.from_singer(singer)
    assert list(catalog.tables) == ["users"]
    assert catalog.tables["users"].fields == ("id", "email", "region")  # nothing dropped

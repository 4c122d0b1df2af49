// OverridesForm's front end (anywidget ESM, no build step): a checkbox tree of the catalog.
// The Python side owns validation; this view owns the clicks. Every change sends one whole
// `value` ({override_field_map, override_selected_tables}) in one message.

const ROW = 28; // px per table row: the list renders only the rows in view (500+ tables)
const ALL = "*";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, val] of Object.entries(attrs)) {
    if (key === "class") node.className = val;
    else if (key === "text") node.textContent = val;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), val);
    else if (val !== false && val !== undefined && val !== null) node.setAttribute(key, val);
  }
  for (const child of children) if (child) node.append(child);
  return node;
}

class Editor {
  constructor(model, root) {
    this.model = model;
    this.root = root;
    this.sel = new Map(); // table -> "*" | Set(optional fields)
    this.memory = new Map(); // table -> its last explicit choice (kept when unticked or "*")
    this.unified = new Map();
    this.undo = [];
    this.query = "";
    this.selectedOnly = false;
    this.focus = null;
    this.fromCatalog();
  }

  // --- model -> state ---------------------------------------------------------------------

  fromCatalog() {
    const catalog = this.model.get("catalog") || { tables: [], unified: [] };
    this.tables = catalog.tables.map(([name, fields, automatic]) => {
      const auto = new Set(automatic);
      return { name, fields, auto, optional: fields.filter((f) => !auto.has(f)) };
    });
    this.byName = new Map(this.tables.map((t) => [t.name, t]));
    this.unifiedNames = catalog.unified;
    this.fromValue();
    this.order = this.ordered();
  }

  fromValue() {
    const value = this.model.get("value") || {};
    this.sel = this.parse(value.override_field_map || {});
    this.unified = new Map(Object.entries(value.override_selected_tables || {}));
    if (this.focus === null && this.sel.size) this.focus = this.sel.keys().next().value;
    if (this.focus === null && this.tables.length) this.focus = this.tables[0].name;
  }

  parse(fieldMap) {
    const sel = new Map();
    for (const [name, entry] of Object.entries(fieldMap)) {
      const table = this.byName.get(name);
      if (!table) continue;
      const chosen = (entry && entry.selected) || [ALL];
      sel.set(name, chosen.length === 1 && chosen[0] === ALL
        ? ALL : new Set(chosen.filter((f) => !table.auto.has(f))));
    }
    return sel;
  }

  // --- state -> model ---------------------------------------------------------------------

  value() {
    const fieldMap = {};
    for (const table of this.tables) {
      const chosen = this.sel.get(table.name);
      if (chosen === undefined) continue;
      const selected = chosen === ALL ? [ALL]
        : table.fields.filter((f) => table.auto.has(f) || chosen.has(f));
      fieldMap[table.name] = { name: table.name, selected };
    }
    const tables = {};
    for (const name of this.unifiedNames) if (this.unified.get(name)) tables[name] = true;
    return { override_field_map: fieldMap, override_selected_tables: tables };
  }

  commit(change) {
    this.undo.push(JSON.stringify(this.value()));
    change();
    this.model.set("value", this.value());
    this.model.save_changes();
    this.render();
  }

  // --- actions ---------------------------------------------------------------------------

  saved(name) {
    const saved = this.model.get("saved") || {};
    return this.parse((saved.override_field_map || {})).get(name);
  }

  toggleTable(name) {
    this.commit(() => {
      if (this.sel.has(name)) {
        this.memory.set(name, this.sel.get(name));
        this.sel.delete(name);
      } else {
        this.sel.set(name, this.memory.get(name) ?? this.saved(name) ?? ALL);
      }
    });
  }

  toggleAllFields(name) {
    const table = this.byName.get(name);
    this.commit(() => {
      const current = this.sel.get(name);
      if (current === ALL) {
        const kept = this.memory.get(name);
        this.sel.set(name, kept instanceof Set ? new Set(kept) : new Set(table.optional));
      } else {
        if (current instanceof Set) this.memory.set(name, new Set(current));
        this.sel.set(name, ALL);
      }
    });
  }

  toggleField(name, field) {
    const table = this.byName.get(name);
    this.commit(() => {
      const current = this.sel.get(name);
      const chosen = current === ALL || current === undefined
        ? new Set(current === ALL ? table.optional : []) : new Set(current);
      if (chosen.has(field)) chosen.delete(field); else chosen.add(field);
      this.sel.set(name, chosen);
      this.memory.set(name, new Set(chosen));
    });
  }

  resetTable(name) {
    this.commit(() => {
      const saved = this.saved(name);
      if (saved === undefined) this.sel.delete(name); else this.sel.set(name, saved);
      this.memory.delete(name);
    });
  }

  shown(on) {
    this.commit(() => {
      for (const name of this.visible()) {
        if (on && !this.sel.has(name)) this.sel.set(name, this.memory.get(name) ?? ALL);
        if (!on && this.sel.has(name)) {
          this.memory.set(name, this.sel.get(name));
          this.sel.delete(name);
        }
      }
    });
  }

  back() {
    const previous = this.undo.pop();
    if (previous === undefined) return;
    const value = JSON.parse(previous);
    this.sel = this.parse(value.override_field_map);
    this.unified = new Map(Object.entries(value.override_selected_tables));
    this.model.set("value", value);
    this.model.save_changes();
    this.render();
  }

  resetAll() {
    this.commit(() => {
      const saved = this.model.get("saved") || {};
      this.sel = this.parse(saved.override_field_map || {});
      this.unified = new Map(Object.entries(saved.override_selected_tables || {}));
      this.memory.clear();
    });
  }

  // --- what is shown ---------------------------------------------------------------------

  ordered() {
    const on = this.tables.filter((t) => this.sel.has(t.name)).map((t) => t.name);
    const off = this.tables.filter((t) => !this.sel.has(t.name)).map((t) => t.name);
    return [...on, ...off]; // selected first: the choice is visible without scrolling
  }

  visible() {
    const q = this.query.toLowerCase();
    return this.order.filter((name) => (!q || name.toLowerCase().includes(q))
      && (!this.selectedOnly || this.sel.has(name)));
  }

  count(table) {
    const chosen = this.sel.get(table.name);
    if (chosen === undefined) return 0;
    return chosen === ALL ? table.fields.length : table.auto.size + chosen.size;
  }

  // --- rendering --------------------------------------------------------------------------

  mount() {
    this.counts = el("span", { class: "hg-counts", "data-testid": "hg-counts" });
    this.undoButton = el("button", { class: "hg-button", "data-testid": "hg-undo",
      text: "Undo", onclick: () => this.back() });
    const reset = el("button", { class: "hg-button", "data-testid": "hg-reset",
      text: "Reset to saved", onclick: () => this.resetAll() });
    const search = el("input", { class: "hg-search", type: "search", "data-testid": "hg-search",
      placeholder: "Search tables", oninput: (e) => { this.query = e.target.value;
        this.order = this.ordered(); this.list.scrollTop = 0; this.renderList(); } });
    const only = el("input", { type: "checkbox", "data-testid": "hg-selected-only",
      onchange: (e) => { this.selectedOnly = e.target.checked; this.order = this.ordered();
        this.renderList(); } });
    const showOn = el("button", { class: "hg-button", text: "Select shown",
      "data-testid": "hg-select-shown", onclick: () => this.shown(true) });
    const showOff = el("button", { class: "hg-button", text: "Clear shown",
      "data-testid": "hg-clear-shown", onclick: () => this.shown(false) });
    this.list = el("div", { class: "hg-list", "data-testid": "hg-list",
      onscroll: () => this.renderRows() });
    this.spacer = el("div", { class: "hg-spacer" });
    this.list.append(this.spacer);
    this.fields = el("div", { class: "hg-fields", "data-testid": "hg-fields" });
    this.unifiedBar = el("div", { class: "hg-unified", "data-testid": "hg-unified" });
    this.preview = el("pre", { class: "hg-preview", "data-testid": "hg-preview" });
    this.root.append(el("div", { class: "hg-form" },
      el("div", { class: "hg-bar" }, this.counts, this.undoButton, reset),
      el("div", { class: "hg-bar" }, search, el("label", { class: "hg-only" }, only,
        " selected only"), showOn, showOff),
      el("div", { class: "hg-panes" }, this.list, this.fields),
      this.unifiedBar,
      el("details", {}, el("summary", { text: "value (JSON sent as overrides)" }), this.preview)));
    this.render();
  }

  render() {
    const [tables, fields] = [this.sel.size,
      this.tables.reduce((n, t) => n + this.count(t), 0)];
    this.counts.innerHTML = `<b>${tables}</b> tables, <b>${fields}</b> fields selected`;
    this.undoButton.disabled = this.undo.length === 0;
    this.renderList();
    this.renderFields();
    this.renderUnified();
    this.preview.textContent = JSON.stringify(this.value(), null, 1);
  }

  renderList() {
    this.rows = this.visible();
    this.spacer.style.height = `${this.rows.length * ROW}px`;
    this.renderRows();
  }

  renderRows() {
    const first = Math.max(0, Math.floor(this.list.scrollTop / ROW) - 5);
    const last = Math.min(this.rows.length, first + Math.ceil(this.list.clientHeight / ROW) + 10);
    this.spacer.replaceChildren(...this.rows.slice(first, last).map((name, i) =>
      this.row(this.byName.get(name), first + i)));
  }

  row(table, index) {
    const n = this.count(table);
    const chosen = this.sel.get(table.name);
    const box = el("input", { type: "checkbox", "data-testid": "hg-table-check",
      "aria-label": `select table ${table.name}`, onchange: () => this.toggleTable(table.name) });
    box.checked = chosen !== undefined;
    box.indeterminate = chosen instanceof Set && n < table.fields.length;
    const name = el("span", { class: "hg-name", text: table.name });
    return el("div", { class: `hg-row${this.focus === table.name ? " hg-focus" : ""}`
      + (chosen !== undefined ? " hg-on" : ""), style: `top:${index * ROW}px`,
      "data-testid": "hg-table-row", "data-name": table.name,
      onclick: (e) => { if (e.target !== box) { this.focus = table.name; this.render(); } } },
      box, name, el("span", { class: "hg-n", text: `${n}/${table.fields.length}` }));
  }

  renderFields() {
    const table = this.byName.get(this.focus);
    if (!table) { this.fields.replaceChildren(el("p", { text: "No table." })); return; }
    const chosen = this.sel.get(table.name);
    const all = el("input", { type: "checkbox", "data-testid": "hg-all-fields",
      onchange: () => this.toggleAllFields(table.name) });
    all.checked = chosen === ALL;
    const rows = table.fields.map((field) => {
      const auto = table.auto.has(field);
      const box = el("input", { type: "checkbox", "data-testid": "hg-field-check",
        "data-field": field, disabled: auto || undefined,
        onchange: () => this.toggleField(table.name, field) });
      box.checked = chosen !== undefined && (auto || chosen === ALL || chosen.has(field));
      return el("label", { class: `hg-field${auto ? " hg-auto" : ""}` }, box, ` ${field}`,
        auto ? el("span", { class: "hg-tag", text: "automatic (always sent)" }) : null);
    });
    this.fields.replaceChildren(
      el("div", { class: "hg-fields-head", "data-testid": "hg-fields-head" },
        el("b", { text: `Fields of ${table.name}` }),
        el("span", { text: ` · ${this.count(table)} of ${table.fields.length} selected` }),
        el("button", { class: "hg-button", text: "Reset table", "data-testid": "hg-reset-table",
          onclick: () => this.resetTable(table.name) })),
      el("label", { class: "hg-field hg-all" }, all,
        " All fields (*) — also those the source adds later"),
      el("div", { class: "hg-field-list" }, ...rows));
  }

  renderUnified() {
    if (!this.unifiedNames.length) { this.unifiedBar.replaceChildren(); return; }
    const boxes = this.unifiedNames.map((name) => {
      const box = el("input", { type: "checkbox", "data-testid": "hg-unified-check",
        "data-name": name, onchange: (e) => this.commit(() => this.unified.set(name,
          e.target.checked)) });
      box.checked = Boolean(this.unified.get(name));
      return el("label", { class: "hg-chip" }, box, ` ${name}`);
    });
    this.unifiedBar.replaceChildren(el("b", { text: "Unified objects: " }), ...boxes);
  }
}

function render({ model, el: root }) {
  const editor = new Editor(model, root);
  editor.mount();
  const onValue = () => {
    const mine = JSON.stringify(editor.value());
    if (JSON.stringify(model.get("value")) !== mine) {
      editor.fromValue();
      editor.order = editor.ordered();
      editor.render();
    }
  };
  const onCatalog = () => { editor.fromCatalog(); editor.render(); };
  model.on("change:value", onValue);
  model.on("change:catalog", onCatalog);
  return () => { model.off("change:value", onValue); model.off("change:catalog", onCatalog); };
}

export default { render };

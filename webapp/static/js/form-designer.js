// The record type designer: a field builder that writes the JSON schema textarea, a live preview drawn by the
// server (form-designer-preview.js) and list settings that follow the fields. The schema model is in
// form-designer-schema.js. Without these scripts the textarea and the other inputs still post a whole definition.
(function () {
  "use strict";

  var form = document.querySelector("form[data-fd-designer]");
  if (!form) { return; }

  // ------------------------------------------------------------------ what the page gives us
  var DATA = JSON.parse(document.getElementById("fd-designer-data").textContent);
  var T = JSON.parse(document.getElementById("fd-designer-text").textContent);
  var CHINESE = (document.documentElement.lang || "").indexOf("zh") === 0;
  var KIND_LABELS = {};
  DATA.kinds.forEach(function (pair) { KIND_LABELS[pair[0]] = pair[1]; });
  var S = window.FdSchema;
  S.useKinds(Object.keys(KIND_LABELS));
  var has = S.has;
  var joinTitle = S.joinTitle;
  var NUMERIC = S.NUMERIC;
  var TEXTUAL = S.TEXTUAL;
  var COMPUTABLE = S.COMPUTABLE;
  var FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
  var EXPRESSION = "__expression__";
  var textarea = form.querySelector("textarea[name=schema]");
  var builder = form.querySelector("[data-fd-builder]");
  var jsonPane = form.querySelector("[data-fd-json]");
  var jsonStatus = form.querySelector("[data-fd-json-status]");
  var serverError = document.getElementById("rt-schema-error");
  var model = null;
  var dirty = false;

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return values[key] !== undefined ? values[key] : all; });
  }

  // ------------------------------------------------------------------ drawing the builder
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === undefined || value === null || value === false) { return; }
      if (key === "text") { node.textContent = value; } else if (key === "className") { node.className = value; } else if (has(["value", "checked", "hidden", "disabled", "selected"], key)) { node[key] = value; } else { node.setAttribute(key, value === true ? "" : value); }
    });
    (children || []).forEach(function (child) {
      if (child) { node.appendChild(typeof child === "string" ? document.createTextNode(child) : child); }
    });
    return node;
  }
  function labelOf(f) { return (CHINESE ? (f.zh || f.en) : (f.en || f.zh)) || f.name || T.newField; }
  function control(f, prop, label, value, options) {
    options = options || {};
    var id = f.uid + "-" + prop;
    return el("div", {className: options.col || "col-md-6"}, [
      el("label", {className: "form-label small mb-1", "for": id, text: label}),
      el("input", {className: "form-control form-control-sm" + (options.mono ? " font-monospace" : ""), id: id,
        value: value, "data-prop": prop, type: options.type || "text", inputmode: options.inputmode,
        placeholder: options.placeholder, maxlength: options.maxlength, spellcheck: options.mono ? "false" : null,
        autocomplete: "off", "aria-describedby": options.help ? id + "-help" : null}),
      options.help ? el("div", {className: "form-text", id: id + "-help", text: options.help}) : null]);
  }
  function chooser(f, prop, label, pairs, value, col) {
    var id = f.uid + "-" + prop;
    var select = el("select", {className: "form-select form-select-sm", id: id, "data-prop": prop});
    pairs.forEach(function (pair) {
      select.appendChild(el("option", {value: pair[0], text: pair[1], disabled: pair[2], selected: pair[0] === value}));
    });
    return el("div", {className: col || "col-md-6"}, [el("label", {className: "form-label small mb-1", "for": id, text: label}), select]);
  }
  function tick(f, prop, label, checked, col) {
    var id = f.uid + "-" + prop;
    return el("div", {className: col || "col-md-4"}, [el("div", {className: "form-check mt-md-4"}, [
      el("input", {className: "form-check-input", type: "checkbox", id: id, checked: checked, "data-prop": prop}),
      el("label", {className: "form-check-label", "for": id, text: label})])]);
  }
  function badge(label, cls) { return el("span", {className: "badge ms-1 " + cls, text: label}); }

  function nameProblem(f, list) {
    if (!FIELD_NAME.test(f.name)) { return T.badName; }
    return list.some(function (g) { return g !== f && g.name === f.name; }) ? T.duplicate : "";
  }

  function head(f, index, list) {
    var name = labelOf(f);
    var toggle = el("button", {type: "button", className: "btn btn-link fd-toggle", id: f.uid + "-toggle",
      "aria-expanded": String(f.open), "aria-controls": f.uid + "-body", "data-act": "toggle", title: say(T.edit, {name: name})}, [
      el("span", {className: "fd-title", text: name}),
      el("span", {className: "text-muted small ms-2", "data-fd-summary": "", text: (f.name || "?") + " · " + (KIND_LABELS[f.kind] || f.kind)}),
      f.required ? badge(T.requiredShort, "text-bg-light border") : null,
      f.computed.trim() && has(COMPUTABLE, f.kind) ? badge(T.computedShort, "text-bg-info") : null,
      (f.cond.field || (f.cond.op === "expression" && f.cond.value.trim())) ? badge(T.conditionShort, "text-bg-warning") : null]);
    return el("div", {className: "fd-field-head"}, [
      el("span", {className: "fd-pos", "aria-hidden": "true", text: String(index + 1)}), toggle,
      el("div", {className: "btn-group btn-group-sm", role: "group"}, [
        el("button", {type: "button", className: "btn btn-outline-secondary", id: f.uid + "-up", "data-act": "up",
          disabled: index === 0, "aria-label": say(T.moveUp, {name: name}), title: say(T.moveUp, {name: name}), text: "↑"}),
        el("button", {type: "button", className: "btn btn-outline-secondary", id: f.uid + "-down", "data-act": "down",
          disabled: index === list.length - 1, "aria-label": say(T.moveDown, {name: name}), title: say(T.moveDown, {name: name}), text: "↓"}),
        el("button", {type: "button", className: "btn btn-outline-danger", id: f.uid + "-remove", "data-act": "remove",
          "aria-label": say(T.removeNamed, {name: name}), title: say(T.removeNamed, {name: name}), text: "×"})])]);
  }

  function optionsEditor(f) {
    var rows = f.options.map(function (o, i) {
      var id = f.uid + "-opt-" + i;
      return el("tr", {}, [
        el("td", {}, [el("input", {className: "form-control form-control-sm font-monospace", id: id + "-value", value: o.value, "data-prop": "opt-value", "data-index": i, "aria-label": T.value + " " + (i + 1)})]),
        el("td", {}, [el("input", {className: "form-control form-control-sm", id: id + "-zh", value: o.zh, "data-prop": "opt-zh", "data-index": i, "aria-label": T.labelZh + " " + (i + 1)})]),
        el("td", {}, [el("input", {className: "form-control form-control-sm", id: id + "-en", value: o.en, "data-prop": "opt-en", "data-index": i, "aria-label": T.labelEn + " " + (i + 1)})]),
        el("td", {className: "text-end"}, [el("button", {type: "button", className: "btn btn-sm btn-outline-danger", id: id + "-remove", "data-act": "opt-remove", "data-index": i, "aria-label": T.remove + " " + (o.value || i + 1), text: "×"})])]);
    });
    return el("div", {className: "col-12"}, [
      el("div", {className: "form-label small mb-1", text: T.options}),
      f.options.length ? el("table", {className: "table table-sm mb-1 fd-options"}, [
        el("thead", {}, [el("tr", {}, [el("th", {className: "small fw-normal text-muted", text: T.value}), el("th", {className: "small fw-normal text-muted", text: T.labelZh}), el("th", {className: "small fw-normal text-muted", text: T.labelEn}), el("th", {})])]),
        el("tbody", {}, rows)]) : el("div", {className: "small text-muted mb-1", text: T.noOptions}),
      el("button", {type: "button", className: "btn btn-sm btn-outline-primary", id: f.uid + "-opt-add", "data-act": "opt-add", text: "+ " + T.addOption})]);
  }

  function conditionEditor(f) {
    var others = model.fields.filter(function (g) { return g !== f && g.kind !== "table" && g.name; });
    var c = f.cond;
    var target = S.byName(model.fields, c.field);
    var ops = [["equals", T.equals], ["in", T["in"]], ["filled", T.filled], ["notFilled", T.notFilled]];
    var choices = [["", T.always]].concat(others.map(function (g) { return [g.name, labelOf(g) + " (" + g.name + ")"]; }));
    choices.push([EXPRESSION, T.expression]);
    var parts = [chooser(f, "cond-field", T.visibleIf, choices, c.op === "expression" ? EXPRESSION : c.field, "col-md-4")];
    if (!c.field && c.op !== "expression") { return parts; }
    if (c.op !== "expression") { parts.push(chooser(f, "cond-op", "\u00a0", ops, c.op, "col-md-3")); }
    if (c.op !== "filled" && c.op !== "notFilled") {
      var value = control(f, "cond-value", c.op === "expression" ? T.expression : T.condValue, c.value,
        {col: c.op === "expression" ? "col-md-8" : "col-md-5", mono: c.op === "expression",
          help: c.op === "in" ? T.condHint : null, placeholder: c.op === "expression" ? "amount > 10000" : null});
      if (target && target.options.length && c.op !== "expression") {
        value.querySelector("input").setAttribute("list", f.uid + "-cond-options");
        value.appendChild(el("datalist", {id: f.uid + "-cond-options"}, target.options.map(function (o) { return el("option", {value: o.value, text: joinTitle(o.en, o.zh)}); })));
      }
      parts.push(value);
    }
    return parts;
  }

  function body(f, list, isColumn) {
    var kinds = (isColumn ? DATA.columnKinds : DATA.kinds.map(function (k) { return k[0]; })).map(function (k) {
      var taken = k === "table" && model.fields.some(function (g) { return g !== f && g.kind === "table"; });
      return [k, KIND_LABELS[k] + (taken ? " — " + T.oneTable : ""), taken];
    });
    var problem = nameProblem(f, list);
    var nameBox = control(f, "name", T.name, f.name, {col: "col-md-4", mono: true, maxlength: 64});
    nameBox.querySelector("input").title = T.nameHelp;
    if (problem) {
      nameBox.querySelector("input").classList.add("is-invalid");
      nameBox.appendChild(el("div", {className: "invalid-feedback", text: problem}));
    }
    var parts = [control(f, "zh", T.labelZh, f.zh), control(f, "en", T.labelEn, f.en),
      nameBox, chooser(f, "kind", T.kind, kinds, f.kind, "col-md-4"), tick(f, "required", T.required, f.required),
      control(f, "helpZh", T.helpZh, f.helpZh), control(f, "helpEn", T.helpEn, f.helpEn)];
    if (f.kind === "choice" || f.kind === "multichoice") { parts.push(optionsEditor(f)); }
    if (f.kind === "choice") { parts.push(chooser(f, "widget", T.display, [["", T.dropdown], ["radio", T.radio]], f.widget, "col-md-4")); }
    if (f.kind === "boolean") { parts.push(chooser(f, "widget", T.display, [["", T.checkbox], ["switch", T["switch"]]], f.widget, "col-md-4")); }
    if (f.kind === "dictionary") {
      var dicts = [["", T.chooseDictionary]].concat(DATA.dictionaries.map(function (d) { return [d[0], (CHINESE ? d[1] : d[2] || d[1]) + " (" + d[0] + ")"]; }));
      if (f.dictionary && !dicts.some(function (d) { return d[0] === f.dictionary; })) { dicts.push([f.dictionary, f.dictionary]); }
      parts.push(chooser(f, "dictionary", T.dictionary, dicts, f.dictionary));
    }
    if (f.kind === "reference") {
      var own = (form.querySelector("input[name=key]") || {}).value || DATA.ownKey;
      var types = [["", T.chooseType]].concat(DATA.types.map(function (t) { return [t[0], (CHINESE ? t[1] : t[2] || t[1]) + " (" + t[0] + ")"]; }));
      if (own && !types.some(function (t) { return t[0] === own; })) { types.push([own, own]); }
      if (f.reference && !types.some(function (t) { return t[0] === f.reference; })) { types.push([f.reference, f.reference]); }
      parts.push(chooser(f, "reference", T.reference, types, f.reference));
    }
    if (f.kind === "money") { parts.push(chooser(f, "currency", T.currency, DATA.currencies.map(function (c) { return [c, c]; }), f.currency, "col-md-4")); }
    if (has(NUMERIC, f.kind)) {
      parts.push(control(f, "min", T.min, f.min, {col: "col-md-4", inputmode: "decimal"}));
      parts.push(control(f, "max", T.max, f.max, {col: "col-md-4", inputmode: "decimal"}));
    }
    if (has(TEXTUAL, f.kind)) { parts.push(control(f, "maxLength", T.maxLength, f.maxLength, {col: "col-md-4", type: "number"})); }
    if (f.kind === "attachments") { parts.push(control(f, "max", T.maxFiles, f.max, {col: "col-md-4", type: "number"})); }
    if (f.kind === "table") {
      parts.push(control(f, "min", T.minRows, f.min, {col: "col-md-4", type: "number"}));
      parts.push(control(f, "max", T.maxRows, f.max, {col: "col-md-4", type: "number"}));
      parts.push(el("div", {className: "col-12"}, [el("div", {className: "fd-columns", role: "group", "aria-label": T.columns}, [
        el("div", {className: "form-label small fw-semibold mb-1", text: T.columns}), listView(f.columns, true),
        el("button", {type: "button", className: "btn btn-sm btn-outline-primary", id: f.uid + "-add-column", "data-act": "add-column", "data-testid": "add-column", text: "+ " + T.addColumn})])]));
    }
    if (!isColumn) {
      parts.push(chooser(f, "width", T.width, [["", T.widthAuto], ["full", T.full], ["half", T.half], ["third", T.third], ["quarter", T.quarter]], f.width, "col-md-4"));
    }
    if (has(COMPUTABLE, f.kind)) {
      parts.push(control(f, "computed", T.computed, f.computed, {col: "col-12", mono: true, help: T.computedHint,
        placeholder: "quantity * unit_price"}));
    }
    if (!isColumn && f.kind !== "table") { parts = parts.concat(conditionEditor(f)); }
    var box = el("div", {className: "fd-field-body", id: f.uid + "-body", hidden: !f.open}, [
      f.error ? el("div", {className: "alert alert-danger py-1 px-2 small", role: "alert", text: T.serverError + " " + f.error}) : null,
      el("div", {className: "row g-2"}, parts)]);
    return box;
  }

  function card(f, index, list, isColumn) {
    return el("li", {className: "fd-field" + (f.open ? " fd-open" : "") + (f.error ? " fd-error" : ""), "data-uid": f.uid,
      "data-testid": (isColumn ? "designer-column-" : "designer-field-") + index}, [head(f, index, list), body(f, list, isColumn)]);
  }

  function listView(list, isColumn) {
    if (!list.length) { return el("p", {className: "small text-muted my-2", text: isColumn ? T.noColumns : T.noFields}); }
    return el("ol", {className: "fd-fields", "aria-label": isColumn ? T.columns : T.field}, list.map(function (f, i) { return card(f, i, list, isColumn); }));
  }

  var announcer = el("div", {className: "visually-hidden", "aria-live": "polite", role: "status"});
  builder.parentNode.insertBefore(announcer, builder.nextSibling);
  function announce(message) { announcer.textContent = message; }

  function render() {
    var active = document.activeElement && builder.contains(document.activeElement) ? document.activeElement.id : "";
    builder.textContent = "";
    if (serverError && !DATA.errorField) {
      builder.appendChild(el("div", {className: "alert alert-danger py-2 small", role: "alert", text: serverError.textContent.trim()}));
    }
    builder.appendChild(listView(model.fields, false));
    builder.appendChild(el("button", {type: "button", className: "btn btn-sm btn-primary mt-2", id: "fd-add-field", "data-act": "add-field", "data-testid": "add-field", text: "+ " + T.addField}));
    var again = active && document.getElementById(active);
    if (again) { again.focus(); }
  }

  // ------------------------------------------------------------------ editing
  function find(id) {
    var out = null;
    function look(list, parent) {
      list.forEach(function (f, index) {
        if (f.uid === id) { out = {f: f, list: list, index: index, parent: parent}; }
        if (f.columns.length) { look(f.columns, f); }
      });
    }
    look(model.fields, null);
    return out;
  }
  function slug(value) {
    var s = value.toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 60);
    return s && /^[0-9]/.test(s) ? "f_" + s : s;
  }
  function unique(base, list, self) {
    var name = base;
    var n = 2;
    while (list.some(function (g) { return g !== self && g.name === name; })) { name = base + "_" + n++; }
    return name;
  }
  function newField(list) {
    var f = S.parseField("", {}, false);
    f.name = unique("field_" + (list.length + 1), list, f);
    f.kind = "string";
    f.rawKind = null;
    f.raw = {};
    f.open = true;
    f.isNew = true;
    f.nameTouched = false;
    return f;
  }
  function closeAll(list) {
    list.forEach(function (g) { g.open = false; closeAll(g.columns); });
  }
  function focus(id, fallback) {
    var node = document.getElementById(id);
    if (!node || node.disabled) { node = document.getElementById(fallback); }
    if (node) { node.focus(); }
  }

  function act(button) {
    var what = button.getAttribute("data-act");
    if (what === "add-field") {
      var added = newField(model.fields);
      closeAll(model.fields);
      model.fields.push(added);
      render();
      focus(added.uid + "-name");
      return changed();
    }
    var found = find(button.closest("[data-uid]").getAttribute("data-uid"));
    var f = found.f;
    var index = parseInt(button.getAttribute("data-index") || "0", 10);
    if (what === "toggle") {
      f.open = !f.open;
      render();
      return focus(f.uid + "-toggle");
    }
    if (what === "up" || what === "down") {
      var to = found.index + (what === "up" ? -1 : 1);
      if (to < 0 || to >= found.list.length) { return; }
      found.list.splice(found.index, 1);
      found.list.splice(to, 0, f);
      render();
      focus(f.uid + "-" + what, f.uid + "-" + (what === "up" ? "down" : "up"));
      announce(say(T.moved, {name: labelOf(f), n: to + 1}));
      return changed();
    }
    if (what === "remove") {
      found.list.splice(found.index, 1);
      render();
      var next = found.list[found.index] || found.list[found.index - 1];
      focus(next ? next.uid + "-toggle" : (found.parent ? found.parent.uid + "-add-column" : "fd-add-field"), "fd-add-field");
      announce(say(T.removed, {name: labelOf(f)}));
      return changed();
    }
    if (what === "add-column") {
      var column = newField(f.columns);
      closeAll(f.columns);
      f.columns.push(column);
      render();
      focus(column.uid + "-name");
      return changed();
    }
    if (what === "opt-add") {
      f.options.push({value: "", en: "", zh: ""});
      render();
      focus(f.uid + "-opt-" + (f.options.length - 1) + "-value");
      return changed();
    }
    if (what === "opt-remove") {
      f.options.splice(index, 1);
      render();
      focus(f.uid + "-opt-" + Math.min(index, f.options.length - 1) + "-value", f.uid + "-opt-add");
      return changed();
    }
  }

  var STRUCTURAL = ["kind", "required", "cond-op", "cond-field", "widget"];

  function edit(event) {
    var target = event.target;
    var prop = target.getAttribute("data-prop");
    if (!prop || !target.closest("[data-uid]")) { return; }
    if (has(STRUCTURAL, prop) && event.type !== "change") { return; }
    var found = find(target.closest("[data-uid]").getAttribute("data-uid"));
    var f = found.f;
    var value = target.type === "checkbox" ? target.checked : target.value;
    if (prop === "name") {
      f.name = value.trim();
      f.nameTouched = true;
    } else if (prop === "en") {
      f.en = value;
      var made = slug(value);
      if (f.isNew && !f.nameTouched && made) {
        f.name = unique(made, found.list, f);
        document.getElementById(f.uid + "-name").value = f.name;
      }
    } else if (prop.indexOf("opt-") === 0) {
      f.options[parseInt(target.getAttribute("data-index"), 10)][prop.slice(4)] = value;
    } else if (prop === "cond-field") {
      var wasExpression = f.cond.op === "expression";
      f.cond.field = value === EXPRESSION ? "" : value;
      if (value === EXPRESSION) { f.cond.op = "expression"; } else if (wasExpression) { f.cond = {field: f.cond.field, op: "equals", value: ""}; }
    } else if (prop.indexOf("cond-") === 0) {
      f.cond[prop.slice(5)] = value;
    } else {
      f[prop] = value;
    }
    if (has(STRUCTURAL, prop)) { render(); } else { refreshHead(f, found); }
    changed();
  }

  function refreshHead(f, found) {
    var item = builder.querySelector("[data-uid='" + f.uid + "']");
    if (!item) { return; }
    item.querySelector(".fd-title").textContent = labelOf(f);
    item.querySelector("[data-fd-summary]").textContent = (f.name || "?") + " · " + (KIND_LABELS[f.kind] || f.kind);
    found.list.forEach(function (g) {
      var input = document.getElementById(g.uid + "-name");
      if (!input) { return; }
      var problem = nameProblem(g, found.list);
      input.classList.toggle("is-invalid", !!problem);
      var feedback = input.parentNode.querySelector(".invalid-feedback");
      if (problem && !feedback) { input.parentNode.appendChild(el("div", {className: "invalid-feedback", text: problem})); } else if (feedback) {
        if (problem) { feedback.textContent = problem; } else { feedback.remove(); }
      }
    });
  }

  function changed() {
    dirty = true;
    textarea.value = JSON.stringify(S.buildSchema(model), null, 2);
    jsonStatus.textContent = "";
    refreshMeta();
    preview.schedule(function () { return textarea.value; });
  }

  builder.addEventListener("click", function (event) {
    var button = event.target.closest("[data-act]");
    if (button && builder.contains(button)) {
      event.preventDefault();
      act(button);
    }
  });
  builder.addEventListener("input", edit);
  builder.addEventListener("change", edit);

  // ------------------------------------------------------------------ list settings follow the fields
  function scalarFields() {
    return model.fields.filter(function (f) { return !has(["table", "attachments", "json"], f.kind) && FIELD_NAME.test(f.name); });
  }
  function signature() { return JSON.stringify(scalarFields().map(function (f) { return [f.name, labelOf(f)]; })); }
  var metaSignature = "";

  function checkRow(group, value, label, checked) {
    var id = "rt-" + group + "-" + value;
    return el("div", {className: "form-check"}, [
      el("input", {className: "form-check-input", type: "checkbox", id: id, name: group, value: value, checked: has(checked, value)}),
      el("label", {className: "form-check-label", "for": id}, [label + " ", el("span", {className: "text-muted small", text: value})])]);
  }

  function refreshMeta() {
    var now = signature();
    if (now === metaSignature) { return; }
    metaSignature = now;
    var fields = scalarFields();
    form.querySelectorAll("[data-fd-meta-select]").forEach(function (select) {
      var current = select.value;
      var sort = select.name === "default_sort";
      select.textContent = "";
      select.appendChild(el("option", {value: "", text: sort ? T.sortDefault : T.titleDefault}));
      fields.forEach(function (f) { select.appendChild(el("option", {value: f.name, text: labelOf(f) + " (" + f.name + ")"})); });
      if (sort) { DATA.builtins.forEach(function (b) { select.appendChild(el("option", {value: b[0], text: b[1]})); }); }
      select.value = current;
      if (select.value !== current) { select.value = ""; }
    });
    form.querySelectorAll("[data-fd-meta-checks]").forEach(function (box) {
      var group = box.getAttribute("data-fd-meta-checks");
      var checked = Array.prototype.map.call(box.querySelectorAll("input:checked"), function (i) { return i.value; });
      box.textContent = "";
      fields.forEach(function (f) { box.appendChild(checkRow(group, f.name, labelOf(f), checked)); });
      if (group === "list_columns") { DATA.builtins.forEach(function (b) { box.appendChild(checkRow(group, b[0], b[1], checked)); }); }
      if (!fields.length) { box.appendChild(el("div", {className: "small text-muted", text: T.noFieldsYet})); }
    });
  }

  var preview = window.FdPreview({form: document.querySelector("form[data-fd-preview]"), url: DATA.previewUrl, text: T,
    token: function () { return form.querySelector("input[name=csrf_token]").value; }});

  // ------------------------------------------------------------------ builder and JSON tabs
  var tabs = form.querySelector("[data-fd-tabs]");
  var jsonProblem = "";

  function show(which) {
    if (which === "builder" && jsonProblem) {
      jsonStatus.textContent = T.jsonBad + " " + jsonProblem;
      jsonStatus.className = "text-danger";
      textarea.focus();
      return;
    }
    if (which === "builder") { render(); }
    builder.hidden = which !== "builder";
    jsonPane.hidden = which !== "json";
    tabs.querySelectorAll("[data-fd-tab]").forEach(function (tab) {
      var on = tab.getAttribute("data-fd-tab") === which;
      tab.classList.toggle("active", on);
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
    });
  }

  tabs.addEventListener("click", function (event) {
    var tab = event.target.closest("[data-fd-tab]");
    if (tab) { show(tab.getAttribute("data-fd-tab")); }
  });
  tabs.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") { return; }
    var which = builder.hidden ? "builder" : "json";
    show(which);
    var tab = tabs.querySelector("[data-fd-tab='" + (builder.hidden ? "json" : "builder") + "']");
    tab.focus();
  });

  textarea.addEventListener("input", function () {
    try {
      var parsed = JSON.parse(textarea.value);
      if (!S.isObject(parsed)) { throw new Error("{ … }"); }
      model = S.parseSchema(parsed);
      jsonProblem = "";
      jsonStatus.textContent = T.jsonOk;
      jsonStatus.className = "text-success";
      dirty = true;
      refreshMeta();
      preview.schedule(function () { return textarea.value; });
    } catch (err) {
      jsonProblem = err.message;
      jsonStatus.textContent = T.jsonBad + " " + err.message;
      jsonStatus.className = "text-danger";
    }
  });

  // ------------------------------------------------------------------ start
  function markServerError() {
    if (!DATA.errorField || !serverError) { return; }
    var parts = DATA.errorField.split(".");
    var f = S.byName(model.fields, parts[0]);
    if (!f) { return; }
    var message = serverError.textContent.trim();
    f.open = true;
    var column = parts[1] ? f.columns.filter(function (c) { return c.name === parts[1]; })[0] : null;
    (column || f).error = message;
    if (column) { column.open = true; }
  }

  var initial = null;
  try { initial = JSON.parse(textarea.value || "{}"); } catch (err) { jsonProblem = err.message; }
  if (!S.isObject(initial)) {
    jsonProblem = jsonProblem || "{ … }";
    initial = {type: "object", properties: {}};
  }
  model = S.parseSchema(initial);
  markServerError();
  metaSignature = signature();
  form.querySelectorAll("[data-fd-nojs]").forEach(function (node) { node.hidden = true; });
  tabs.hidden = false;
  show(jsonProblem ? "json" : "builder");
  if (jsonProblem) { jsonStatus.textContent = T.jsonBad + " " + jsonProblem; jsonStatus.className = "text-danger"; }
  form.addEventListener("submit", function () {
    if (dirty && !builder.hidden) { textarea.value = JSON.stringify(S.buildSchema(model), null, 2); }
  });
}());

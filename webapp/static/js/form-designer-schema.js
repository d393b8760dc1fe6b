// The designer's model of a record type's fields, read from and written to JSON Schema in the forms dialect
// (docs/forms.md). Keywords the builder does not edit are kept as they were, so a round trip changes nothing.
(function () {
  "use strict";

  var KINDS = ["string", "textarea", "email", "number", "integer", "money", "percent", "date", "date-time",
    "daterange", "boolean", "choice", "multichoice", "dictionary", "user", "department", "reference",
    "attachments", "richtext", "table", "json"];  // forms/kinds.py KINDS; the page may pass its own list
  var FORMATS = {"money": "money", "percent": "percent", "date-range": "daterange", "daterange": "daterange",
    "richtext": "richtext", "html": "richtext", "user": "user", "department": "department",
    "textarea": "textarea", "attachments": "attachments"};
  var NUMERIC = ["number", "integer", "money", "percent"];
  var TEXTUAL = ["string", "textarea", "email", "richtext"];
  var COMPUTABLE = ["string", "number", "integer", "money", "percent", "date", "date-time"];
  var uid = 0;

  function isObject(value) { return value !== null && typeof value === "object" && !Array.isArray(value); }
  function clone(value) { return JSON.parse(JSON.stringify(value === undefined ? null : value)); }
  function has(list, item) { return list.indexOf(item) >= 0; }

  // ------------------------------------------------------------------ schema -> model
  function kindOf(p) {
    if (typeof p["x-kind"] === "string" && has(KINDS, p["x-kind"])) { return p["x-kind"]; }
    var type = p.type || "string";
    var format = p.format;
    var ui = isObject(p["x-ui"]) ? p["x-ui"] : {};
    if (format === "attachments" || p["x-widget"] === "attachments") { return "attachments"; }
    if (type === "array") {
      var items = isObject(p.items) ? p.items : {};
      if (items.type === "object") { return "table"; }
      return "enum" in items ? "multichoice" : "json";
    }
    if (typeof p["x-dictionary"] === "string") { return "dictionary"; }
    if (typeof p["x-reference"] === "string") { return "reference"; }
    if (typeof format === "string" && FORMATS[format]) { return FORMATS[format]; }
    if ("enum" in p) { return "choice"; }
    if (type === "string" && has(["date", "date-time", "email"], format)) { return format; }
    if (type === "string" && ((p.maxLength || 0) > 200 || ui.widget === "textarea")) { return "textarea"; }
    return has(["string", "number", "integer", "boolean"], type) ? type : "json";
  }

  function splitTitle(text) {
    text = typeof text === "string" ? text : "";
    var parts = text.split(" / ");
    if (parts.length === 2) { return {en: parts[0].trim(), zh: parts[1].trim()}; }
    return /[\u3400-\u9fff]/.test(text) ? {en: "", zh: text} : {en: text, zh: ""};
  }
  function joinTitle(en, zh) { return en && zh ? en + " / " + zh : (en || zh || ""); }
  function text(value) { return value === undefined || value === null ? "" : String(value); }

  function order(schema) {
    var props = isObject(schema.properties) ? schema.properties : {};
    var ui = isObject(schema["x-ui"]) ? schema["x-ui"] : {};
    var listed = (Array.isArray(ui.order) ? ui.order : []).filter(function (n) { return isObject(props[n]); });
    Object.keys(props).forEach(function (n) { if (!has(listed, n) && isObject(props[n])) { listed.push(n); } });
    return listed;
  }

  function condOf(raw) {
    if (typeof raw === "string") { return {field: "", op: "expression", value: raw}; }
    if (!isObject(raw) || typeof raw.field !== "string") { return {field: "", op: "equals", value: ""}; }
    if ("in" in raw) { return {field: raw.field, op: "in", value: (raw["in"] || []).map(text).join(", ")}; }
    if ("filled" in raw) { return {field: raw.field, op: raw.filled === false ? "notFilled" : "filled", value: ""}; }
    return {field: raw.field, op: "equals", value: text(raw.equals)};
  }

  function parseField(name, prop, required) {
    var kind = kindOf(prop);
    var title = splitTitle(prop.title);
    var ui = isObject(prop["x-ui"]) ? prop["x-ui"] : {};
    var help = splitTitle(ui.help || prop.description || "");
    var source = kind === "multichoice" ? (prop.items || {}) : prop;
    var names = source.enumNames || prop["x-enumNames"] || [];
    var f = {uid: "fd" + (++uid), name: name, kind: kind, rawKind: kind, raw: clone(prop), required: required,
      en: title.en, zh: title.zh, titleText: prop.title, helpEn: help.en, helpZh: help.zh,
      helpText: ui.help || prop.description || "", helpIn: ui.help ? "ui" : (prop.description ? "description" : "ui"),
      options: (Array.isArray(source["enum"]) ? source["enum"] : []).map(function (value, i) {
        var label = splitTitle(names[i] !== undefined ? names[i] : "");
        return {value: text(value), orig: value, en: label.en, zh: label.zh};
      }),
      dictionary: text(prop["x-dictionary"]), reference: text(prop["x-reference"]),
      currency: text(prop["x-currency"] || "CNY"), min: text(kind === "table" ? prop.minItems : prop.minimum),
      max: text(kind === "table" || kind === "attachments" ? prop.maxItems : prop.maximum),
      maxLength: text(prop.maxLength), computed: text(prop["x-computed"]),
      cond: condOf(prop["x-visible-if"]), width: text(ui.width), widget: text(ui.widget),
      columns: [], open: false, isNew: false, nameTouched: true};
    if (kind === "table") {
      var items = isObject(prop.items) ? prop.items : {};
      var req = Array.isArray(items.required) ? items.required : [];
      var cols = isObject(items.properties) ? items.properties : {};
      f.columns = order(items).map(function (c) { return parseField(c, cols[c], has(req, c)); });
    }
    return f;
  }

  function parseSchema(schema) {
    var props = isObject(schema.properties) ? schema.properties : {};
    var required = Array.isArray(schema.required) ? schema.required : [];
    var top = clone(schema);
    delete top.properties;
    delete top.required;
    return {top: top, fields: order(schema).map(function (n) { return parseField(n, props[n], has(required, n)); })};
  }

  // ------------------------------------------------------------------ model -> schema
  function number(value) {
    var n = Number(String(value).trim());
    return String(value).trim() !== "" && isFinite(n) ? n : undefined;
  }
  function put(target, key, value) {
    if (value === undefined || value === "" || value === null) { delete target[key]; } else { target[key] = value; }
  }
  function byName(fields, name) { return (fields.filter(function (f) { return f.name === name; })[0]) || null; }

  function typed(value, target) {
    var kind = target ? target.kind : "string";
    if (has(["number", "integer", "percent"], kind) && number(value) !== undefined) { return number(value); }
    if (kind === "boolean" && (value === "true" || value === "false")) { return value === "true"; }
    var option = target ? target.options.filter(function (o) { return o.value === value; })[0] : null;
    return option && option.orig !== undefined ? option.orig : value;
  }

  function condition(f, fields) {
    var c = f.cond;
    if (c.op === "expression") { return c.value.trim() || undefined; }
    if (!c.field) { return undefined; }
    var target = byName(fields, c.field);
    if (c.op === "filled" || c.op === "notFilled") { return {field: c.field, filled: c.op === "filled"}; }
    if (c.op === "in") {
      var values = c.value.split(/[,，]/).map(function (v) { return v.trim(); }).filter(Boolean);
      return {field: c.field, "in": values.map(function (v) { return typed(v, target); })};
    }
    return {field: c.field, equals: typed(c.value.trim(), target)};
  }

  function canonical(kind) {
    var base = {
      string: {type: "string"}, textarea: {type: "string", "x-kind": "textarea"},
      email: {type: "string", format: "email"}, number: {type: "number"}, integer: {type: "integer"},
      money: {type: "string", format: "money"}, percent: {type: "number", format: "percent"},
      date: {type: "string", format: "date"}, "date-time": {type: "string", format: "date-time"},
      daterange: {type: "object", format: "date-range"}, "boolean": {type: "boolean"},
      choice: {type: "string"}, multichoice: {type: "array", uniqueItems: true},
      dictionary: {type: "string"}, user: {type: "string", "x-kind": "user"},
      department: {type: "string", "x-kind": "department"}, reference: {type: "integer", minimum: 1},
      attachments: {type: "array", format: "attachments", items: {type: "integer"}},
      richtext: {type: "string", "x-kind": "richtext"}, table: {type: "array"}, json: {"x-kind": "json"}};
    return clone(base[kind] || {type: "string"});
  }

  function buildField(f, isColumn, fields) {
    var p;
    if (f.kind === f.rawKind) {
      p = clone(f.raw);
    } else {
      p = canonical(f.kind);
      var width = isObject(f.raw["x-ui"]) ? f.raw["x-ui"].width : undefined;
      if (width !== undefined) { p["x-ui"] = {width: width}; }
    }
    var title = joinTitle(f.en, f.zh);
    put(p, "title", title === joinTitle(splitTitle(f.titleText).en, splitTitle(f.titleText).zh) ? f.titleText : title);
    var ui = isObject(p["x-ui"]) ? p["x-ui"] : {};
    var help = joinTitle(f.helpEn, f.helpZh);
    var oldHelp = splitTitle(f.helpText);
    if (help !== joinTitle(oldHelp.en, oldHelp.zh) || f.kind !== f.rawKind) {
      delete p.description;
      put(ui, "help", help);
    }
    if (!isColumn) {
      put(ui, "width", number(f.width) !== undefined ? number(f.width) : f.width);
    }
    if (f.kind === "choice" || f.kind === "boolean") { put(ui, "widget", f.widget); } else if (f.kind !== f.rawKind) { delete ui.widget; }
    if (Object.keys(ui).length) { p["x-ui"] = ui; } else { delete p["x-ui"]; }
    if (has(TEXTUAL, f.kind)) { put(p, "maxLength", number(f.maxLength)); }
    if (has(NUMERIC, f.kind)) { put(p, "minimum", number(f.min)); put(p, "maximum", number(f.max)); }
    if (f.kind === "money") { put(p, "x-currency", f.currency || "CNY"); }
    if (f.kind === "dictionary") { p["x-dictionary"] = f.dictionary; }
    if (f.kind === "reference") { p["x-reference"] = f.reference; }
    if (f.kind === "attachments") { put(p, "maxItems", number(f.max)); }
    if (f.kind === "choice" || f.kind === "multichoice") { buildOptions(f, f.kind === "choice" ? p : (p.items = isObject(p.items) ? p.items : {type: "string"})); }
    if (f.kind === "table") { buildTable(f, p); }
    if (has(COMPUTABLE, f.kind)) { put(p, "x-computed", f.computed.trim()); }
    if (!isColumn) { put(p, "x-visible-if", condition(f, fields)); }
    return p;
  }

  function buildOptions(f, target) {
    target["enum"] = f.options.map(function (o) {
      return typeof o.orig === "number" && String(o.orig) === o.value ? o.orig : o.value;
    });
    var labels = f.options.map(function (o) { return joinTitle(o.en, o.zh) || o.value; });
    if (f.options.some(function (o) { return o.en || o.zh; })) { target.enumNames = labels; } else { delete target.enumNames; }
  }

  function buildTable(f, p) {
    put(p, "minItems", number(f.min));
    put(p, "maxItems", number(f.max));
    var items = isObject(p.items) ? p.items : {};
    items.type = "object";
    items.properties = {};
    f.columns.forEach(function (c) { items.properties[c.name] = buildField(c, true, f.columns); });
    var required = f.columns.filter(function (c) { return c.required; }).map(function (c) { return c.name; });
    if (required.length) { items.required = required; } else { delete items.required; }
    items["x-ui"] = Object.assign({}, isObject(items["x-ui"]) ? items["x-ui"] : {}, {order: f.columns.map(function (c) { return c.name; })});
    p.items = items;
  }

  function buildSchema(model) {
    var schema = clone(model.top);
    schema.$schema = schema.$schema || "https://json-schema.org/draft/2020-12/schema";
    schema.type = "object";
    var required = model.fields.filter(function (f) { return f.required; }).map(function (f) { return f.name; });
    if (required.length) { schema.required = required; }
    schema.properties = {};
    model.fields.forEach(function (f) { schema.properties[f.name] = buildField(f, false, model.fields); });
    schema["x-ui"] = Object.assign({}, isObject(schema["x-ui"]) ? schema["x-ui"] : {}, {order: model.fields.map(function (f) { return f.name; })});
    return schema;
  }

  window.FdSchema = {
    kindOf: kindOf, parseSchema: parseSchema, parseField: parseField, buildSchema: buildSchema, byName: byName,
    joinTitle: joinTitle, isObject: isObject, has: has, NUMERIC: NUMERIC, TEXTUAL: TEXTUAL, COMPUTABLE: COMPUTABLE,
    useKinds: function (list) { KINDS = list.slice(); }
  };
}());

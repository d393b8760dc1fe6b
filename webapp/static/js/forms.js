// Forms: add and remove detail table rows, show conditional fields, a small rich text editor.
// Everything here is a convenience: the server checks every post, and a form without a detail
// table works without this script (conditional fields are then all shown).
(function () {
  "use strict";
  if (window.fdForms) { return; }  // the macro may include this script more than once on a page
  window.fdForms = true;

  // ---------------------------------------------------------------- detail tables
  function renumber(table) {
    table.querySelectorAll("[data-fd-rows] [data-fd-row-number]").forEach(function (cell, i) {
      cell.textContent = String(i + 1);
    });
  }

  function updateButtons(table) {
    var rows = table.querySelectorAll("[data-fd-rows] [data-fd-row]").length;
    var max = parseInt(table.getAttribute("data-fd-max-rows") || "500", 10);
    var add = table.querySelector("[data-fd-add-row]");
    if (add) { add.hidden = false; add.disabled = rows >= max; }
    table.querySelectorAll("[data-fd-remove-row]").forEach(function (button) { button.hidden = false; });
  }

  function nextIndex(table) {
    // Row numbers only need to be unique and increasing: the server keeps their order, not their values.
    var highest = -1;
    table.querySelectorAll("[data-fd-rows] [name]").forEach(function (input) {
      var prefix = table.getAttribute("data-fd-table") + "-";
      var rest = input.name.slice(prefix.length);
      var index = parseInt(rest.split("-")[0], 10);
      if (input.name.indexOf(prefix) === 0 && !isNaN(index) && index > highest) { highest = index; }
    });
    return highest + 1;
  }

  function addRow(table) {
    var template = table.querySelector("template[data-fd-row-template]");
    var body = table.querySelector("[data-fd-rows]");
    if (!template || !body) { return; }
    var html = template.innerHTML.split("__index__").join(String(nextIndex(table)));
    var holder = document.createElement("tbody");
    holder.innerHTML = html;
    var row = holder.querySelector("[data-fd-row]");
    body.appendChild(row);
    renumber(table);
    updateButtons(table);
    var first = row.querySelector("input:not([readonly]), select, textarea");
    if (first) { first.focus(); }
  }

  function removeRow(table, row) {
    row.parentNode.removeChild(row);
    renumber(table);
    updateButtons(table);
    var add = table.querySelector("[data-fd-add-row]");
    if (add) { add.focus(); }
  }

  document.addEventListener("click", function (event) {
    var target = event.target.closest("[data-fd-add-row], [data-fd-remove-row]");
    if (!target) { return; }
    var table = target.closest("[data-fd-table]");
    if (!table) { return; }
    event.preventDefault();
    if (target.hasAttribute("data-fd-add-row")) { addRow(table); } else { removeRow(table, target.closest("[data-fd-row]")); }
  });

  // ---------------------------------------------------------------- conditional fields
  function valueOf(form, name) {
    var element = form.elements.namedItem(name);
    if (!element) { return undefined; }
    var list = element.length !== undefined && !element.tagName ? Array.prototype.slice.call(element) : [element];
    var first = list[0];
    if (first.type === "checkbox") {
      if (list.length === 1 && (first.value === "on" || first.value === "")) { return first.checked; }
      return list.filter(function (box) { return box.checked; }).map(function (box) { return box.value; });
    }
    if (first.type === "radio") {
      var picked = list.filter(function (box) { return box.checked; })[0];
      return picked ? picked.value : "";
    }
    return first.value;
  }

  function same(value, expected) {
    if (typeof value === "boolean" || typeof expected === "boolean") {
      return String(value).toLowerCase() === String(expected).toLowerCase();
    }
    return value !== undefined && value !== null && String(value) === String(expected);
  }

  function filled(value) {
    if (Array.isArray(value)) { return value.length > 0; }
    return value !== undefined && value !== null && value !== "" && value !== false;
  }

  function holds(condition, form) {
    var value = valueOf(form, condition.field);
    if ("filled" in condition) { return filled(value) === condition.filled; }
    var expected = "in" in condition ? condition["in"] : [condition.equals];
    var values = Array.isArray(value) ? value : [value];
    return values.some(function (v) { return expected.some(function (e) { return same(v, e); }); });
  }

  function applyConditions(form) {
    form.querySelectorAll("[data-fd-visible-if]").forEach(function (wrapper) {
      var condition;
      try { condition = JSON.parse(wrapper.getAttribute("data-fd-visible-if")); } catch (e) { return; }
      var shown = holds(condition, form);
      wrapper.hidden = !shown;
      // Disabled controls are not posted; the server drops a hidden field's value anyway.
      wrapper.querySelectorAll("input, select, textarea").forEach(function (input) {
        if (!input.hasAttribute("data-fd-disabled")) { input.disabled = !shown; }
      });
    });
  }

  function setUpConditions() {
    document.querySelectorAll("form").forEach(function (form) {
      if (!form.querySelector("[data-fd-visible-if]")) { return; }
      form.querySelectorAll("[data-fd-visible-if] [disabled]").forEach(function (input) {
        input.setAttribute("data-fd-disabled", "");
      });
      applyConditions(form);
      form.addEventListener("change", function () { applyConditions(form); });
      form.addEventListener("input", function () { applyConditions(form); });
    });
  }

  // ---------------------------------------------------------------- rich text
  var COMMANDS = [["bold", "B", "Bold"], ["italic", "I", "Italic"], ["insertUnorderedList", "•", "Bulleted list"],
    ["insertOrderedList", "1.", "Numbered list"], ["createLink", "Link", "Link"]];

  function setUpRichText(area) {
    var editor = document.createElement("div");
    var toolbar = document.createElement("div");
    toolbar.className = "btn-toolbar gap-1 mb-1";
    toolbar.setAttribute("role", "toolbar");
    toolbar.setAttribute("aria-controls", area.id + "-editor");
    COMMANDS.forEach(function (command) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "btn btn-sm btn-outline-secondary";
      button.textContent = command[1];
      button.setAttribute("aria-label", command[2]);
      button.title = command[2];
      button.addEventListener("click", function () {
        editor.focus();
        var argument = null;
        if (command[0] === "createLink") {
          argument = window.prompt("https://", "https://");
          if (!argument) { return; }
        }
        document.execCommand(command[0], false, argument);
        area.value = editor.innerHTML;
      });
      toolbar.appendChild(button);
    });
    editor.id = area.id + "-editor";
    editor.className = area.className.replace("is-invalid", "") + " fd-richtext-editor";
    editor.contentEditable = "true";
    editor.setAttribute("role", "textbox");
    editor.setAttribute("aria-multiline", "true");
    ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (name) {
      if (area.hasAttribute(name)) { editor.setAttribute(name, area.getAttribute(name)); }
    });
    var label = document.querySelector('label[for="' + area.id + '"]');
    if (label) {
      label.id = label.id || area.id + "-label";
      editor.setAttribute("aria-labelledby", label.id);
      label.addEventListener("click", function () { editor.focus(); });
    }
    editor.style.minHeight = "8rem";
    editor.style.overflowY = "auto";
    // The server sent this text cleaned; the browser only echoes it into the editor.
    editor.innerHTML = area.value;
    editor.addEventListener("input", function () { area.value = editor.innerHTML; });
    area.hidden = true;
    area.parentNode.insertBefore(toolbar, area);
    area.parentNode.insertBefore(editor, area);
  }

  function start() {
    document.querySelectorAll("[data-fd-table]").forEach(function (table) { renumber(table); updateButtons(table); });
    setUpConditions();
    document.querySelectorAll("textarea[data-fd-richtext]").forEach(setUpRichText);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
}());

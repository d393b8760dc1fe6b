// The designer's live preview: the schema is posted to the server, which draws it with the same form macros
// as every real form, so the preview is what people will see. Rows and conditions work as on a real form.
(function () {
  "use strict";

  function valueOf(form, name) {
    var inputs = form.querySelectorAll("[name='" + name + "']");
    if (!inputs.length) { return undefined; }
    var first = inputs[0];
    if (first.type === "checkbox" && inputs.length === 1 && (first.value === "on" || first.value === "")) { return first.checked; }
    if (first.type === "checkbox" || first.type === "radio") {
      var picked = Array.prototype.filter.call(inputs, function (i) { return i.checked; }).map(function (i) { return i.value; });
      return first.type === "radio" ? (picked[0] || "") : picked;
    }
    return first.value;
  }

  function shown(form, condition) {
    var value = valueOf(form, condition.field);
    var filled = Array.isArray(value) ? value.length > 0 : (value !== undefined && value !== "" && value !== false);
    if ("filled" in condition) { return filled === condition.filled; }
    var expected = "in" in condition ? condition["in"] : [condition.equals];
    var values = Array.isArray(value) ? value : [value];
    return values.some(function (v) {
      return expected.some(function (e) { return v !== undefined && String(v).toLowerCase() === String(e).toLowerCase(); });
    });
  }

  // options: form (the preview's form), url, token (a function giving the CSRF token), text (the page's words)
  window.FdPreview = function (options) {
    var form = options.form;
    var body = form.querySelector("[data-fd-preview-body]");
    var status = document.querySelector("[data-fd-preview-status]");
    var timer = null;
    var sequence = 0;

    function applyConditions() {
      form.querySelectorAll("[data-fd-visible-if]").forEach(function (wrapper) {
        try { wrapper.hidden = !shown(form, JSON.parse(wrapper.getAttribute("data-fd-visible-if"))); } catch (e) { wrapper.hidden = false; }
      });
    }

    function enhance() {
      // forms.js handles row buttons by delegation but only reveals them at page load.
      form.querySelectorAll("[data-fd-add-row], [data-fd-remove-row]").forEach(function (b) { b.hidden = false; });
      applyConditions();
    }

    function refresh(schemaText) {
      var mine = ++sequence;
      var data = new FormData();
      data.append("csrf_token", options.token());
      data.append("schema", schemaText);
      fetch(options.url, {method: "POST", body: data, credentials: "same-origin"}).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      }).then(function (html) {
        if (mine !== sequence) { return; }
        body.innerHTML = html;  // the server's own rendering, escaped by its templates
        enhance();
        status.textContent = options.text.updated;
      }).catch(function () {
        if (mine === sequence) { status.textContent = options.text.previewFailed; }
      });
    }

    form.addEventListener("submit", function (event) { event.preventDefault(); });
    form.addEventListener("change", applyConditions);
    form.addEventListener("input", applyConditions);
    enhance();
    return {
      schedule: function (schemaText) {
        clearTimeout(timer);
        status.textContent = options.text.updating;
        timer = setTimeout(function () { refresh(schemaText()); }, 350);
      }
    };
  };
}());

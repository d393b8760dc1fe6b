// The dictionary form: add and remove item rows. Without it the page offers three blank rows per save.
(function () {
  "use strict";

  function setUpDictionary(form) {
    var body = form.querySelector("[data-fd-items]");
    var template = form.querySelector("template[data-fd-item-template]");
    var add = form.querySelector("[data-fd-add-item]");
    if (!body || !template || !add) { return; }
    var next = body.querySelectorAll("[data-fd-item]").length;
    function reveal() { body.querySelectorAll("[data-fd-remove-item]").forEach(function (b) { b.hidden = false; }); }
    add.hidden = false;
    reveal();
    add.addEventListener("click", function () {
      var holder = document.createElement("tbody");
      holder.innerHTML = template.innerHTML.split("__index__").join(String(next++));
      var row = holder.querySelector("[data-fd-item]");
      body.appendChild(row);
      reveal();
      row.querySelector("input").focus();
    });
    body.addEventListener("click", function (event) {
      var button = event.target.closest("[data-fd-remove-item]");
      if (!button) { return; }
      button.closest("[data-fd-item]").remove();
      add.focus();
    });
  }
  document.querySelectorAll("form[data-fd-dictionary]").forEach(setUpDictionary);
}());

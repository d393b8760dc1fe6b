// The route table of a free-flow start page: add, remove and reorder steps. Without this script the page
// offers its rows plus empty ones, and the server reads them all the same.
(function () {
  "use strict";
  const editor = document.querySelector("[data-testid='route-editor']");
  if (!editor) { return; }
  const body = editor.querySelector("[data-route-rows]");
  const addButton = editor.querySelector("[data-route-add]");
  const maxSteps = parseInt(editor.dataset.maxSteps, 10) || 8;

  function rows() { return Array.from(body.querySelectorAll("[data-route-row]")); }

  function isBlank(row) {
    return Array.from(row.querySelectorAll("input")).every(function (input) { return !input.value.trim(); });
  }

  function renumber() {
    rows().forEach(function (row, index) {
      row.querySelector("[data-route-number]").textContent = index + 1;
      row.querySelectorAll("[name^='route-']").forEach(function (field) {
        field.name = field.name.replace(/^route-\d+-/, "route-" + index + "-");
      });
      row.querySelector("[data-route-up]").disabled = index === 0;
      row.querySelector("[data-route-down]").disabled = index === rows().length - 1;
    });
    addButton.disabled = rows().length >= maxSteps;
  }

  function follow(row) {
    // The "who" field suggests people, roles or departments according to the chosen kind.
    const kind = row.querySelector("[data-route-kind]");
    const who = row.querySelector("[name$='-who']");
    const update = function () {
      who.setAttribute("list", "fd-route-" + kind.value);
      who.placeholder = kind.value === "users" ? who.dataset.peopleHint : "";
    };
    who.dataset.peopleHint = who.placeholder;
    kind.addEventListener("change", update);
    update();
  }

  body.addEventListener("click", function (event) {
    const button = event.target.closest("button");
    if (!button) { return; }
    const row = button.closest("[data-route-row]");
    if (button.hasAttribute("data-route-remove")) {
      if (rows().length > 1) { row.remove(); } else { row.querySelectorAll("input").forEach(function (i) { i.value = ""; }); }
    } else if (button.hasAttribute("data-route-up") && row.previousElementSibling) {
      body.insertBefore(row, row.previousElementSibling);
    } else if (button.hasAttribute("data-route-down") && row.nextElementSibling) {
      body.insertBefore(row.nextElementSibling, row);
    }
    renumber();
  });

  addButton.addEventListener("click", function () {
    const template = rows()[rows().length - 1];
    const row = template.cloneNode(true);
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    row.querySelector("[data-route-kind]").value = "users";
    body.appendChild(row);
    follow(row);
    renumber();
    row.querySelector("input").focus();
  });

  // With the script, the empty rows offered for adding are not needed: keep the steps and one to fill.
  const blanks = rows().filter(isBlank);
  blanks.slice(rows().length - blanks.length > 0 ? 0 : 1).forEach(function (row) { row.remove(); });
  rows().forEach(follow);
  addButton.classList.remove("d-none");
  renumber();
}());

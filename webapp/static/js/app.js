// Small progressive enhancements; every page works without them.
document.addEventListener("submit", function (event) {
  // The inbox's "form field equals" pair becomes an f.<field>=<value> filter parameter.
  var form = event.target;
  var name = form.querySelector("[data-fd-field-name]");
  var value = form.querySelector("[data-fd-field-value]");
  if (name && value && name.value.trim() && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name.value.trim())) {
    var hidden = document.createElement("input");
    hidden.type = "hidden";
    hidden.name = "f." + name.value.trim();
    hidden.value = value.value;
    form.appendChild(hidden);
  }
});

document.addEventListener("submit", function (event) {
  // Forms marked data-confirm ask first (moving a record to the recycle bin, for example).
  var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
}, true);

document.querySelectorAll("[data-fd-copy]").forEach(function (button) {
  // A copy button shows only where the browser may write the clipboard; the field stays selectable anyway.
  if (!navigator.clipboard) { return; }
  button.hidden = false;
  button.addEventListener("click", function () {
    var field = document.querySelector(button.getAttribute("data-fd-copy"));
    if (!field) { return; }
    navigator.clipboard.writeText(field.value).then(function () {
      button.textContent = button.getAttribute("data-fd-copied") || button.textContent;
    });
  });
});

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

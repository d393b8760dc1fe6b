// Confirmations for the admin pages; CSP allows no inline script, so the messages sit in data attributes.
document.addEventListener("submit", function (event) {
  var form = event.target;
  // Saving a user form that switches an active user to "left" asks first: they lose access at once.
  if (form.hasAttribute("data-fd-user-form")) {
    var status = form.querySelector("select[name=status]");
    if (status && status.value === "left" && form.getAttribute("data-fd-was") !== "left" &&
        !window.confirm(form.getAttribute("data-fd-confirm-left"))) {
      event.preventDefault();
    }
    return;
  }
  var message = form.getAttribute("data-fd-confirm");
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Process designer pages: keep the chosen tab in the address, ask before deprecating a version.
(function () {
  "use strict";
  document.addEventListener("shown.bs.tab", function (event) {
    var view = event.target.getAttribute("data-fd-view");
    if (!view || !window.history || !window.history.replaceState) {
      return;
    }
    var url = new URL(window.location.href);
    url.searchParams.set("view", view);
    window.history.replaceState(null, "", url.toString());
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-fd-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
})();

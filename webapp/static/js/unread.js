// Keep the navigation's unread badges current without a page reload: poll a small JSON endpoint.
(function () {
  var bell = document.querySelector("[data-fd-counts]");
  if (!bell || !window.fetch) {
    return;
  }
  var url = bell.getAttribute("data-fd-counts");
  var INTERVAL_MS = 30000;

  function show(name, count) {
    var badge = document.querySelector('[data-fd-unread="' + name + '"]');
    if (!badge || typeof count !== "number") {
      return;
    }
    badge.textContent = count > 99 ? "99+" : String(count);
    badge.classList.toggle("d-none", count === 0);
  }

  function refresh() {
    // Skip hidden tabs: a background tab need not keep the server busy.
    if (document.hidden) {
      return;
    }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (counts) {
        if (counts) {
          show("notifications", counts.notifications);
          show("messages", counts.messages);
        }
      })
      .catch(function () { /* offline or signed out: try again at the next tick */ });
  }

  window.setInterval(refresh, INTERVAL_MS);
  document.addEventListener("visibilitychange", refresh);
})();

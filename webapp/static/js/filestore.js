// The file store page: keep the re-encryption progress bar current by polling a small JSON endpoint.
(function () {
  var card = document.querySelector("[data-progress-url]");
  if (!card || !window.fetch) {
    return;
  }
  var url = card.getAttribute("data-progress-url");
  var labels = JSON.parse(card.getAttribute("data-status-labels") || "{}");
  var INTERVAL_MS = 2000;
  var timer = null;
  var lastStatus = null;

  function field(name) {
    return card.querySelector('[data-fs="' + name + '"]');
  }

  function setText(name, value) {
    var node = field(name);
    if (node) {
      node.textContent = value === null || value === undefined ? "" : String(value);
    }
  }

  function when(iso) {
    return iso ? new Date(iso).toLocaleString() : "";
  }

  function show(info) {
    var bar = field("bar");
    var fill = field("fill");
    if (bar && fill) {
      bar.setAttribute("aria-valuenow", String(info.percent));
      fill.style.width = info.percent + "%";
      fill.textContent = info.percent + "%";
      fill.classList.toggle("progress-bar-striped", info.status === "running");
      fill.classList.toggle("progress-bar-animated", info.status === "running");
      fill.classList.toggle("bg-danger", info.status === "stopped");
    }
    setText("status", labels[info.status] || info.status);
    setText("done", info.done);
    setText("total", info.total === null ? "…" : info.total);
    setText("failed", info.failed);
    setText("started_at", when(info.started_at));
    setText("finished_at", when(info.finished_at));
    setText("last_error", info.last_error);
    // When a run ends the buttons change (run again, the other switch): reload once to show them.
    if (lastStatus === "running" && info.status !== "running") {
      window.location.reload();
    }
    lastStatus = info.status;
    if (info.status !== "running" && timer !== null) {
      window.clearInterval(timer);
      timer = null;
    }
  }

  function refresh() {
    if (document.hidden) {
      return;
    }
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (info) {
        if (info) {
          show(info);
        }
      })
      .catch(function () { /* offline or signed out: try again at the next tick */ });
  }

  timer = window.setInterval(refresh, INTERVAL_MS);
  document.addEventListener("visibilitychange", refresh);
  refresh();
})();

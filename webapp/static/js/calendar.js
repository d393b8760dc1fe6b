// Calendar pages, small enhancements; every page works without them.
(function () {
  "use strict";

  // A search box narrows a list of people: data-fd-filter names the list, items carry their words.
  document.querySelectorAll("[data-fd-filter]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-fd-filter"));
    if (!list) {
      return;
    }
    input.addEventListener("input", function () {
      var words = input.value.trim().toLowerCase();
      list.querySelectorAll("[data-fd-filter-item]").forEach(function (item) {
        var text = item.getAttribute("data-fd-filter-item").toLowerCase();
        item.hidden = words !== "" && text.indexOf(words) === -1;
      });
    });
    // Enter in the search box must not submit the form it sits in.
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();
      }
    });
  });

  document.querySelectorAll("[data-fd-focus]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("data-fd-focus"));
      if (target) {
        event.preventDefault();
        target.scrollIntoView({block: "center"});
        target.focus();
      }
    });
  });

  var form = document.querySelector("[data-fd-event-form]");
  if (!form) {
    return;
  }

  // All day hides the times; the repeat choice shows only the parts that go with it.
  var allDay = form.querySelector("[data-fd-all-day]");
  var repeat = form.querySelector("[data-fd-repeat]");
  function showParts() {
    form.querySelectorAll("[data-fd-time]").forEach(function (input) {
      input.hidden = allDay.checked;
    });
    form.querySelectorAll("[data-fd-all-day-hint]").forEach(function (hint) {
      hint.hidden = !allDay.checked;
    });
    var freq = repeat.value;
    form.querySelectorAll("[data-fd-repeat-only]").forEach(function (part) {
      part.hidden = freq === "none";
    });
    form.querySelectorAll("[data-fd-repeat-for]").forEach(function (part) {
      part.hidden = part.getAttribute("data-fd-repeat-for") !== freq;
    });
    var unit = form.querySelector("[data-fd-interval-unit]");
    if (unit) {
      unit.textContent = unit.getAttribute("data-" + freq) || "";
    }
  }
  allDay.addEventListener("change", showParts);
  repeat.addEventListener("change", showParts);
  showParts();

  // Moving the start keeps the end after it.
  var startDate = form.querySelector("#start_date");
  var endDate = form.querySelector("#end_date");
  startDate.addEventListener("change", function () {
    if (startDate.value && (!endDate.value || endDate.value < startDate.value)) {
      endDate.value = startDate.value;
    }
  });

  // Who is invited stays in sight while the list scrolls.
  var counter = form.querySelector("[data-fd-chosen-count]");
  var chosen = form.querySelector("[data-fd-chosen-names]");
  form.addEventListener("change", function () {
    var names = Array.prototype.map.call(form.querySelectorAll("input[name=attendees]:checked"), function (box) {
      return box.getAttribute("data-fd-name");
    });
    if (counter) {
      counter.textContent = String(names.length);
    }
    if (chosen) {
      chosen.textContent = names.length ? names.join(", ") : chosen.getAttribute("data-none");
    }
  });

  // The live conflict check: ask the server who is busy whenever the time or the attendees change.
  var panel = document.getElementById("fd-cal-live");
  var url = form.getAttribute("data-fd-conflicts");
  if (!panel || !url || !window.fetch || !window.URLSearchParams) {
    return;
  }
  var timer = null;
  var asked = 0;
  var SKIP = {csrf_token: 1, lock_version: 1, confirm: 1, title: 1, description: 1, location: 1};

  function query() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, name) {
      if (!SKIP[name] && typeof value === "string") {
        params.append(name, value);
      }
    });
    var eventId = form.getAttribute("data-fd-event");
    if (eventId) {
      params.append("event", eventId);
    }
    return params.toString();
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function show(result) {
    panel.textContent = "";
    var clashes = (result && result.clashes) || [];
    var people = form.querySelectorAll("input[name=attendees]:checked").length;
    if (!clashes.length) {
      panel.hidden = people === 0;
      if (people) {
        panel.appendChild(element("div", "alert alert-success py-2 small", panel.getAttribute("data-label-free")));
      }
      return;
    }
    var box = element("div", "alert alert-warning py-2");
    box.setAttribute("data-testid", "live-clash-warning");
    box.appendChild(element("div", "fw-semibold mb-1", panel.getAttribute("data-label-heading")));
    var list = element("ul", "mb-2 ps-3 small");
    clashes.slice(0, 10).forEach(function (clash) {
      var item = element("li");
      item.setAttribute("data-testid", "live-clash");
      item.appendChild(element("strong", "", clash.name));
      item.appendChild(document.createTextNode(" — "));
      if (clash.busy) {
        item.appendChild(element("span", "badge text-bg-secondary", panel.getAttribute("data-label-busy")));
      } else {
        item.appendChild(document.createTextNode(clash.label));
      }
      item.appendChild(element("span", "text-muted", " · " + clash.when));
      list.appendChild(item);
    });
    box.appendChild(list);
    if (clashes.length > 10) {
      box.appendChild(element("div", "small mb-2",
        panel.getAttribute("data-label-more").replace("{n}", String(clashes.length - 10))));
    }
    var save = element("button", "btn btn-warning btn-sm", panel.getAttribute("data-label-save"));
    save.type = "submit";
    save.name = "confirm";
    save.value = "1";
    save.setAttribute("data-testid", "live-save-anyway");
    box.appendChild(save);
    panel.appendChild(box);
    panel.hidden = false;
  }

  function check() {
    var mine = ++asked;
    fetch(url + "?" + query(), {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        return response.headers.get("content-type") === "application/json" ? response.json() : null;
      })
      .then(function (result) {
        if (mine !== asked || result === null) {
          return;  // an older answer, or signed out: the check on saving still runs
        }
        // The live answer replaces a warning the server rendered for times no longer chosen.
        document.querySelectorAll("[data-testid=clash-warning]").forEach(function (old) {
          old.hidden = true;
        });
        show(result.error ? null : result);
      })
      .catch(function () { /* offline: the check on saving still runs */ });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, 350);
  }

  form.querySelectorAll("[data-fd-watch]").forEach(function (input) {
    input.addEventListener("change", later);
  });
})();

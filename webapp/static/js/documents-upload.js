// The document upload form with a progress bar: the same form, sent with XMLHttpRequest so upload.onprogress
// can report. Without this script (or without FormData) the browser posts the form as usual.
(function () {
  var form = document.querySelector("[data-fd-upload]");
  if (!form || !window.FormData || !window.XMLHttpRequest) {
    return;
  }
  var box = document.querySelector("[data-fd-upload-progress]");
  var bar = box && box.querySelector(".progress-bar");
  var alertBox = document.querySelector("[data-fd-upload-error]");
  var submit = form.querySelector("[type=submit]");
  var limit = parseInt(form.getAttribute("data-fd-limit"), 10) || 0;

  function showError(message) {
    if (!alertBox) {
      window.alert(message);
      return;
    }
    alertBox.textContent = message;
    alertBox.classList.remove("d-none");
    alertBox.scrollIntoView({block: "nearest"});
  }

  function setProgress(percent) {
    if (!box || !bar) {
      return;
    }
    box.classList.remove("d-none");
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    box.setAttribute("aria-valuenow", String(percent));
  }

  function tooLarge() {
    // Refuse an oversized file before sending megabytes the server would turn away anyway.
    var input = form.querySelector("input[type=file]");
    var files = input ? input.files : [];
    for (var i = 0; limit && i < files.length; i += 1) {
      if (files[i].size > limit) {
        return files[i].name;
      }
    }
    return null;
  }

  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented) {
      return;
    }
    event.preventDefault();
    var big = tooLarge();
    if (big) {
      showError((form.getAttribute("data-fd-too-large") || "").replace("{name}", big));
      return;
    }
    if (alertBox) {
      alertBox.classList.add("d-none");
    }
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    request.setRequestHeader("X-Requested-With", "XMLHttpRequest");
    request.setRequestHeader("Accept", "application/json");
    request.upload.onprogress = function (progress) {
      if (progress.lengthComputable) {
        setProgress(Math.floor(progress.loaded * 100 / progress.total));
      }
    };
    request.onload = function () {
      var body = null;
      try {
        body = JSON.parse(request.responseText);
      } catch (ignored) {
        body = null;
      }
      if (request.status >= 200 && request.status < 300 && body && body.redirect) {
        setProgress(100);
        window.location.assign(body.redirect);
        return;
      }
      submit.disabled = false;
      if (box) {
        box.classList.add("d-none");
      }
      showError(body && body.error && body.error.message ? body.error.message : form.getAttribute("data-fd-failed"));
    };
    request.onerror = function () {
      submit.disabled = false;
      showError(form.getAttribute("data-fd-failed"));
    };
    submit.disabled = true;
    setProgress(0);
    request.send(new FormData(form));
  });
})();

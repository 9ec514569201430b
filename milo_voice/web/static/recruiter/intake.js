// Bulk intake: uploads with a progress bar (the CSRF token goes in a header, checked before the body
// is read), the reading job's progress (polled; the page can be closed and reopened), select all.
(function () {
  document.querySelectorAll("form.upload").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var bar = form.querySelector("progress.sending");
      var error = form.querySelector(".upload-error");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) {
        if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
      };
      xhr.onload = function () {
        if (xhr.status === 200) {
          window.location = JSON.parse(xhr.responseText).url;
        } else {
          bar.hidden = true;
          error.textContent = xhr.responseText || ("upload failed (" + xhr.status + ")");
          error.hidden = false;
        }
      };
      xhr.onerror = function () {
        bar.hidden = true;
        error.textContent = "the upload was interrupted; try again";
        error.hidden = false;
      };
      bar.hidden = false;
      error.hidden = true;
      xhr.send(new FormData(form));
    });
  });

  var reading = document.getElementById("reading");
  if (reading) {
    var poll = function () {
      fetch(reading.dataset.progressUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); })
        .then(function (p) {
          var bar = document.getElementById("read-progress");
          bar.max = Math.max(p.total, 1);
          bar.value = p.done;
          document.getElementById("read-count").textContent = p.done + (p.total ? " of " + p.total : "");
          if (p.status === "reading") { setTimeout(poll, 700); } else { window.location.reload(); }
        })
        .catch(function () { setTimeout(poll, 2000); });
    };
    setTimeout(poll, 500);
  }

  var all = document.getElementById("select-all");
  if (all) {
    all.addEventListener("change", function () {
      document.querySelectorAll("input[name=item][form=decide]").forEach(function (box) { box.checked = all.checked; });
    });
  }
})();

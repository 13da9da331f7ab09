// The simulator page: poll the thread, send a reply through the inbound code path.
(function () {
  "use strict";
  var picker = document.getElementById("peer");
  if (picker) picker.addEventListener("change", function () { picker.form.submit(); });
  var phone = document.querySelector(".phone");
  if (!phone) return;
  var list = document.getElementById("sim-thread");
  var form = document.getElementById("sim-reply");
  var input = document.getElementById("sim-body");
  var error = document.getElementById("sim-error");
  var lastShown = null;

  // Drawn again whenever anything changed: a new text, or a reading that arrived.
  function render(data) {
    var shown = JSON.stringify(data);
    if (shown === lastShown) return;
    lastShown = shown;
    var messages = data.messages;
    list.textContent = "";
    if (!messages.length && data.waiting) {
      var note = document.createElement("li");
      note.className = "waiting";
      note.textContent = data.waiting;
      list.appendChild(note);
      return;
    }
    messages.forEach(function (m) {
      var li = document.createElement("li");
      li.className = "bubble " + m.direction;
      var body = document.createElement("span");
      body.className = "body";
      body.textContent = m.body || "";
      var when = document.createElement("small");
      when.textContent = new Date(m.at).toLocaleString();
      li.appendChild(body);
      if (m.reading) {
        var reading = document.createElement("small");
        reading.className = "reading";
        reading.textContent = m.reading;
        li.appendChild(reading);
      }
      li.appendChild(when);
      list.appendChild(li);
    });
    list.lastElementChild && list.lastElementChild.scrollIntoView({ block: "end" });
    list.setAttribute("aria-busy", "false"); // the thread is shown: screen readers and tests wait for this
  }

  function refresh() {
    fetch(phone.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) { render(data); })
      .catch(function () {});
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    error.hidden = true;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
      .then(function (res) {
        if (!res.ok) { error.textContent = res.data.error || "Not sent."; error.hidden = false; return; }
        input.value = "";
        refresh();
      });
  });

  refresh();
  setInterval(refresh, 2000);
})();

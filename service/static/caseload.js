// The caseload page: every 10 s ask whether flags changed; if so, reload the page.
// Without JavaScript the page works the same, refreshed by hand.
(function () {
  "use strict";
  var summary = document.getElementById("caseload-summary");
  if (!summary) return;
  var baseTitle = document.title.replace(/^\(\d+ urgent\) /, "");

  function check() {
    fetch(summary.dataset.url, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        document.title = (data.urgent ? "(" + data.urgent + " urgent) " : "") + baseTitle;
        if (String(data.latest) !== summary.dataset.latest || String(data.open) !== summary.dataset.open) {
          window.location.reload();
        }
      })
      .catch(function () {});
  }

  window.setInterval(check, 10000);
})();

// The enrolment and details forms. Without JavaScript they work the same: the error
// summary has autofocus, and the time zone is taken from the number on the server.
(function () {
  "use strict";
  var summary = document.querySelector(".error-summary");
  if (summary && document.activeElement !== summary) summary.focus();
  // A summary link puts the cursor in its field (a fragment link alone only scrolls).
  if (summary) summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (!field) return;
    event.preventDefault();
    field.focus();
    field.scrollIntoView({ block: "center" });
  });

  // Left on "From the number": show which zone the number gives, once it is typed.
  var phone = document.getElementById("phone");
  var zone = document.getElementById("timezone");
  var url = zone && zone.dataset.zoneUrl;
  var token = document.querySelector("input[name=csrf_token]");
  if (!phone || !zone || !url || !token || zone.options[0].value !== "") return;
  phone.addEventListener("change", function () {
    if (zone.value !== "") return;
    var body = new URLSearchParams({ phone: phone.value });
    fetch(url, { method: "POST", body: body, credentials: "same-origin",
                 headers: { "X-CSRFToken": token.value } })
      .then(function (r) { return r.json(); })
      .then(function (data) { if (data.zone && zone.value === "") zone.value = data.zone; })
      .catch(function () {});
  });
})();

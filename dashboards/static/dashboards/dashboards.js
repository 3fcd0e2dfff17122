// Seam dashboards: three small enhancements; every page works without them.
(function () {
  "use strict";

  // The workspace switcher submits itself on change (its button is for keyboards and no-JS).
  document.querySelectorAll("form.switcher select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  // Raw payloads load when a reader opens them, not with the page.
  document.querySelectorAll("details.raw[data-src]").forEach(function (details) {
    details.addEventListener("toggle", function () {
      if (!details.open || details.dataset.loaded) { return; }
      details.dataset.loaded = "1";
      var pre = details.querySelector("pre");
      pre.textContent = "Loading…";
      fetch(details.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("HTTP " + response.status); }
          return response.json();
        })
        .then(function (data) { pre.textContent = JSON.stringify(data, null, 2); })
        .catch(function (error) { pre.textContent = "Could not load the payload (" + error.message + ")."; });
    });
  });

  // Acts that change people or resend data ask once.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });
})();

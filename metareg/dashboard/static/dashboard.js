// Live refresh: the server says (server-sent events) when alerts or the index changed;
// we re-fetch this page and swap in its live sections. Without JavaScript the pages
// are complete as served; this only saves pressing reload.
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  var status = document.getElementById("live-status");
  var busy = false, again = false;
  function refresh() {
    if (busy) { again = true; return; }
    // Never replace a form a person is typing into.
    var active = document.activeElement;
    if (active && active.form && active.value) { again = true; setTimeout(refresh, 3000); return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (fresh) el.innerHTML = fresh.innerHTML;
        });
      })
      .catch(function () {})
      .then(function () { busy = false; if (again) { again = false; refresh(); } });
  }
  var source = new EventSource("/dashboard/events");
  source.addEventListener("refresh", function () {
    if (status) status.textContent = " · live";
    refresh();
  });
  source.onerror = function () { if (status) status.textContent = " · reconnecting"; };
})();

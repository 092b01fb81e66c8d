// Live refresh: the server says (server-sent events) when alerts or the index changed;
// we re-fetch this page and swap in its live sections. Without JavaScript the pages
// are complete as served; this only saves pressing reload.
(function () {
  "use strict";
  if (!window.EventSource || !window.fetch || !window.DOMParser) return;
  var status = document.getElementById("live-status");
  var busy = false, again = false, deferred = false;
  // A section someone is writing in (a note half typed, a field with focus) is left
  // alone: swapping it would throw the text away and detach the button they reach for.
  function editing(el) {
    var fields = el.querySelectorAll("input, textarea");
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i];
      if (f === document.activeElement) return true;
      if (f.type !== "hidden" && f.value !== f.defaultValue) return true;
    }
    return false;
  }
  function later() {
    if (deferred) return;
    deferred = true;
    setTimeout(function () { deferred = false; refresh(); }, 3000);
  }
  function refresh() {
    if (busy) { again = true; return; }
    // Never replace a form a person is typing into.
    var active = document.activeElement;
    if (active && active.form && active.value) { later(); return; }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (el) {
          var fresh = doc.getElementById(el.id);
          if (!fresh) return;
          if (editing(el)) { later(); return; }
          el.innerHTML = fresh.innerHTML;
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

// pipette's status page: fetches the live part every few seconds and swaps it in (no framework, no build).
(function () {
  "use strict";
  var live = document.getElementById("live");
  var pause = document.getElementById("pause");
  var connection = document.getElementById("connection");
  var every = parseInt(live.getAttribute("data-refresh-ms"), 10) || 1000;
  var paused = false;
  var failing = false;

  pause.addEventListener("click", function () {
    paused = !paused;
    pause.setAttribute("aria-pressed", String(paused));
    pause.textContent = paused ? "Resume updates" : "Pause updates";
    connection.textContent = paused ? "Updates paused" : "";
  });

  // The region that has focus (a scrollable table) keeps it across a swap, and its scroll position too.
  function focusedRegion() {
    var el = document.activeElement;
    if (!el || !live.contains(el) || el === live) return null;
    var label = el.getAttribute("aria-label");
    return label ? { label: label, left: el.scrollLeft } : null;
  }

  function restore(region) {
    if (!region) return;
    var regions = live.querySelectorAll(".scroll[aria-label]");
    for (var i = 0; i < regions.length; i++) {
      if (regions[i].getAttribute("aria-label") === region.label) {
        regions[i].scrollLeft = region.left;
        regions[i].focus({ preventScroll: true });
        return;
      }
    }
  }

  function refresh() {
    if (paused || document.hidden) return schedule();
    fetch("status/live", { cache: "no-store", credentials: "same-origin" })
      .then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.text();
      })
      .then(function (html) {
        var region = focusedRegion();
        live.innerHTML = html;
        restore(region);
        if (failing) connection.textContent = "Reconnected";
        failing = false;
      })
      .catch(function (e) {
        failing = true;
        connection.textContent = "Cannot reach pipette (" + e.message + "); retrying";
      })
      .then(schedule);
  }

  function schedule() {
    window.setTimeout(refresh, every);
  }

  schedule();
})();

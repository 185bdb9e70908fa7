// Keeps the credential badges on the list current: asks /credentials/status.json now and
// then (the server re-checks statuses that are older than a few seconds against the
// issuer's status list) and updates each card's badge, so "Geverifieerd" does not stay on
// a credential that was suspended meanwhile. Only while the page is visible; bounded.
(function () {
  "use strict";
  var list = document.querySelector("[data-status-url]");
  if (!list || !window.fetch) { return; }
  var url = list.getAttribute("data-status-url");
  var interval = Math.max(parseInt(list.getAttribute("data-status-interval") || "15000", 10), 2000);
  var rounds = 0;
  var maxRounds = 240;
  var timer = null;
  var busy = false;

  function apply(states) {
    Object.keys(states || {}).forEach(function (id) {
      var card = list.querySelector('[data-credential="' + CSS.escape(id) + '"]');
      if (!card) { return; }
      var badge = card.querySelector("[data-state-badge]");
      var state = states[id].state;
      if (!badge || badge.getAttribute("data-state") === state) { return; }
      card.setAttribute("data-state", state);
      badge.setAttribute("data-state", state);
      badge.className = "badge badge-" + state;
      badge.textContent = states[id].label;
      var verdict = card.querySelector(".profile-verdict");
      if (verdict && state !== "verified") { verdict.classList.add("hidden"); }
    });
  }

  function tick() {
    timer = null;
    if (busy || document.hidden || rounds >= maxRounds) { return; }
    busy = true;
    rounds += 1;
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (states) { if (states) { apply(states); } })
      .catch(function () {})
      .then(function () { busy = false; timer = window.setTimeout(tick, interval); });
  }

  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && timer === null && !busy) { tick(); }
  });
  timer = window.setTimeout(tick, 2000);  // soon after opening, then every interval
}());

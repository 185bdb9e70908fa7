// Waits for something that happens elsewhere (a wallet answering a verifier's request),
// by asking the service's own JSON endpoint every few seconds; no inline script needed.
//   <div data-poll-url="/requests/ID/state" data-poll-interval="1500" data-poll-timeout="600">
// The endpoint answers {"done": false} or {"done": true, "url": "/where/to/go"}, and may add
// {"progress": n, "total": m} to move a <progress data-poll-progress> bar meanwhile.
(function () {
  "use strict";
  var box = document.querySelector("[data-poll-url]");
  if (!box) { return; }
  var url = box.getAttribute("data-poll-url");
  var interval = parseInt(box.getAttribute("data-poll-interval") || "1500", 10);
  var timeout = parseInt(box.getAttribute("data-poll-timeout") || "600", 10) * 1000;
  var started = Date.now();
  var expired = document.querySelector("[data-poll-expired]");
  var bar = document.querySelector("progress[data-poll-progress]");
  var text = document.querySelector("[data-poll-text]");
  function stop() {
    box.setAttribute("aria-busy", "false");
    if (expired) { expired.classList.remove("hidden"); }
  }
  function tick() {
    if (Date.now() - started > timeout) { stop(); return; }
    fetch(url, { headers: { "Accept": "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { done: false }; })
      .then(function (state) {
        if (state && state.done) {
          var target = state.url || window.location.href;
          if (target.charAt(0) !== "/" || target.charAt(1) === "/") { target = window.location.href; }
          window.location.assign(target);
        } else if (state && state.expired) {
          stop();
        } else if (state && typeof state.total === "number" && state.total > 0 && bar) {
          bar.max = state.total;
          bar.value = state.progress || 0;
          if (text) { text.textContent = (state.progress || 0) + " / " + state.total; }
          window.setTimeout(tick, interval);
        } else {
          window.setTimeout(tick, interval);
        }
      })
      .catch(function () { window.setTimeout(tick, interval * 2); });
  }
  box.setAttribute("aria-busy", "true");
  window.setTimeout(tick, interval);
})();

// microcred pages: small progressive enhancements (the pages work without them).
// Served by the service itself; the CSP allows no inline script.
(function () {
  "use strict";
  // "Copy" buttons copy the value of the input next to them.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var row = button.closest(".copy-row") || button.parentElement;
      var source = row ? row.querySelector(".copy-source") : null;
      if (!source) { return; }
      var done = function () {
        var label = button.textContent;
        button.textContent = button.getAttribute("data-copied-label") || label;
        window.setTimeout(function () { button.textContent = label; }, 1500);
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(source.value).then(done, function () {
          source.select();
        });
      } else {
        source.select();
        try { document.execCommand("copy"); done(); } catch (e) { /* selected for the user */ }
      }
    });
  });
})();

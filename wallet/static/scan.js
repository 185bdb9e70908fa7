// "Scan QR-code" on the receive page: the phone's camera reads an institution's offer QR.
// Progressive: the button only appears where the browser can use a camera; the page works
// without it (paste the link). Decoding uses the native BarcodeDetector where present, and
// otherwise the vendored jsQR (static/vendor/, see NOTICE.md), loaded only when needed.
(function () {
  "use strict";
  var box = document.querySelector("[data-scan]");
  if (!box || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { return; }
  var target = document.getElementById(box.getAttribute("data-scan-target"));
  var button = box.querySelector(".scan-button");
  var view = box.querySelector(".scan-view");
  var video = box.querySelector("video");
  var message = box.querySelector(".scan-message");
  var stream = null;
  var detector = null;
  var canvas = null;
  box.classList.remove("hidden");

  function accepted(text) {
    return /^(openid-credential-offer:\/\/|https:\/\/|http:\/\/)/i.test(text || "");
  }

  function stop() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    view.classList.add("hidden");
    button.textContent = box.getAttribute("data-scan-label");
    button.setAttribute("aria-expanded", "false");
  }

  function found(text) {
    stop();
    target.value = text;
    var form = target.form;
    if (form) {
      if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    }
  }

  function withJsQR(callback) {
    if (window.jsQR) { callback(); return; }
    var script = document.createElement("script");
    script.src = box.getAttribute("data-scan-decoder");
    script.onload = callback;
    script.onerror = function () { message.textContent = box.getAttribute("data-scan-unavailable"); stop(); };
    document.head.appendChild(script);
  }

  function frame() {
    if (!stream) { return; }
    if (video.readyState < 2) { window.setTimeout(frame, 200); return; }
    if (detector) {
      detector.detect(video).then(function (codes) {
        var hit = codes.map(function (c) { return c.rawValue; }).filter(accepted)[0];
        if (hit) { found(hit); } else { window.setTimeout(frame, 250); }
      }).catch(function () { window.setTimeout(frame, 500); });
      return;
    }
    canvas = canvas || document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, canvas.width, canvas.height);
    var image = context.getImageData(0, 0, canvas.width, canvas.height);
    var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
    if (code && accepted(code.data)) { found(code.data); } else { window.setTimeout(frame, 250); }
  }

  function start() {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (media) {
        stream = media;
        video.srcObject = media;
        view.classList.remove("hidden");
        button.textContent = box.getAttribute("data-scan-stop");
        button.setAttribute("aria-expanded", "true");
        message.textContent = "";
        return video.play();
      })
      .then(function () {
        if ("BarcodeDetector" in window) {
          detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          frame();
        } else {
          withJsQR(frame);
        }
      })
      .catch(function () { message.textContent = box.getAttribute("data-scan-unavailable"); stop(); });
  }

  button.setAttribute("aria-expanded", "false");
  button.addEventListener("click", function () { if (stream) { stop(); } else { start(); } });
  window.addEventListener("pagehide", stop);
}());

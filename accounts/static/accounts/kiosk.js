// Kiosk mode (accounts/kiosk.py): after the idle time with no touch, key, click or scroll, hide
// the page and post the sign-out form, which deletes what this device kept (offline.js and the
// Clear-Site-Data header) and leaves the sign-in page on screen for the next person. The
// server ends an idle session on its own too. A page brought back by Back is reloaded, so the
// server (which never lets a kiosk page be stored) answers with the sign-in page.
(function () {
  "use strict";
  var script = document.currentScript;
  var idle = parseInt(script.getAttribute("data-idle-seconds"), 10) * 1000;
  var form = document.getElementById(script.getAttribute("data-form"));
  if (!form || !idle) return;
  var timer = null;

  function signOut() {
    document.querySelector("main").hidden = true;
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  }

  function restart() {
    window.clearTimeout(timer);
    timer = window.setTimeout(signOut, idle);
  }

  ["pointerdown", "keydown", "scroll", "touchstart"].forEach(function (name) {
    window.addEventListener(name, restart, { passive: true });
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) window.location.reload();
  });
  restart();
})();

// The time left on a timed assessment: a visible clock, and a few spoken warnings (WCAG 2.2.1).
// The server fixes the deadline (with any extra time) and tells us the seconds left, so the
// learner's own clock being wrong does not matter. Without JavaScript the deadline text remains.
(function () {
  "use strict";
  var timer = document.querySelector("[data-countdown]");
  if (!timer) return;
  var deadline = Date.now() + Number(timer.getAttribute("data-seconds-left")) * 1000;
  var clock = timer.querySelector("[data-countdown-clock]");
  var announcer = document.querySelector("[data-countdown-announce]");
  // Spoken at these points only: often enough to plan, rarely enough not to interrupt.
  var marks = [15 * 60, 10 * 60, 5 * 60, 2 * 60, 60, 30];
  var spoken = {};

  function minutesAndSeconds(seconds) {
    var m = Math.floor(seconds / 60);
    var s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function inWords(seconds) {
    if (seconds >= 60) {
      var m = Math.round(seconds / 60);
      return m + (m === 1 ? " minute" : " minutes");
    }
    return seconds + " seconds";
  }

  var first = true;
  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    clock.textContent = minutesAndSeconds(left);
    marks.forEach(function (mark) {
      if (left <= mark && !spoken[mark]) {
        spoken[mark] = true;
        // Marks already passed when the page opens are not read out one after another.
        if (!first) announcer.textContent = inWords(mark) + " left. Save or submit your answers.";
      }
    });
    first = false;
    if (left === 0) {
      announcer.textContent = "Time is up. Submit now: we mark the answers saved in time.";
      timer.classList.add("aware-countdown--ended");
      window.clearInterval(interval);
    }
  }
  var interval = window.setInterval(tick, 1000);
  timer.hidden = false;
  tick();
})();

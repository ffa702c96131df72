// A toolbox talk's slides one at a time: Previous and Next buttons and the arrow keys.
// Without the script every slide shows, one after another.
(function () {
  var deck = document.querySelector("[data-toolbox-slides]");
  if (!deck) return;
  var slides = Array.prototype.slice.call(deck.querySelectorAll(".aware-talk-slide"));
  if (slides.length < 2) return;
  var position = deck.querySelector("[data-toolbox-position]");
  var previous = deck.querySelector("[data-toolbox-previous]");
  var next = deck.querySelector("[data-toolbox-next]");
  var current = 0;
  function show(index) {
    current = Math.max(0, Math.min(slides.length - 1, index));
    slides.forEach(function (slide, i) { slide.hidden = i !== current; });
    previous.disabled = current === 0;
    next.disabled = current === slides.length - 1;
    position.textContent = "Slide " + (current + 1) + " of " + slides.length;
  }
  deck.querySelector("[data-toolbox-controls]").hidden = false;
  previous.addEventListener("click", function () { show(current - 1); });
  next.addEventListener("click", function () { show(current + 1); });
  document.addEventListener("keydown", function (event) {
    var typing = event.target.closest && event.target.closest("input, textarea, select");
    if (typing) return;
    if (event.key === "ArrowRight" || event.key === "PageDown") { show(current + 1); }
    else if (event.key === "ArrowLeft" || event.key === "PageUp") { show(current - 1); }
  });
  show(0);
})();

// Voiceover and music panels: live word count and duration estimate of the script; the mood
// slider's value and the style it picks (the same four bands as the music generator).
(function () {
  "use strict";
  const form = document.querySelector("[data-voiceover-form]");
  if (form) {
    const script = form.querySelector("textarea[name=script]");
    const rate = form.querySelector("input[name=rate]");
    const count = form.querySelector("[data-word-count]");
    const seconds = form.querySelector("[data-seconds]");
    const update = () => {
      // Only tokens with a letter or digit are spoken (as the server counts): "—" or "🙂" alone are not words.
      const words = script.value.split(/\s+/).filter((token) => /[\p{L}\p{N}]/u.test(token)).length;
      count.textContent = words;
      seconds.textContent = Math.round((words / Math.max(80, Number(rate.value) || 175)) * 60);
    };
    script.addEventListener("input", update);
    rate.addEventListener("input", update);
    update();
  }
  const mood = document.querySelector("input[name=mood]");
  const out = document.querySelector("[data-mood-out]");
  const label = document.querySelector("[data-mood-label]");
  if (mood && out && label) {
    const bands = [[25, "surreal, slow pads"], [50, "intimate, soft piano"], [75, "luxury, warm keys"], [101, "high energy, drums"]];
    const update = () => {
      out.textContent = mood.value;
      label.textContent = bands.find(([top]) => Number(mood.value) < top)[1];
    };
    mood.addEventListener("input", update);
    update();
  }
})();

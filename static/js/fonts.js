// Chromium draws text that a form field held before a web font arrived with the missing-glyph box
// and keeps doing so after the font has loaded, until the text is edited. The Korean, CJK and emoji
// fonts (studio.css) load only when such characters are shown, often after a field was filled from
// the server. When fonts finish loading, each field showing such characters is edited and edited
// back (a zero-width space put in, laid out, taken out: no input event, selection kept), which
// draws its text anew. Putting the same text back is not enough: Chromium keeps the old drawing.
(function () {
  "use strict";
  if (!document.fonts || !document.fonts.addEventListener) return;
  const BEYOND_LATIN = /[^\u0000-\u024f]/;  // what the system's Latin fonts may lack: redrawing the rest costs nothing
  function redraw() {
    document.querySelectorAll("input[type=text], input:not([type]), input[type=search], textarea").forEach((field) => {
      const text = field.value;
      if (!text || !BEYOND_LATIN.test(text)) return;
      try {
        field.setRangeText("\u200b", 0, 0, "preserve");
        void field.offsetWidth;  // laid out with it
        field.setRangeText("", 0, 1, "preserve");
      } catch (err) {
        /* a field type without text selection: nothing to redraw */
      }
    });
  }
  document.fonts.addEventListener("loadingdone", redraw);
  document.fonts.ready.then(redraw);  // fonts that were done before this script ran
})();

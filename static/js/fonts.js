// Chromium draws text that a form field held before a web font arrived with the missing-glyph box
// and keeps doing so after the font has loaded, until the text is edited. The Korean, CJK and emoji
// fonts (studio.css) load only when such characters are shown, often after a field was filled from
// the server. When fonts finish loading, each field showing such characters is edited and edited
// back (a zero-width space put in, laid out, taken out: no input event, selection kept), which
// draws its text anew. Putting the same text back is not enough: Chromium keeps the old drawing.
(function () {
  "use strict";
  if (!document.fonts || !document.fonts.addEventListener) return;
  const SCRIPT_CHARS = /[\u1100-\u11ff\u2e80-\u9fff\ua960-\ua97f\uac00-\ud7ff\uf900-\ufaff\uff00-\uffef\u2300-\u23ff\u2600-\u27bf\u2b00-\u2bff]|[\ud83c-\ud83e][\udc00-\udfff]/;
  function redraw() {
    document.querySelectorAll("input[type=text], input:not([type]), input[type=search], textarea").forEach((field) => {
      const text = field.value;
      if (!text || !SCRIPT_CHARS.test(text)) return;
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

// Transcript viewer: highlights the word being spoken as the media plays (timeupdate, and every
// animation frame while playing, for a smooth follow); clicking a word seeks there and plays.
// While the job runs, the page follows its progress (jobs.js hook, polling as a fallback) and
// reloads once it finishes so the player and the words appear.
(function () {
  "use strict";
  const root = document.querySelector("[data-audio-detail]");
  if (!root) return;
  const media = document.getElementById("player");
  const box = document.querySelector("[data-transcript]");
  const jobId = root.dataset.jobScope;

  if (root.dataset.final !== "1") {
    let reloading = false;
    const finish = (status) => {
      if (!reloading && (status === "succeeded" || status === "failed" || status === "canceled")) {
        reloading = true;
        window.location.reload();
      }
    };
    (window.MediaStudioJobHooks = window.MediaStudioJobHooks || []).push((job) => { if (job.id === jobId) finish(job.status); });
    const poll = () => {
      fetch(root.dataset.wordsUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then((r) => (r.ok ? r.json() : null))
        .then((data) => { if (data) finish(data.status); })
        .catch(() => {})
        .finally(() => { if (!reloading) setTimeout(poll, 2000); });
    };
    setTimeout(poll, 2000);
  }

  if (!media || !box) return;
  const spans = Array.from(box.querySelectorAll(".word"));
  const starts = spans.map((s) => parseFloat(s.dataset.start));
  const ends = spans.map((s) => parseFloat(s.dataset.end));
  let current = -1;

  function wordAt(t) {
    // The last word that started at or before t (binary search), if we are still in it or
    // before the next one starts; nothing during a long pause after a word's end.
    let lo = 0, hi = starts.length - 1, found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid] <= t) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
    }
    if (found < 0) return -1;
    return t - ends[found] > 0.3 ? -1 : found;
  }

  function highlight() {
    const k = wordAt(media.currentTime);
    if (k === current) return;
    if (current >= 0) { spans[current].classList.remove("is-current"); spans[current].removeAttribute("aria-current"); }
    current = k;
    if (k >= 0) {
      spans[k].classList.add("is-current");
      spans[k].setAttribute("aria-current", "true");
      const box_ = box.getBoundingClientRect(), r = spans[k].getBoundingClientRect();
      if (r.top < box_.top || r.bottom > box_.bottom) spans[k].scrollIntoView({ block: "nearest" });
    }
  }

  let frame = 0;
  function follow() { highlight(); if (!media.paused && !media.ended) frame = requestAnimationFrame(follow); }
  media.addEventListener("play", () => { cancelAnimationFrame(frame); frame = requestAnimationFrame(follow); });
  media.addEventListener("timeupdate", highlight);
  media.addEventListener("seeked", highlight);

  function seek(span) {
    media.currentTime = parseFloat(span.dataset.start) + 0.001;
    highlight();
    media.play().catch(() => {});
  }
  box.addEventListener("click", (ev) => { const span = ev.target.closest(".word"); if (span) seek(span); });
  box.addEventListener("keydown", (ev) => {
    const span = ev.target.closest(".word");
    if (span && (ev.key === "Enter" || ev.key === " ")) { ev.preventDefault(); seek(span); }
  });
})();

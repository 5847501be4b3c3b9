// Library: drag-and-drop / picker uploads with one XMLHttpRequest (and progress bar) per file,
// live ingest progress through the jobs websocket (window.MediaStudioJobHooks), and click-to-seek
// on the scrub strip and waveform. Loaded without defer so the hook exists before jobs.js runs.
(function () {
  "use strict";
  const MAX_PARALLEL = 2;

  // ------------------------------------------------------------------ live ingest progress
  const hooks = window.MediaStudioJobHooks = window.MediaStudioJobHooks || [];
  if (document.querySelector("[data-job-id]") || document.getElementById("upload-form")) {
    hooks.push(function (job) {
      if (job.kind !== "ingest" || !["succeeded", "failed", "canceled"].includes(job.status)) return;
      // The job's asset: its card carries both ids (a failed job's result has no asset_id).
      const cards = document.querySelectorAll(`.asset-card[data-job-id="${job.id}"]`);
      const assetIds = new Set([...cards].map((card) => card.dataset.assetId));
      if (job.result && job.result.asset_id) assetIds.add(String(job.result.asset_id));
      cards.forEach(refreshCard);
      const said = job.status !== "succeeded" ? "Uploaded · previews not made (see its card)"
        : job.result && job.result.preview_error ? "Uploaded · ready, some previews not made (see its card)"
        : "Uploaded · ready";
      assetIds.forEach((assetId) => {
        document.querySelectorAll(`.upload-item[data-asset-id="${assetId}"] .state`).forEach((state) => {
          state.textContent = said;
        });
      });
      if (document.querySelector(`[data-reload-when-done][data-job-id="${job.id}"]`)) window.location.reload();
    });
  }

  function refreshCard(card) {
    fetch(card.dataset.cardUrl, { credentials: "same-origin" })
      .then((r) => (r.ok ? r.text() : Promise.reject(r.status)))
      .then((html) => { card.outerHTML = html; })
      .catch(() => {});
  }

  // ------------------------------------------------------------------ uploads
  const form = document.getElementById("upload-form");
  document.addEventListener("DOMContentLoaded", function () {
    setupSeek();
    if (!form) return;
    const zone = document.getElementById("dropzone");
    const picker = document.getElementById("id_files");
    const list = document.getElementById("upload-list");
    const queue = [];
    let active = 0;

    picker.addEventListener("change", () => { enqueue(picker.files); picker.value = ""; });
    ["dragenter", "dragover"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.add("dragging"); }));
    ["dragleave", "drop"].forEach((t) => zone.addEventListener(t, (e) => { e.preventDefault(); zone.classList.remove("dragging"); }));
    zone.addEventListener("drop", (e) => enqueue(e.dataTransfer.files));
    zone.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); picker.click(); } });

    // A file over the cap is refused before its bytes are sent (the server would refuse it only
    // once all of them had arrived).
    const maxBytes = Number(form.dataset.maxBytes) || 0;

    function enqueue(files) {
      Array.from(files).forEach((file) => {
        const row = addRow(file);
        if (maxBytes && file.size > maxBytes) refuse(row, `${file.name}: the file is larger than the ${mib(maxBytes)} MiB upload limit.`);
        else queue.push({ file, row });
      });
      pump();
    }

    function addRow(file) {
      const li = document.createElement("li");
      li.className = "upload-item";
      li.innerHTML = '<span class="name"></span><div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0"><span data-field="bar" style="width:0%"></span></div><span class="state">Waiting…</span>';
      li.querySelector(".name").textContent = `${file.name} (${humanSize(file.size)})`;
      list.prepend(li);
      return li;
    }

    function setProgress(row, percent, text) {
      row.querySelector('[data-field="bar"]').style.width = `${percent}%`;
      row.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", String(percent));
      if (text !== undefined) row.querySelector(".state").textContent = text;
    }

    function pump() {
      while (active < MAX_PARALLEL && queue.length) {
        active += 1;
        send(queue.shift()).finally(() => { active -= 1; pump(); });
      }
    }

    function send(item) {
      return new Promise((resolve) => {
        const data = new FormData();
        data.append("file", item.file, item.file.name);
        ["campaign", "element", "tags"].forEach((name) => {
          const field = form.elements.namedItem(name);
          if (field && field.value) data.append(name, field.value);
        });
        const xhr = new XMLHttpRequest();
        xhr.open("POST", form.action);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.setRequestHeader("X-CSRFToken", form.elements.namedItem("csrfmiddlewaretoken").value);
        xhr.upload.addEventListener("progress", (e) => {
          if (e.lengthComputable) {
            const pct = Math.floor((e.loaded / e.total) * 100);
            setProgress(item.row, pct, pct < 100 ? `Uploading… ${pct}%` : "Checking the file…");
          }
        });
        xhr.addEventListener("load", () => {
          let body = null;
          try { body = JSON.parse(xhr.responseText); } catch (e) { body = null; }
          if (xhr.status >= 200 && xhr.status < 300 && body && body.assets && body.assets.length) {
            item.row.classList.add("done");
            const grid = document.getElementById("asset-grid");
            const empty = document.getElementById("asset-empty");
            if (empty) empty.remove();
            body.assets.forEach((a) => {
              const old = grid.querySelector(`.asset-card[data-asset-id="${a.id}"]`);
              if (old) old.remove();  // the same bytes were already here: one card
              if (!a.duplicate) countAdded(1);
              grid.insertAdjacentHTML("afterbegin", a.card_html);
              item.row.dataset.assetId = String(a.id);  // the ingest job's end updates the state below
              // A duplicate's note says what the upload added to it (tags, a campaign) or kept.
              setProgress(item.row, 100, a.duplicate ? a.note
                : a.status === "ready" ? "Uploaded · ready" : "Uploaded · making previews");
            });
          } else {
            const reason = body && body.errors && body.errors.length ? body.errors.map((e) => e.message).join(" ")
              : xhr.status === 403 ? "You cannot upload in this workspace." : `The upload failed (HTTP ${xhr.status}).`;
            refuse(item.row, reason);
          }
          resolve();
        });
        xhr.addEventListener("error", () => { refuse(item.row, "The connection was lost during the upload."); resolve(); });
        xhr.send(data);
      });
    }

    function countAdded(n) {
      const count = document.getElementById("asset-count");
      if (!count) return;
      const total = Number(count.dataset.count || 0) + n;
      count.dataset.count = String(total);
      count.textContent = `${total} file${total === 1 ? "" : "s"}`;
    }

    function refuse(row, reason) {
      row.classList.add("refused");
      row.setAttribute("role", "alert");
      setProgress(row, 100, `Refused: ${reason}`);
    }
  });

  function mib(bytes) {
    return (bytes / 1024 ** 2).toLocaleString("en", { maximumFractionDigits: 0 });
  }

  function humanSize(n) {
    const units = ["bytes", "KB", "MB", "GB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
    return `${i ? n.toFixed(1) : n} ${units[i]}`;
  }

  // ------------------------------------------------------------------ seek from the strip
  function setupSeek() {
    const player = document.getElementById("player");
    if (!player) return;
    document.querySelectorAll("img[data-seek]").forEach((img) => {
      img.addEventListener("click", (e) => {
        const rect = img.getBoundingClientRect();
        const fraction = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
        if (Number.isFinite(player.duration)) {
          player.currentTime = fraction * player.duration;
          player.play().catch(() => {});
        }
      });
    });
  }
})();

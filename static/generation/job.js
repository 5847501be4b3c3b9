// Video job page: the job row moves live over the jobs websocket; the providers table (one row per
// attempt, with its costs and what came of it, and one per provider skipped, with why) is refreshed
// from the API while the job runs, so a fallback to the next provider appears without a reload.
(function () {
  "use strict";
  const table = document.querySelector("[data-attempts]");
  if (!table || table.dataset.final === "1") return;
  const total = document.querySelector("[data-attempts-total]");
  const money = (v) => (v === null || v === undefined ? "—" : `$${Number(v).toFixed(2)}`);

  function cell(text, cls) {
    const td = document.createElement("td");
    if (cls) td.className = cls;
    td.textContent = text;
    return td;
  }

  function render(log) {
    const body = table.querySelector("tbody");
    body.innerHTML = "";
    let spent = 0;
    log.forEach((a) => {
      const tr = document.createElement("tr");
      tr.className = `status-${a.status}`;
      tr.dataset.attempt = a.provider;
      tr.dataset.kind = a.kind;
      const attempt = a.kind === "attempt";
      tr.appendChild(cell(attempt ? `${a.number}${a.retry ? ` (retry ${a.retry})` : ""}` : "—"));
      tr.appendChild(cell(a.model ? `${a.provider} / ${a.model}` : a.provider));
      const st = document.createElement("td");
      const badge = document.createElement("span");
      badge.className = "badge"; badge.textContent = a.status;
      st.appendChild(badge);
      tr.appendChild(st);
      const reason = cell(a.summary, "small");  // what happened, in words (the API says it)
      reason.dataset.reason = "";
      if (a.then) {
        const next = document.createElement("strong");
        next.textContent = ` ${a.then}`;
        reason.appendChild(next);
      }
      tr.appendChild(reason);
      tr.appendChild(cell(attempt ? `${money(a.estimated_cost)} / ${money(a.actual_cost)}` : "—", "small"));
      tr.appendChild(cell(a.external_id || "—", "small"));
      body.appendChild(tr);
      if (a.actual_cost !== null && a.actual_cost !== undefined) spent += Number(a.actual_cost);
    });
    if (!log.length) {
      const tr = document.createElement("tr");
      const td = cell("Not submitted yet.", "muted"); td.colSpan = 6;
      tr.appendChild(td); body.appendChild(tr);
    }
    if (total) total.textContent = money(spent);
  }

  let timer = null;
  async function refresh() {
    try {
      const r = await fetch(table.dataset.jobApi, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!r.ok) return;
      const job = await r.json();
      render(job.provider_log || []);
      if (["succeeded", "failed", "canceled"].includes(job.status)) {
        clearInterval(timer);
        const error = document.querySelector("dd[data-field='error']");
        if (error) error.textContent = job.error || "—";
        // The player and the final costs come with the server-rendered page.
        if (job.status === "succeeded" && !document.querySelector("video")) location.reload();
      }
    } catch (e) { /* next tick */ }
  }
  timer = setInterval(refresh, 2000);
})();

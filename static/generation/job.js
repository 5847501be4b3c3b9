// Video job page: the job row moves live over the jobs websocket; the attempts table (one row per
// provider tried, with its costs) is refreshed from the API while the job runs, so a fallback to
// the next provider appears without a reload.
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

  function render(attempts) {
    const body = table.querySelector("tbody");
    body.innerHTML = "";
    let spent = 0;
    attempts.forEach((a, i) => {
      const tr = document.createElement("tr");
      tr.className = `status-${a.status}`;
      tr.dataset.attempt = a.provider;
      tr.appendChild(cell(`${i + 1}${a.retry ? ` (retry ${a.retry})` : ""}`));
      tr.appendChild(cell(`${a.provider} / ${a.model}`));
      const st = document.createElement("td");
      const badge = document.createElement("span");
      badge.className = "badge"; badge.textContent = a.status;
      st.appendChild(badge);
      tr.appendChild(st);
      tr.appendChild(cell(a.external_id || "—", "small"));
      tr.appendChild(cell(`${money(a.estimated_cost)} / ${money(a.actual_cost)}`, "small"));
      tr.appendChild(cell(a.error || "", "small"));
      body.appendChild(tr);
      if (a.actual_cost !== null) spent += Number(a.actual_cost);
    });
    if (total) total.textContent = money(spent);
  }

  let timer = null;
  async function refresh() {
    try {
      const r = await fetch(table.dataset.jobApi, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!r.ok) return;
      const job = await r.json();
      render(job.attempts || []);
      if (["succeeded", "failed", "canceled"].includes(job.status)) {
        clearInterval(timer);
        // The player and the final costs come with the server-rendered page.
        if (job.status === "succeeded" && !document.querySelector("video")) location.reload();
      }
    } catch (e) { /* next tick */ }
  }
  timer = setInterval(refresh, 2000);
})();

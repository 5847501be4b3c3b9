// Live job progress: one websocket per page that shows jobs. The server sends a snapshot on
// connect, then one event per change; every row with data-job-id is updated in place. A table
// with data-jobs-table also gets new jobs of the workspace prepended; one with data-job-rows
// (a list of one kind of job, like the Audio page's) only follows the rows it has. A job's Cancel
// and Retry forms (in [data-job-actions]) show only while the job's status allows them.
// Reconnects with backoff; the page works without it.
(function () {
  "use strict";
  const tables = document.querySelectorAll("[data-jobs-table]");
  const hooks = window.MediaStudioJobHooks = window.MediaStudioJobHooks || [];
  const scoped = document.querySelector("[data-job-scope]");
  const workspace = document.body.dataset.workspace;
  const needsSocket = tables.length || hooks.length || document.querySelector("[data-job-watch], [data-job-rows]");
  if (!needsSocket || !workspace) return;

  const statusEl = document.querySelector("[data-live-status]");
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const path = scoped ? `/ws/jobs/${scoped.dataset.jobScope}/` : `/ws/jobs/?workspace=${encodeURIComponent(workspace)}`;
  let delay = 1000;

  function when(iso) {
    return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
  }
  document.querySelectorAll("[data-job-facts] time[datetime]").forEach((t) => { t.textContent = when(t.dateTime); });

  function setText(row, field, value) {
    row.querySelectorAll(`[data-field="${field}"]`).forEach((el) => { el.textContent = value; });
  }

  function render(job) {
    document.querySelectorAll(`[data-job-id="${job.id}"]`).forEach((row) => {
      row.className = row.className.replace(/status-\w+/, `status-${job.status}`);
      setText(row, "status", job.status);
      setText(row, "progress", job.progress);
      setText(row, "message", job.message || "");
      const bar = row.querySelector('[data-field="bar"]');
      if (bar) bar.style.width = `${job.progress}%`;
      const pb = row.querySelector('[role="progressbar"]');
      if (pb) pb.setAttribute("aria-valuenow", job.progress);
    });
    // A job page's facts: its attempts so far, and when it finished (a retry clears that).
    document.querySelectorAll(`[data-job-facts="${job.id}"]`).forEach((facts) => {
      setText(facts, "attempts", job.attempts);
      setText(facts, "finished", job.finished_at ? when(job.finished_at) : "—");
    });
    // A job's Cancel and Retry forms: each marked with the statuses it applies to (data-when).
    document.querySelectorAll(`[data-job-actions="${job.id}"] form[data-when]`).forEach((form) => {
      form.hidden = !form.dataset.when.split(" ").includes(job.status);
    });
    if (job.error) {
      document.querySelectorAll(`[data-job-watch="${job.id}"] [data-field="error"]`).forEach((el) => { el.textContent = job.error; });
      if (scoped && scoped.dataset.jobScope === job.id) {
        document.querySelectorAll('dd[data-field="error"]').forEach((el) => { el.textContent = job.error; });
      }
    }
  }

  function addRow(job) {
    if (scoped) return;
    const table = document.querySelector("table.jobs-table[data-jobs-table] tbody");
    if (!table || document.querySelector(`[data-job-id="${job.id}"]`)) return;
    const empty = table.querySelector("tr.empty");
    if (empty) empty.remove();
    const tr = document.createElement("tr");
    tr.dataset.jobId = job.id;
    tr.className = `job status-${job.status}`;
    const title = document.createElement("a");
    title.href = `/jobs/${job.id}/`;
    title.textContent = job.title || job.kind_label;
    tr.innerHTML = `<td></td><td><span class="badge" data-field="status"></span></td>
      <td class="progress-cell"><div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"><span data-field="bar"></span></div>
      <div class="small muted"><span data-field="progress"></span>% · <span data-field="message"></span></div></td>
      <td class="small">$${Number(job.estimated_cost).toFixed(2)}</td><td class="small muted">just now</td>`;
    tr.firstElementChild.appendChild(title);
    table.prepend(tr);
  }

  function connect() {
    const ws = new WebSocket(`${proto}//${location.host}${path}`);
    ws.onopen = () => { delay = 1000; if (statusEl) statusEl.textContent = "live"; };
    ws.onmessage = (msg) => {
      const data = JSON.parse(msg.data);
      const jobs = data.type === "snapshot" ? data.jobs : data.type === "job" ? [data.job] : [];
      jobs.slice().reverse().forEach((job) => {
        if (data.type === "job") addRow(job);
        render(job);
        hooks.forEach((fn) => { try { fn(job); } catch (e) { console.error(e); } });
      });
    };
    ws.onclose = (ev) => {
      if (statusEl) statusEl.textContent = "reconnecting…";
      if (ev.code === 4401 || ev.code === 4404) { if (statusEl) statusEl.textContent = "offline"; return; }
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 15000);
    };
  }
  connect();
})();

// Generate page: mood -> suggested camera and lighting, platform presets, a live cost estimate,
// submit without leaving the page, live progress (jobs websocket hook, with a polling fallback),
// and the finished clip playing in place. The form still works as a plain POST without this file.
(function () {
  "use strict";
  const form = document.querySelector("[data-generate-form]");
  if (!form) return;
  const $ = (sel) => form.querySelector(sel);
  const data = (id) => JSON.parse(document.getElementById(id).textContent);
  const suggestions = data("mood-suggestions");
  const platforms = data("platform-specs");
  const budgets = data("campaign-budgets");
  const modelInfo = data("model-info");
  const mood = form.elements.mood, camera = form.elements.camera_move, lighting = form.elements.lighting;
  const allCamera = Array.from(camera.options).slice(1).map((o) => [o.value, o.text]);
  const allLighting = Array.from(lighting.options).slice(1).map((o) => [o.value, o.text]);
  const panel = document.querySelector("[data-result]");
  const player = panel.querySelector("[data-player]");
  let current = null, currentCampaign = "", pollTimer = null, estimateTimer = null;

  function categoryFor(value) {
    const v = Number(value);
    return suggestions[v < 25 ? "10" : v < 50 ? "35" : v < 75 ? "60" : "90"];
  }

  function fill(select, suggested, all, auto) {
    const keep = select.value;
    select.innerHTML = "";
    select.add(new Option(`Auto: ${auto}`, ""));
    const g1 = document.createElement("optgroup"); g1.label = "Suggested for this mood";
    suggested.forEach((s) => g1.appendChild(new Option(s.label, s.key)));
    const g2 = document.createElement("optgroup"); g2.label = "Other";
    const keys = new Set(suggested.map((s) => s.key));
    all.filter(([k]) => !keys.has(k)).forEach(([k, t]) => g2.appendChild(new Option(t, k)));
    select.append(g1, g2);
    select.value = keep;
  }

  function onMood() {
    const s = categoryFor(mood.value);
    form.querySelector("[data-mood-value]").textContent = mood.value;
    form.querySelector("[data-mood-label]").textContent = s.label;
    form.querySelector("[data-mood-hint]").textContent =
      `Camera: ${s.camera_moves.map((m) => m.label).join(", ")} · Lighting: ${s.lighting.map((l) => l.label).join(", ")} · ${s.pacing}`;
    fill(camera, s.camera_moves, allCamera, s.camera_moves[0].label);
    fill(lighting, s.lighting, allLighting, s.lighting[0].label);
  }

  function onPlatform() {
    const spec = platforms[form.elements.platform.value];
    if (!spec) return;
    form.elements.aspect_ratio.value = spec.aspect_ratio;
    form.elements.duration.value = spec.default_duration;
  }

  function hasImage() {
    const file = form.elements.image && form.elements.image.files && form.elements.image.files.length;
    const checked = Array.from(form.querySelectorAll('input[name="elements"]:checked'));
    return Boolean(file || checked.length);
  }

  function money(v) { return v === null || v === undefined ? "—" : `$${Number(v).toFixed(2)}`; }

  // A campaign's remaining budget as read now: kept for the estimate box and shown in the campaign
  // dropdown's option, whose label the page rendered with the budget as it was then.
  function setBudget(id, budget) {
    const known = budgets[id];
    if (!known || !budget) return;
    Object.assign(known, { budget: budget.budget, remaining: budget.remaining });
    const option = Array.from(form.elements.campaign.options).find((o) => o.value === id);
    if (option) option.text = `${known.name} (${money(known.remaining)} left)`;
  }

  // The campaign of a job that settled while another one is chosen: read its budget from the API.
  async function refreshBudget(id) {
    try {
      const r = await fetch(`/api/campaigns/${id}/`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      if (r.ok) setBudget(id, await r.json());
    } catch (e) { /* the label refreshes with the next estimate */ }
  }

  async function estimate() {
    const q = new URLSearchParams();
    ["prompt", "mood", "platform", "aspect_ratio", "duration", "resolution", "tier", "provider", "model", "campaign"].forEach((name) => {
      const v = form.elements[name] && form.elements[name].value;
      if (v) q.set(name, v);
    });
    if (!q.get("prompt")) q.set("prompt", "a product shot");
    q.set("allow_fallback", form.elements.allow_fallback.checked ? "true" : "false");
    if (hasImage()) q.set("image", "true");
    const out = form.querySelector("[data-estimate]"), detail = form.querySelector("[data-estimate-detail]");
    const warn = form.querySelector("[data-estimate-warning]"), remaining = form.querySelector("[data-remaining]");
    const life = form.querySelector("[data-lifecycle-warnings]");
    life.hidden = true; life.textContent = "";
    try {
      const r = await fetch(`/api/video/estimate-cost?${q}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const body = await r.json();
      if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
      const notes = (body.warnings || []).slice();
      const chosen = form.elements.model.value || form.elements.provider.value;
      if (chosen && body.model !== chosen && body.provider !== chosen && body.chain.length) {
        // The chosen model or provider cannot serve this request: say why before the fallback is used.
        const why = body.skipped.map((s) => `${s.provider}: ${s.reason}`).join("; ");
        notes.unshift(`'${chosen}' cannot make this (${why}); it would go to ${body.chain[0].label || body.provider}.`);
      }
      if (notes.length) { life.hidden = false; life.textContent = notes.join(" "); }
      if (!body.chain.length) {
        out.textContent = "—"; detail.textContent = "";
        warn.hidden = false; warn.textContent = "No provider can make this: " + body.skipped.map((s) => `${s.provider}: ${s.reason}`).join("; ");
        return;
      }
      out.textContent = money(body.estimate);
      detail.textContent = `on ${body.chain[0].label || body.provider}` + (body.worst_case !== body.estimate ? ` (up to ${money(body.worst_case)} with fallback)` : "");
      if (body.budget) setBudget(q.get("campaign"), body.budget);
      const c = body.budget || budgets[form.elements.campaign.value];
      remaining.textContent = c ? `${money(c.remaining)} of ${money(c.budget)}` : "no campaign";
      warn.hidden = !(body.budget && !body.budget.fits);
      const firstFits = body.budget && Number(body.estimate) <= Number(body.budget.remaining);
      warn.textContent = warn.hidden ? "" : `Over budget: needs up to ${money(body.worst_case)}, ${money(body.budget.remaining)} left.`
        + (form.elements.allow_fallback.checked && firstFits ? ` Without fallback it needs ${money(body.estimate)}.` : "");
    } catch (e) {
      out.textContent = "—"; detail.textContent = ""; warn.hidden = false; warn.textContent = String(e.message || e);
    }
  }

  // A deprecated model warns as soon as it is chosen; a retired one says it will be refused.
  function onModel() {
    const box = form.querySelector("[data-model-warning]");
    const info = modelInfo[form.elements.model.value];
    box.hidden = !(info && info.warning);
    box.textContent = info && info.warning ? info.warning : "";
    box.dataset.status = info ? info.status : "";
  }

  function scheduleEstimate() { clearTimeout(estimateTimer); estimateTimer = setTimeout(estimate, 250); }

  function csrf() { return form.querySelector('input[name="csrfmiddlewaretoken"]').value; }

  function show(job) {
    const box = panel.querySelector("[data-result-job]");
    box.className = `job status-${job.status}`;
    box.querySelector('[data-field="status"]').textContent = job.status;
    box.querySelector('[data-field="progress"]').textContent = job.progress;
    box.querySelector('[data-field="message"]').textContent = job.message || "";
    box.querySelector('[data-field="bar"]').style.width = `${job.progress}%`;
    box.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", job.progress);
    box.querySelector('[data-field="error"]').textContent = job.error || "";
    if (["succeeded", "failed", "canceled"].includes(job.status) && box.dataset.settled !== current) {
      box.dataset.settled = current;
      estimate();  // the reservation is settled: show the campaign's remaining budget as it now is
      if (currentCampaign && currentCampaign !== form.elements.campaign.value) refreshBudget(currentCampaign);
      poll();  // the final list of providers tried (the websocket carries only the job row)
    }
    const cancel = panel.querySelector("[data-cancel]"), retry = panel.querySelector("[data-retry]");
    if (cancel) cancel.hidden = !["queued", "running"].includes(job.status);
    if (retry) retry.hidden = !["failed", "canceled"].includes(job.status);
    if (job.status === "succeeded") finish();
    if (job.status === "failed" || job.status === "canceled") {
      stopPolling();
      panel.querySelector("[data-result-title]").textContent = job.status === "failed" ? "Generation failed" : "Canceled";
    }
  }

  async function finish() {
    stopPolling();
    if (!current || player.dataset.loaded === current) return;
    player.dataset.loaded = current;
    const r = await fetch(`/api/video/jobs/${current}`, { credentials: "same-origin" });
    const body = await r.json();
    // Its row in "Recent videos" said "up to" the reservation: the actual cost is known now.
    const cost = document.querySelector(`[data-recent-videos] tr[data-job-id="${current}"] [data-cost]`);
    if (cost && body.actual_cost != null) cost.textContent = money(body.actual_cost);
    if (!body.result_url) return;
    panel.querySelector("[data-result-title]").textContent = `${body.strategy.camera_move.replace(/_/g, " ")} · ${body.strategy.lighting.replace(/_/g, " ")}`;
    player.src = body.result_url;
    player.hidden = false;
    player.play().catch(() => {});
    const links = panel.querySelector("[data-result-links]");
    links.querySelector("[data-job-link]").href = `/generate/jobs/${current}/`;
    links.querySelector("[data-download-link]").href = `/api/video/jobs/${current}/download`;
    links.hidden = false;
  }

  // Which providers were tried and why each failed or was skipped: kept in the panel (the job's
  // message moves on at once), the same list the job page and the API show.
  function showLog(log) {
    const box = panel.querySelector("[data-provider-log]"), list = box.querySelector("[data-provider-log-list]");
    list.innerHTML = "";
    (log || []).forEach((a) => {
      const li = document.createElement("li");
      li.className = `status-${a.status}`;
      li.dataset.provider = a.provider;
      li.dataset.kind = a.kind;
      const name = document.createElement("strong");
      name.textContent = a.model ? `${a.provider} (${a.model})` : a.provider;
      const state = a.kind === "skipped" ? "skipped"
        : a.status === "running" ? (a.percent ? `rendering ${a.percent}%` : "rendering")
        : a.status === "fetching" ? "fetching the video"
        : a.retry ? `${a.status}, retry ${a.retry}` : a.status;
      const why = a.status === "running" ? "" : a.summary;  // its progress is already in the state
      li.append(name, ` ${state}${why ? `: ${why}` : ""}${why && !/[.!?]$/.test(why) ? "." : ""}${a.then ? ` ${a.then}` : ""}`);
      list.appendChild(li);
    });
    box.hidden = !list.children.length;
  }

  async function poll() {
    if (!current) return;
    const id = current;
    try {
      const r = await fetch(`/api/video/jobs/${id}`, { credentials: "same-origin" });
      if (r.ok && id === current) {
        const b = await r.json();
        showLog(b.provider_log);
        show({ status: b.status, progress: b.progress, message: b.message, error: b.error });
      }
    } catch (e) { /* the websocket may still deliver */ }
  }
  function stopPolling() { clearInterval(pollTimer); pollTimer = null; }

  // The new job joins "Recent videos" at once; jobs.js keeps its status and progress live.
  function addRecent(body) {
    const tbody = document.querySelector("[data-recent-videos] tbody");
    if (!tbody || tbody.querySelector(`[data-job-id="${body.id}"]`)) return;
    const empty = tbody.querySelector("tr.empty");
    if (empty) empty.remove();
    const tr = document.createElement("tr");
    tr.className = `job status-${body.status}`;
    tr.dataset.jobId = body.id;
    tr.innerHTML = `<td><a></a></td><td><span class="badge" data-field="status"></span> <span class="small muted"><span data-field="progress">0</span>%</span></td><td></td><td class="small" data-cost></td>`;
    const link = tr.querySelector("a");
    link.href = `/generate/jobs/${body.id}/`;
    link.textContent = form.elements.prompt.value.slice(0, 70);
    tr.querySelector('[data-field="status"]').textContent = body.status;
    tr.children[2].textContent = form.elements.tier.value;
    tr.children[3].textContent = `up to ${money(body.estimated_cost)}`;  // the reservation: the chain's worst case
    tbody.prepend(tr);
  }

  // Cancel and retry from the panel, as on the job page (the API answers with the job as it is then).
  async function act(verb) {
    if (!current) return;
    const err = form.querySelector("[data-form-error]");
    const r = await fetch(`/api/video/jobs/${current}/${verb}`, {
      method: "POST", credentials: "same-origin", headers: { Accept: "application/json", "X-CSRFToken": csrf() },
    });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      panel.querySelector('[data-result-job] [data-field="error"]').textContent = body.error ? body.error.message : r.statusText;
      return;
    }
    err.hidden = true;
    if (verb === "retry") {
      const box = panel.querySelector("[data-result-job]");
      delete box.dataset.settled;
      panel.querySelector("[data-result-title]").textContent = "Rendering…";
      stopPolling();
      pollTimer = setInterval(poll, 2000);
    }
    showLog(body.provider_log);
    show({ status: body.status, progress: body.progress, message: body.message, error: body.error });
  }
  panel.querySelectorAll("[data-cancel], [data-retry]").forEach((button) => button.addEventListener("click", async () => {
    button.disabled = true;
    try { await act(button.dataset.cancel !== undefined ? "cancel" : "retry"); } finally { button.disabled = false; }
  }));

  (window.MediaStudioJobHooks = window.MediaStudioJobHooks || []).push((job) => {
    if (job.id === current) show(job);
  });

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const err = form.querySelector("[data-form-error]");
    err.hidden = true;
    const button = form.querySelector("[data-submit]");
    button.disabled = true;
    try {
      const r = await fetch(location.pathname, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrf() },
      });
      const body = await r.json();
      if (!r.ok) {
        const fields = body.error && body.error.fields ? Object.entries(body.error.fields).map(([k, v]) => `${k}: ${[].concat(v).map((x) => x.message || x).join(" ")}`).join("; ") : "";
        throw new Error((body.error ? body.error.message : r.statusText) + (fields ? ` ${fields}` : ""));
      }
      current = body.id;
      currentCampaign = form.elements.campaign.value;
      addRecent(body);
      estimate();  // the job's worst case is reserved on the campaign now: show what is left
      const notes = panel.querySelector("[data-result-warnings]");
      notes.hidden = !(body.warnings && body.warnings.length);
      notes.textContent = notes.hidden ? "" : body.warnings.join(" ");
      player.hidden = true; player.removeAttribute("src"); delete player.dataset.loaded;
      showLog([]);
      panel.querySelector("[data-result-links]").hidden = true;
      panel.hidden = false;
      panel.querySelector("[data-result-title]").textContent = "Rendering…";
      panel.querySelector("[data-result-job]").dataset.jobId = current;
      show({ status: body.status, progress: 0, message: "Queued", error: "" });
      stopPolling();
      pollTimer = setInterval(poll, 2000);
    } catch (e) {
      err.hidden = false; err.textContent = String(e.message || e);
      err.scrollIntoView({ block: "nearest", behavior: "smooth" });  // the message is at the top of a long form
    } finally {
      button.disabled = false;
    }
  });

  mood.addEventListener("input", () => { onMood(); scheduleEstimate(); });
  form.elements.platform.addEventListener("change", () => { onPlatform(); scheduleEstimate(); });
  form.elements.model.addEventListener("change", () => { onModel(); scheduleEstimate(); });
  ["prompt", "aspect_ratio", "duration", "resolution", "tier", "provider", "campaign", "image", "allow_fallback"].forEach((name) => {
    const el = form.elements[name];
    if (el) el.addEventListener("change", scheduleEstimate);
  });
  form.querySelectorAll('input[name="elements"]').forEach((el) => el.addEventListener("change", scheduleEstimate));
  onMood();
  onModel();
  estimate();
})();

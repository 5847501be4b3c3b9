// The composition editor: a client of /api/compositions/. The timeline is a list of clips that can be
// dragged to reorder, trimmed with in/out inputs and joined by transitions; the panels edit the
// caption, sound and brand tracks; Render saves, starts one job for the chosen presets and follows
// its progress (live over the jobs websocket via MediaStudioJobHooks, with polling as a fallback);
// finished cuts play side by side.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("editor-data").textContent);
  const root = document.getElementById("editor");
  const canEdit = root.dataset.canEdit === "1";
  const csrf = (document.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
  const assetsById = new Map([...data.clips, ...data.audio, ...data.subtitles].map((a) => [a.id, a]));
  let comp = data.composition;
  let clips = comp.clips.map(fromServer);
  let dirty = false;
  let currentJob = null;
  let pollTimer = null;
  let reloadAfterSave = false;

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else if (v !== null && v !== undefined && v !== false) node.setAttribute(k, v === true ? "" : v);
    }
    children.forEach((c) => node.append(c));
    return node;
  };
  const fmt = (s) => (s === null || s === undefined ? "" : `${Number(s).toFixed(1)} s`);

  function fromServer(c) {
    return { asset: c.asset, in_point: c.in_point, out_point: c.out_point, duration: c.duration, fit: c.fit,
      focus_x: c.focus_x, focus_y: c.focus_y, motion: c.motion, keep_audio: c.keep_audio, layouts: c.layouts || {},
      transition: c.transition, transition_duration: c.transition_duration, transition_direction: c.transition_direction,
      info: c.asset_info || assetsById.get(c.asset) || { id: c.asset, kind: "video", title: `#${c.asset}` } };
  }

  // A clip's out point in seconds, or null for "to the end" (a field left empty).
  const outPoint = (c) => (c.out_point === null || c.out_point === undefined || c.out_point === "" ? null : Number(c.out_point));

  // A library asset's preview URL from the page's template for it.
  const previewUrl = (template, id) => template.replace("{id}", String(id));

  function clipLength(c) {
    if (c.info.kind === "image") return Number(c.duration || 3);
    return Math.max(0, (outPoint(c) ?? Number(c.info.duration || 0)) - Number(c.in_point || 0));
  }

  function totalDuration() {
    let t = 0;
    clips.forEach((c, i) => {
      t += clipLength(c);
      if (i < clips.length - 1 && c.transition !== "cut") t -= Number(c.transition_duration);
    });
    if (clips.length && comp.end_card_text && comp.end_card_text.trim()) {
      const last = clips[clips.length - 1];
      t += Number(comp.end_card_duration) - (last.transition !== "cut" ? Number(last.transition_duration) : 0);
    }
    return t;
  }

  function markDirty() {
    dirty = true;
    $("save-state").textContent = "Unsaved changes";
    $("total-duration").textContent = clips.length ? `${totalDuration().toFixed(2)} s` : "";
    preview();
  }

  function options(select, choices, value, empty) {
    select.innerHTML = "";
    if (empty !== undefined) select.append(el("option", { value: "", text: empty }));
    choices.forEach(([v, label]) => select.append(el("option", { value: v, text: label })));
    select.value = value === null || value === undefined ? "" : String(value);
  }

  // ------------------------------------------------------------------ timeline

  let dragFrom = null;

  // A transition belongs to its place on the timeline (the join between the Nth and the next
  // clip, or into the end card), not to the clip before it: a moved clip leaves the joins as they were.
  const JOIN_FIELDS = ["transition", "transition_duration", "transition_direction"];

  function moveClip(from, to) {
    if (to < 0 || to >= clips.length || from === to) return;
    const joins = clips.map((c) => Object.fromEntries(JOIN_FIELDS.map((f) => [f, c[f]])));
    const [c] = clips.splice(from, 1);
    clips.splice(to, 0, c);
    clips.forEach((clip, i) => Object.assign(clip, joins[i]));
    renderTimeline();
    markDirty();
  }

  // The timeline is drawn anew after a move or a removal: keyboard focus goes back to the same
  // control of the clip that moved (or of the clip now in the removed one's place).
  function refocus(label) {
    const button = [...document.querySelectorAll("#timeline button")].find((b) => b.getAttribute("aria-label") === label);
    if (button) button.focus();
    else if (document.activeElement === document.body) $("timeline").focus();  // no clip left
  }

  function numberInput(label, value, attrs, onchange) {
    const id = `f${Math.random().toString(36).slice(2, 9)}`;
    const input = el("input", { type: "number", id, step: "0.1", value: value === null || value === undefined ? "" : value, ...attrs,
      onchange: (e) => onchange(e.target.value === "" ? null : Number(e.target.value)) });
    return el("div", { class: "field" }, el("label", { for: id, text: label }), input);
  }

  function selectInput(label, choices, value, onchange, cls) {
    const id = `f${Math.random().toString(36).slice(2, 9)}`;
    const select = el("select", { id, class: cls || "", onchange: (e) => onchange(e.target.value) });
    options(select, choices, value);
    return el("div", { class: "field" }, el("label", { for: id, text: label }), select);
  }

  // ------------------------------------------------------------------ framing

  // The timeline and the caption preview show one preset's framing: the one picked above the
  // timeline, else the first chosen platform.
  let viewKey = null;
  function viewPreset() {
    const key = viewKey || (comp.presets || [])[0];
    return data.presets.find((p) => p.key === key) || data.presets[0];
  }

  // A clip's fit and focus point in one preset: its own framing for that preset where it has one
  // (the API's per-preset layouts), else the framing it uses everywhere.
  function layoutFor(c, preset) {
    const own = (c.layouts || {})[preset.key];
    return { own: Boolean(own), fit: (own && own.fit) || c.fit,
      focus: own && own.focus ? own.focus : [Number(c.focus_x ?? 0.5), Number(c.focus_y ?? 0.5)] };
  }

  function setLayout(c, preset, change) {
    const own = (c.layouts || {})[preset.key];
    if (own) { Object.assign(own, change); return; }
    if (change.fit) c.fit = change.fit;
    if (change.focus) [c.focus_x, c.focus_y] = change.focus;
  }

  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const aspectOf = (info) => (info.width && info.height ? info.width / info.height : 16 / 9);

  // What a cover fit keeps of a source, in fractions of its width and height: the largest window
  // of the preset's shape, centred on the focus point and kept inside the picture, as the render crops.
  function coverWindow(aspect, preset, focus) {
    const shape = preset.width / preset.height;
    const w = Math.min(1, shape / aspect), h = Math.min(1, aspect / shape);
    return { x: clamp(focus[0] - w / 2, 0, 1 - w), y: clamp(focus[1] - h / 2, 0, 1 - h), w, h };
  }

  // A press on ``node`` works the control under it instead of starting to drag the clip ``li``.
  function holdStill(node, li) {
    const restore = () => { li.draggable = canEdit; };
    node.addEventListener("pointerdown", () => { li.draggable = false; });
    node.addEventListener("pointerup", restore);
    node.addEventListener("pointerleave", restore);
  }

  // A clip's picture on the timeline, whole, with the window the viewed preset keeps of it and the
  // focus point: a click on the picture (or the arrow keys) moves the focus point.
  function framing(c, i, li) {
    const preset = viewPreset();
    const aspect = aspectOf(c.info);
    const box = 16 / 9;  // the timeline's frame
    const picture = el("div", { class: "picture" },
      c.info.thumbnail_url ? el("img", { src: c.info.thumbnail_url, alt: "", class: "thumb", draggable: "false" })
        : el("div", { class: "thumb placeholder", text: c.info.kind }));
    Object.assign(picture.style, aspect >= box ? { width: "100%", height: `${(box / aspect) * 100}%` }
      : { width: `${(aspect / box) * 100}%`, height: "100%" });
    const windowBox = el("div", { class: "crop-window" });
    const dot = el("span", { class: "focus-dot" });
    picture.append(windowBox, dot);
    const frame = el("button", { type: "button", class: "frame" }, picture);
    const percent = (v) => `${Math.round(v * 100)}%`;
    const place = () => {
      const layout = layoutFor(c, preset);
      const cover = layout.fit === "cover";
      const win = coverWindow(aspect, preset, layout.focus);
      Object.assign(windowBox.style, { left: percent(win.x), top: percent(win.y), width: percent(win.w), height: percent(win.h) });
      Object.assign(dot.style, { left: percent(layout.focus[0]), top: percent(layout.focus[1]) });
      windowBox.hidden = dot.hidden = !cover;
      frame.disabled = !cover || !canEdit;
      frame.dataset.focus = layout.focus.join(",");
      frame.setAttribute("aria-label", cover
        ? `Focus point of clip ${i + 1} in ${preset.label}: ${percent(layout.focus[0])} across, ${percent(layout.focus[1])} down. Click the picture or use the arrow keys to move it.`
        : `Clip ${i + 1} is shown whole in ${preset.label}, on a blurred fill`);
      frame.title = cover ? `What ${preset.label} keeps: click to move the focus point` : "Fitted whole: no crop";
    };
    const move = (focus) => {
      setLayout(c, preset, { focus: focus.map((v) => Math.round(clamp(v, 0, 1) * 100) / 100) });
      place();
      markDirty();
    };
    frame.addEventListener("click", (e) => {
      if (e.detail === 0) return;  // Enter or Space: the arrow keys move it
      const r = picture.getBoundingClientRect();
      move([(e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height]);
    });
    frame.addEventListener("keydown", (e) => {
      const step = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] }[e.key];
      if (!step) return;
      e.preventDefault();
      const [x, y] = layoutFor(c, preset).focus;
      move([x + step[0] * 0.05, y + step[1] * 0.05]);
    });
    holdStill(frame, li);  // a press on the picture sets the focus point
    place();
    return { frame, place };
  }

  // A video's in and out points as two handles over its scrub strip (frames spread over the whole
  // video), the kept part lit: dragging a handle, or its arrow keys, trims the clip; the In and
  // Out fields follow, and the handles follow the fields.
  function trimmer(c, i, fields, li) {
    const length = Number(c.info.duration || 0);
    if (!length) return null;
    // The handles move in 0.1 s steps from 0, so their scale ends at the first step at or past the
    // video's end (5.36 s: 5.4); a handle there means "to the end".
    const end = Math.ceil(length * 10 - 1e-6) / 10;
    const kept = el("div", { class: "kept" });
    const handle = (cls, label) => el("input", { type: "range", class: cls, min: 0, max: end.toFixed(1), step: 0.1,
      "aria-label": `${label} of clip ${i + 1}, seconds` });
    const inHandle = handle("trim-in", "In point"), outHandle = handle("trim-out", "Out point");
    const node = el("div", { class: "trim" }, kept, inHandle, outHandle);
    if (c.info.strip_url) node.style.backgroundImage = `url("${c.info.strip_url}")`;
    const outOf = () => outPoint(c) ?? length;
    const show = () => {
      inHandle.value = String(c.in_point || 0);
      outHandle.value = String(outOf() >= length ? end : outOf());
      kept.style.left = `${(Number(c.in_point || 0) / end) * 100}%`;
      kept.style.right = `${(1 - Math.min(outOf(), length) / end) * 100}%`;
    };
    const minimum = 0.1;  // seconds a clip keeps at least
    inHandle.addEventListener("input", () => {
      c.in_point = Math.min(Number(inHandle.value), Math.max(0, outOf() - minimum));
      fields.querySelector(".in-point").value = String(Number(c.in_point.toFixed(2)));
      checkTrim(c, fields);
      show(); markDirty(); refreshLengths();
    });
    outHandle.addEventListener("input", () => {
      const out = Math.max(Number(outHandle.value), Number(c.in_point || 0) + minimum);
      c.out_point = out >= length ? null : Number(out.toFixed(2));  // at the end: "to the end"
      fields.querySelector(".out-point").value = c.out_point === null ? "" : String(c.out_point);
      checkTrim(c, fields);
      show(); markDirty(); refreshLengths();
    });
    holdStill(node, li);
    show();
    return { node, show };
  }

  // Typed in and out points are checked as the server checks them, at once: an out point at or
  // before the in point, or past the video's end, is marked on its field with the reason.
  function checkTrim(c, fields) {
    const input = fields.querySelector(".out-point");
    const length = Number(c.info.duration || 0);
    const out = outPoint(c);
    let problem = "";
    if (out !== null && out <= Number(c.in_point || 0)) problem = "The out point must come after the in point.";
    else if (out === null && length && Number(c.in_point || 0) >= length) problem = "The in point is past the end of the video.";
    input.setCustomValidity(problem);
    input.title = problem;
    fields.closest("li").classList.toggle("has-error", Boolean(problem));
    return !problem;
  }

  function renderTimeline() {
    const list = $("timeline");
    list.innerHTML = "";
    $("timeline-empty").hidden = clips.length > 0;
    const endCard = comp.end_card_text && comp.end_card_text.trim();
    clips.forEach((c, i) => {
      const li = el("li", { class: `clip kind-${c.info.kind}`, draggable: canEdit ? "true" : "false", "data-index": i, "data-asset-id": c.asset });
      const view = framing(c, i, li);
      const head = el("div", { class: "clip-head" },
        el("span", { class: "handle", title: "Drag to reorder", text: "⠿" }),
        el("strong", { class: "clip-title", text: `${i + 1}. ${c.info.title}` }),
        el("span", { class: "muted small", "data-field": "length", text: fmt(clipLength(c)) }));
      const fields = el("div", { class: "clip-fields" });
      let trim = null;
      if (c.info.kind === "video") {
        const typed = () => {
          if (trim) trim.show();
          if (!checkTrim(c, fields)) fields.querySelector(".out-point").reportValidity();
          markDirty();
          refreshLengths();
        };
        fields.append(numberInput("In", c.in_point, { min: 0, max: c.info.duration || "", class: "in-point" }, (v) => { c.in_point = v || 0; typed(); }));
        fields.append(numberInput("Out", c.out_point, { min: 0, max: c.info.duration || "", placeholder: c.info.duration ? Number(c.info.duration).toFixed(2) : "", class: "out-point" }, (v) => { c.out_point = v; typed(); }));
        trim = trimmer(c, i, fields, li);
      } else {
        fields.append(numberInput("Seconds", c.duration || 3, { min: 0.2, max: 60, class: "image-duration" }, (v) => { c.duration = v; markDirty(); refreshLengths(); }));
        fields.append(selectInput("Move", data.choices.motion, c.motion, (v) => { c.motion = v; markDirty(); }));
      }
      const preset = viewPreset();
      const fit = selectInput("Fit", data.choices.fit, layoutFor(c, preset).fit, (v) => { setLayout(c, preset, { fit: v }); view.place(); markDirty(); });
      fit.classList.add("wide");  // the card is narrow: its choices ("Fit, blurred fill") need both columns
      const ownId = `own-${i}`;
      const own = el("input", { type: "checkbox", id: ownId, class: "own-layout", checked: layoutFor(c, preset).own });
      own.addEventListener("change", () => {
        c.layouts = c.layouts || {};
        if (own.checked) {
          const current = layoutFor(c, preset);
          c.layouts[preset.key] = { fit: current.fit, focus: [...current.focus] };  // starts from the shared framing
        } else {
          delete c.layouts[preset.key];
        }
        fit.querySelector("select").value = layoutFor(c, preset).fit;
        view.place();
        markDirty();
      });
      fields.append(fit, el("label", { class: "check own", for: ownId }, own, ` Own framing for ${preset.label}`));
      const tools = el("div", { class: "clip-tools" },
        el("button", { type: "button", class: "linkish", "aria-label": `Move clip ${i + 1} earlier`, text: "◀", onclick: () => { moveClip(i, i - 1); refocus(`Move clip ${i} earlier`); } }),
        el("button", { type: "button", class: "linkish", "aria-label": `Move clip ${i + 1} later`, text: "▶", onclick: () => { moveClip(i, i + 1); refocus(`Move clip ${i + 2} later`); } }),
        el("button", { type: "button", class: "linkish remove", "aria-label": `Remove clip ${i + 1}`, text: "Remove", onclick: () => { clips.splice(i, 1); renderTimeline(); markDirty(); refocus(`Remove clip ${Math.min(i + 1, clips.length)}`); } }));
      li.append(view.frame, ...(trim ? [trim.node] : []), head, fields, tools);
      li.addEventListener("dragstart", (e) => { dragFrom = i; li.classList.add("dragging"); e.dataTransfer.effectAllowed = "move"; e.dataTransfer.setData("text/plain", String(i)); });
      li.addEventListener("dragend", () => { li.classList.remove("dragging"); dragFrom = null; });
      // Over a clip's left half a drop goes before it, over its right half after it.
      const gap = (e) => { const r = li.getBoundingClientRect(); return e.clientX < r.left + r.width / 2 ? i : i + 1; };
      dropZone(li, gap);
      list.append(li);
      if (i < clips.length - 1 || endCard) {
        const join = el("li", { class: "join", "aria-label": i < clips.length - 1 ? `Transition after clip ${i + 1}` : "Transition into the end card" },
          selectInput("Transition", data.choices.transition, c.transition, (v) => { c.transition = v; renderTimeline(); markDirty(); }, "transition-kind"));
        dropZone(join, () => i + 1);  // between the two clips it joins
        if (c.transition !== "cut") {
          join.append(numberInput("Seconds", c.transition_duration, { min: 0.1, max: 3, class: "transition-duration" }, (v) => { c.transition_duration = v === null ? 0.5 : v; markDirty(); }));
          if (c.transition === "wipe" || c.transition === "slide") {
            join.append(selectInput("Direction", [["left", "Left"], ["right", "Right"]], c.transition_direction, (v) => { c.transition_direction = v; markDirty(); }));
          }
        }
        list.append(join);
      }
    });
    if (endCard) list.append(el("li", { class: "clip end-card", text: `End card: ${comp.end_card_text}` }));
    if (!canEdit) list.querySelectorAll("input, select, button").forEach((n) => { n.disabled = true; });
  }

  function refreshLengths() {
    document.querySelectorAll("#timeline li.clip[data-index]").forEach((li) => {
      const c = clips[Number(li.dataset.index)];
      const out = li.querySelector('[data-field="length"]');
      if (c && out) out.textContent = fmt(clipLength(c));
    });
  }

  function renderBin() {
    const grid = $("bin-grid");
    grid.innerHTML = "";
    if (!data.clips.length) grid.append(el("p", { class: "muted", text: "The library has no videos or images yet: upload some in the Library." }));
    data.clips.forEach((a) => {
      const thumb = a.thumbnail_url ? el("img", { src: a.thumbnail_url, alt: "", class: "thumb" }) : el("div", { class: "thumb placeholder", text: a.kind });
      grid.append(el("div", { class: "bin-item", "data-asset-id": a.id }, thumb,
        el("div", { class: "small", text: a.title }),
        el("div", { class: "muted small", text: `${a.kind}${a.duration ? " · " + fmt(a.duration) : ""}${a.width ? ` · ${a.width}×${a.height}` : ""}` }),
        el("button", { type: "button", class: "secondary add-clip", disabled: !canEdit, text: "Add", "aria-label": `Add ${a.title} to the timeline`,
          onclick: () => addClip(a, clips.length) })));
      const item = grid.lastElementChild;
      if (canEdit) {
        item.draggable = true;
        item.addEventListener("dragstart", (e) => { e.dataTransfer.effectAllowed = "copy"; e.dataTransfer.setData(ASSET_TYPE, String(a.id)); });
      }
    });
  }

  function addClip(a, at) {
    clips.splice(Math.min(at, clips.length), 0, { asset: a.id, in_point: 0, out_point: null, duration: a.kind === "image" ? 3 : null,
      fit: "cover", focus_x: 0.5, focus_y: 0.5, motion: "push_in", keep_audio: null, layouts: {}, transition: "crossfade",
      transition_duration: 0.5, transition_direction: "left", info: a });
    renderTimeline();
    markDirty();
  }

  // ------------------------------------------------------------------ drops and uploads

  // The timeline takes three kinds of drop: one of its clips (a move), a library item from the bin,
  // and files from the computer, which are uploaded to the library first.
  const ASSET_TYPE = "application/x-mediastudio-asset";
  const dragTypes = (e) => [...((e.dataTransfer && e.dataTransfer.types) || [])];
  const acceptsDrop = (e) => canEdit && (dragFrom !== null || dragTypes(e).includes(ASSET_TYPE) || dragTypes(e).includes("Files"));

  // ``node`` takes drops at the gap ``gap(event)`` gives (the number of clips before it), marking
  // the side they will land on.
  function dropZone(node, gap) {
    const side = (e) => (gap(e) > Number(node.dataset.index ?? Infinity) ? "drop-after" : "drop-before");
    const unmark = () => node.classList.remove("drop-before", "drop-after", "drop-target");
    node.addEventListener("dragover", (e) => {
      if (!acceptsDrop(e)) return;
      e.preventDefault();
      unmark();
      node.classList.add(node.dataset.index === undefined ? "drop-target" : side(e));
    });
    node.addEventListener("dragleave", unmark);
    node.addEventListener("drop", (e) => {
      e.preventDefault();
      e.stopPropagation();  // here, not at the end of the timeline
      unmark();
      dropAt(e, gap(e));
    });
  }

  // A drop into the gap before clip ``at`` (``clips.length``: at the end).
  function dropAt(e, at) {
    $("timeline").classList.remove("drop-here");
    const from = dragFrom;
    dragFrom = null;
    if (!canEdit) return;
    // Files upload first; they go before the clip that is at the gap now, wherever it is by then.
    if (e.dataTransfer.files && e.dataTransfer.files.length) { uploadFiles(e.dataTransfer.files, clips[at] || null); return; }
    const assetId = Number(e.dataTransfer.getData(ASSET_TYPE));
    const asset = assetId && data.clips.find((a) => a.id === assetId);
    if (asset) { addClip(asset, at); return; }
    if (from !== null) moveClip(from, at > from ? at - 1 : at);  // the gap counted without the clip that moves
  }

  // Files are sent one at a time to the library's API, each with its own progress bar. Videos and
  // images join the timeline where they were dropped, in the order dropped; sounds join the
  // voiceover and music lists and subtitle files the caption sources. A refused file says why and
  // changes nothing.
  async function uploadFiles(files, before) {
    const queue = Array.from(files).map((file) => {
      const row = el("li", { class: "upload-item" }, el("span", { class: "name", text: file.name }),
        el("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": "0" },
          el("span", { "data-field": "bar", style: "width:0%" })),
        el("span", { class: "state small muted", text: "Waiting…" }));
      $("uploads").append(row);
      return { file, row };
    });
    for (const { file, row } of queue) {
      const asset = await upload(file, row);
      if (!asset) continue;
      const info = { id: asset.id, kind: asset.kind, title: asset.title || asset.original_name, duration: asset.duration,
        width: asset.width, height: asset.height, source: asset.source,
        thumbnail_url: asset.previews && asset.previews.thumbnail ? previewUrl(data.thumbnail_url_template, asset.id) : null,
        strip_url: asset.previews && asset.previews.scrub_strip ? previewUrl(data.strip_url_template, asset.id) : null };
      if (info.kind === "video" || info.kind === "image") {
        if (!data.clips.some((a) => a.id === info.id)) { data.clips.unshift(info); renderBin(); }
        // Before the clip it was dropped before (each file after the one before it), or at the end.
        const at = before && clips.includes(before) ? clips.indexOf(before) : clips.length;
        addClip(data.clips.find((a) => a.id === info.id), at);
        progress(row, 100, asset.status === "ready" ? "On the timeline" : "On the timeline · making previews");
        if (asset.status !== "ready" && asset.ingest_job) row.dataset.ingestJob = asset.ingest_job;
      } else if (info.kind === "audio") {
        if (!data.audio.some((a) => a.id === info.id)) data.audio.unshift(info);
        fillSoundPickers();
        progress(row, 100, "In the voiceover and music lists");
      } else if (info.kind === "subtitle") {
        if (!data.subtitles.some((a) => a.id === info.id)) data.subtitles.unshift(info);
        fillCaptionSources();
        progress(row, 100, "In the caption sources");
      }
      row.classList.add("done");
    }
  }

  function progress(row, percent, text) {
    row.querySelector('[data-field="bar"]').style.width = `${percent}%`;
    row.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", String(percent));
    row.querySelector(".state").textContent = text;
  }

  function upload(file, row) {
    return new Promise((resolve) => {
      const body = new FormData();
      body.append("file", file, file.name);
      body.append("workspace", String(data.workspace));
      if (comp.campaign) body.append("campaign", String(comp.campaign));
      const xhr = new XMLHttpRequest();
      xhr.open("POST", data.urls.assets);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const percent = Math.floor((e.loaded / e.total) * 100);
        progress(row, percent, percent < 100 ? `Uploading… ${percent}%` : "Checking the file…");
      });
      const refuse = (reason) => {
        row.classList.add("refused");
        row.setAttribute("role", "alert");
        progress(row, 100, `Refused: ${reason}`);
        resolve(null);
      };
      xhr.addEventListener("load", () => {
        let json = null;
        try { json = JSON.parse(xhr.responseText); } catch (err) { json = null; }
        if (xhr.status === 200 || xhr.status === 201) { resolve(json); return; }
        const error = (json && json.error) || {};
        const details = Object.values(error.fields || {}).flat().join(" ");
        refuse([error.message, details].filter(Boolean).join(" ") || `the upload failed (HTTP ${xhr.status}).`);
      });
      xhr.addEventListener("error", () => refuse("the connection was lost during the upload."));
      progress(row, 0, "Uploading…");
      xhr.send(body);
    });
  }

  // ------------------------------------------------------------------ panels

  function bindPanels() {
    options($("caption-mode"), data.choices.caption_mode, comp.caption_mode);
    options($("caption-border"), data.choices.caption_border, comp.caption_border);
    options($("caption-position"), data.choices.caption_position, comp.caption_position);
    options($("watermark-position"), data.choices.corner, comp.watermark_position);
    fillSoundPickers();
    options($("campaign"), data.campaigns, comp.campaign, "No campaign");
    options($("universe"), data.universes, comp.universe, "No universe");
    fillCaptionSources();
    $("caption-source").addEventListener("change", (e) => {
      const [kind, id] = e.target.value.split(":");
      comp.caption_request = kind === "request" ? Number(id) : null;
      comp.caption_asset = kind === "asset" ? Number(id) : null;
      const req = data.caption_requests.find((r) => r.id === comp.caption_request);
      if (req && req.voice_asset && !comp.voiceover) { comp.voiceover = req.voice_asset; $("voiceover").value = String(req.voice_asset); }
      // The preview shows the chosen words: a request's come with the page, a subtitle file's after the save.
      data.caption_sample = req ? req.sample : "";
      if (comp.caption_asset) reloadAfterSave = true;
      markDirty();
    });
    document.querySelectorAll("[data-bind]").forEach((input) => {
      const key = input.dataset.bind;
      if (input.type === "checkbox") input.checked = Boolean(comp[key]);
      else if (input.tagName !== "SELECT") input.value = comp[key] === null || comp[key] === undefined ? "" : comp[key];
      const update = () => {
        let value = input.type === "checkbox" ? input.checked : input.value;
        if (input.dataset.number && input.type !== "checkbox") value = value === "" ? null : Number(value);
        comp[key] = value;
        if (input.dataset.reload) reloadAfterSave = true;  // the brand (font, palette, logo) is resolved by the server
        showLevels();
        if (key === "end_card_text") renderTimeline();
        markDirty();
      };
      input.addEventListener(input.type === "range" || input.type === "text" ? "input" : "change", update);
    });
    const presets = $("presets");
    data.presets.forEach((p) => {
      const id = `preset-${p.key}`;
      const box = el("input", { type: "checkbox", id, value: p.key, name: "preset", checked: (comp.presets || []).includes(p.key) });
      box.addEventListener("change", () => {
        comp.presets = [...presets.querySelectorAll("input:checked")].map((b) => b.value);
        if (!viewKey) { $("view-preset").value = viewPreset().key; renderTimeline(); }  // still showing the first chosen
        markDirty();
      });
      presets.append(el("label", { class: "check", for: id }, box, ` ${p.label} `, el("span", { class: "muted small", text: `${p.width}×${p.height}` })));
    });
    const viewSelect = $("view-preset");
    options(viewSelect, data.presets.map((p) => [p.key, `${p.label} ${p.width}×${p.height}`]), viewPreset().key);
    viewSelect.addEventListener("change", () => { viewKey = viewSelect.value; renderTimeline(); preview(); });
    const b = data.brand;
    $("brand-line").textContent = b.universe ? `Universe: ${b.universe} · font ${b.font}${b.has_logo ? " · logo available" : " · no logo"}` : "No universe: default font and colours (link the composition to a campaign with a universe).";
    $("watermark").disabled = !b.has_logo || !canEdit;
    // Viewers see every control but change nothing; they may still look at each platform's framing.
    if (!canEdit) root.querySelectorAll("input, select:not(#view-preset), #save, #render").forEach((n) => { n.disabled = true; });
    showLevels();
  }

  function fillSoundPickers() {
    const audioChoices = data.audio.map((a) => [a.id, `${a.title}${a.duration ? " (" + fmt(a.duration) + ")" : ""}`]);
    options($("voiceover"), audioChoices, comp.voiceover, "No voiceover");
    options($("music"), audioChoices, comp.music, "No music");
  }

  function fillCaptionSources() {
    const sources = [
      ...data.caption_requests.map((r) => [`request:${r.id}`, r.label]),
      ...data.subtitles.map((s) => [`asset:${s.id}`, `Subtitles: ${s.title}`]),
    ];
    const current = comp.caption_request ? `request:${comp.caption_request}` : comp.caption_asset ? `asset:${comp.caption_asset}` : "";
    options($("caption-source"), sources, current, "No captions");
  }

  function showLevels() {
    $("voiceover-gain-out").textContent = Number(comp.voiceover_gain_db).toFixed(1);
    $("music-level-out").textContent = Number(comp.music_level_db).toFixed(1);
  }

  // Caption preview: a scaled mock of the viewed preset's frame: the first clip framed as the render
  // frames it (crop window around the focus point, or whole on a blurred fill), the logo in its
  // corner, and the caption style (font, highlight, stroke or box) inside the safe area.
  function preview() {
    const box = $("caption-preview");
    const preset = viewPreset();
    const width = 220;
    const scale = width / preset.width;
    box.style.width = `${width}px`;
    box.style.height = `${Math.round(preset.height * scale)}px`;
    $("preview-preset").textContent = `${preset.label} (${preset.width}×${preset.height})`;
    const first = clips[0];
    const url = first && first.info.thumbnail_url ? `url("${first.info.thumbnail_url}")` : "";
    const picture = $("preview-picture");
    picture.style.backgroundImage = $("preview-fill").style.backgroundImage = url;
    const layout = first ? layoutFor(first, preset) : { fit: "cover", focus: [0.5, 0.5] };
    if (layout.fit === "cover") {
      // The picture scaled so that the window fills the frame, and shifted to the window: a CSS
      // position of p% puts the picture's p% point on the frame's p% point.
      const win = coverWindow(first ? aspectOf(first.info) : 16 / 9, preset, layout.focus);
      picture.style.backgroundSize = `${100 / win.w}% ${100 / win.h}%`;
      picture.style.backgroundPosition = `${win.w < 1 ? (win.x / (1 - win.w)) * 100 : 50}% ${win.h < 1 ? (win.y / (1 - win.h)) * 100 : 50}%`;
    } else {
      picture.style.backgroundSize = "contain";
      picture.style.backgroundPosition = "center";
    }
    $("preview-fill").hidden = layout.fit === "cover";
    const logo = logoBox(preset);
    const mark = $("preview-logo");
    mark.hidden = !logo;
    if (logo) {
      if (!mark.getAttribute("src")) mark.src = data.brand.logo_url;
      Object.assign(mark.style, { left: `${logo[0] * scale}px`, top: `${logo[1] * scale}px`,
        width: `${(logo[2] - logo[0]) * scale}px`, height: `${(logo[3] - logo[1]) * scale}px`, opacity: comp.watermark_opacity });
    }
    const safe = $("caption-safe");
    // Captions move clear of a logo on their own edge, above or below it, as the render moves them.
    let top = preset.safe.top, bottom = preset.safe.bottom;
    if (logo && comp.caption_position === "bottom" && comp.watermark_position.startsWith("bottom")) bottom = preset.height - logo[1];
    if (logo && comp.caption_position === "top" && comp.watermark_position.startsWith("top")) top = logo[3];
    Object.assign(safe.style, { top: `${top * scale}px`, bottom: `${bottom * scale}px`,
      left: `${preset.safe.left * scale}px`, right: `${preset.safe.right * scale}px` });
    safe.dataset.position = comp.caption_position;
    const b = data.brand;
    const text = $("caption-text");
    const hasCaptions = comp.caption_request || comp.caption_asset;
    const sample = (data.caption_sample || "Captions appear here word by word").split(/\s+/);
    text.innerHTML = "";
    sample.forEach((w, i) => {
      const span = el("span", { text: w });
      if (comp.caption_mode === "karaoke" && i === 1) span.style.color = b.highlight;
      text.append(span, document.createTextNode(" "));
    });
    // As the render sets them: Hangul and other CJK always in the shipped fonts, emoji only where the font has none,
    // in colour where the studio draws them so (and the browser has a colour emoji font), else as outlines.
    const emoji = data.colour_emoji ? `"Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji", ` : "";
    text.style.fontFamily = `"MediaStudio Hangul", "MediaStudio CJK", "Caption ${b.font}", ${emoji}"MediaStudio Emoji", sans-serif`;
    text.style.fontSize = `${Math.max(8, b.size * preset.height * scale)}px`;
    text.style.color = b.primary;
    text.classList.toggle("boxed", comp.caption_border === "box");
    text.style.setProperty("--box", b.box);
    text.style.setProperty("--outline", b.outline);
    text.style.opacity = hasCaptions ? "1" : "0.35";
    // The render shows a long caption a page of max_lines lines at a time: the preview shows its first page.
    const spans = [...text.querySelectorAll("span")];
    const tops = [...new Set(spans.map((s) => s.offsetTop))].sort((x, y) => x - y);
    if (tops.length > b.max_lines) {
      spans.filter((s) => s.offsetTop > tops[b.max_lines - 1]).forEach((s) => { s.nextSibling.remove(); s.remove(); });
    }
    box.title = hasCaptions ? "" : "No caption source chosen";
  }

  // The logo's box (x0, y0, x1, y1) in the preset's pixels: a share of the frame's width, in its
  // corner inside the safe area (as the render's watermark_box); null when no logo is drawn.
  function logoBox(preset) {
    const b = data.brand;
    if (!comp.watermark || !b.logo_url) return null;
    const [lw, lh] = b.logo_size || [1, 1];
    const w = Math.max(2, Math.round((preset.width * b.logo_scale) / 2) * 2);
    const h = Math.max(2, Math.round((w * lh) / lw / 2) * 2);
    const x0 = comp.watermark_position.endsWith("left") ? preset.safe.left : preset.width - preset.safe.right - w;
    const y0 = comp.watermark_position.startsWith("top") ? preset.safe.top : preset.height - preset.safe.bottom - h;
    return [x0, y0, x0 + w, y0 + h];
  }

  // ------------------------------------------------------------------ save, render, results

  function payload() {
    return {
      title: comp.title, presets: comp.presets || [],
      clips: clips.map((c) => ({ asset: c.asset, in_point: Number(c.in_point || 0), out_point: outPoint(c),
        duration: c.duration, fit: c.fit, focus_x: c.focus_x, focus_y: c.focus_y, motion: c.motion, keep_audio: c.keep_audio,
        layouts: c.layouts || {}, transition: c.transition, transition_duration: Number(c.transition_duration ?? 0.5),
        transition_direction: c.transition_direction })),
      caption_request: comp.caption_request || null, caption_asset: comp.caption_asset || null,
      caption_mode: comp.caption_mode, caption_border: comp.caption_border, caption_position: comp.caption_position,
      voiceover: comp.voiceover || null, voiceover_gain_db: Number(comp.voiceover_gain_db), music: comp.music || null,
      campaign: comp.campaign || null, universe: comp.universe || null,
      music_level_db: Number(comp.music_level_db), music_duck: Boolean(comp.music_duck), watermark: Boolean(comp.watermark),
      watermark_position: comp.watermark_position, watermark_opacity: Number(comp.watermark_opacity),
      end_card_text: comp.end_card_text || "", end_card_duration: Number(comp.end_card_duration),
      // The version this page last read: a save made meanwhile in another tab (or by a colleague) is
      // not silently undone; the server refuses with 409 and the page asks what to keep.
      expected_updated_at: comp.updated_at,
    };
  }

  async function api(url, method, body) {
    const response = await fetch(url, { method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body) });
    const json = response.status === 204 ? {} : await response.json().catch(() => ({}));
    return { ok: response.ok, status: response.status, json };
  }

  function showErrors(error) {
    const list = $("errors");
    list.innerHTML = "";
    document.querySelectorAll(".has-error").forEach((n) => n.classList.remove("has-error"));
    if (!error) return;
    const fields = error.fields || {};
    const keys = Object.keys(fields);
    if (!keys.length) list.append(el("li", { text: error.message || "Something went wrong." }));
    keys.forEach((k) => {
      // "clips.2.out_point" is about a field of clip 3, "clips.2" about clip 3 as a whole (its message names it).
      const m = /^clips\.(\d+)(?:\.|$)/.exec(k);
      const sub = k.split(".").slice(2).join(" ").replace(/_/g, " ");
      const where = m ? (sub ? `Clip ${Number(m[1]) + 1}, ${sub}: ` : "") : `${k.replace(/_/g, " ")}: `;
      list.append(el("li", { text: `${where}${fields[k].join(" ")}` }));
      if (m) { const li = document.querySelector(`#timeline li.clip[data-index="${m[1]}"]`); if (li) li.classList.add("has-error"); }
    });
  }

  // Saved elsewhere since this page read the composition: nothing was changed; the user keeps
  // what is on the page and chooses to load the other version or to save theirs over it.
  function showConflict(error) {
    showErrors(null);
    const reload = el("button", { type: "button", class: "secondary", text: "Load the other version",
      onclick: () => { dirty = false; location.reload(); } });
    const overwrite = el("button", { type: "button", class: "danger", text: "Save mine over it",
      onclick: () => save(null, false, true) });
    $("errors").append(el("li", { class: "conflict" }, el("span", { text: error.message }), " ", reload, " ", overwrite));
  }

  async function save(event, fromRender, overwrite) {
    $("save-state").textContent = "Saving…";
    const body = payload();
    if (overwrite) delete body.expected_updated_at;
    const result = await api(data.urls.api, "PATCH", body);
    if (!result.ok) {
      $("save-state").textContent = "Not saved";
      if (result.status === 409 && result.json.error && result.json.error.code === "edit_conflict") showConflict(result.json.error);
      else showErrors(result.json.error);
      return false;
    }
    showErrors(null);
    comp = result.json;
    clips = comp.clips.map(fromServer);
    dirty = false;
    $("save-state").textContent = "Saved";
    if (reloadAfterSave && !fromRender) { location.reload(); return true; }
    renderTimeline();
    $("total-duration").textContent = comp.duration ? `${Number(comp.duration).toFixed(2)} s` : "";
    preview();
    loadResults();  // cuts made before this save now say they are out of date
    return true;
  }

  function showJob(job) {
    const box = $("render-progress");
    box.hidden = false;
    box.dataset.jobId = job.id;
    box.className = box.className.replace(/status-\w+/, `status-${job.status}`);
    box.querySelector('[data-field="bar"]').style.width = `${job.progress}%`;
    box.querySelector('[role="progressbar"]').setAttribute("aria-valuenow", job.progress);
    box.querySelector('[data-field="progress"]').textContent = job.progress;
    box.querySelector('[data-field="message"]').textContent = job.error || job.message || "";
    box.querySelector('[data-field="status"]').textContent = job.status;
    const running = job.status === "queued" || job.status === "running";
    $("cancel-render").hidden = !running || !canEdit;
    $("render").disabled = running || !canEdit;
    if (!running) finishJob();
  }

  function finishJob() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
    currentJob = null;
    loadResults();
  }

  // Live updates from jobs.js (registered before it runs); polling covers a missing websocket.
  (window.MediaStudioJobHooks = window.MediaStudioJobHooks || []).push((job) => {
    if (currentJob && job.id === currentJob) showJob(job);
    else if (job.kind === "render" && job.status === "succeeded") loadResults();
    else if (job.kind === "ingest" && job.status === "succeeded") showThumbnail(job.result || {});
    if (job.kind === "ingest" && ["succeeded", "failed", "canceled"].includes(job.status)) {
      // An upload row that said its previews were being made says how that ended.
      document.querySelectorAll(`#uploads .upload-item[data-ingest-job="${job.id}"] .state`).forEach((state) => {
        state.textContent = job.status === "succeeded" ? "On the timeline" : "On the timeline · previews not made (see the Library)";
      });
    }
  });

  // A file uploaded a moment ago gets its thumbnail when its ingest job has made it: the
  // placeholders in the bin and on the timeline are swapped in place (no re-render, so a
  // field being edited keeps its focus).
  function showThumbnail(result) {
    if (!result.asset_id || !(result.previews || []).includes("thumbnail")) return;
    const url = previewUrl(data.thumbnail_url_template, result.asset_id);
    const swap = (holder, draggable) => {
      const thumb = holder && holder.querySelector(".thumb.placeholder");
      if (thumb) thumb.replaceWith(el("img", { src: url, alt: "", class: "thumb", ...(draggable ? { draggable: "false" } : {}) }));
    };
    data.clips.filter((a) => a.id === result.asset_id).forEach((a) => { a.thumbnail_url = url; });
    swap(document.querySelector(`#bin-grid .bin-item[data-asset-id="${result.asset_id}"]`), false);
    const strip = (result.previews || []).includes("scrub_strip") ? previewUrl(data.strip_url_template, result.asset_id) : null;
    data.clips.filter((a) => a.id === result.asset_id).forEach((a) => { a.strip_url = strip || a.strip_url; });
    clips.forEach((c, i) => {
      if (c.info.id !== result.asset_id) return;
      c.info.thumbnail_url = url;
      const li = document.querySelector(`#timeline li.clip[data-index="${i}"]`);
      swap(li, true);
      if (strip) {
        c.info.strip_url = strip;
        const trim = li && li.querySelector(".trim");
        if (trim) trim.style.backgroundImage = `url("${strip}")`;  // under the trim handles too
      }
    });
    if (clips.length && clips[0].info.id === result.asset_id) preview();  // the caption preview shows the first clip
  }

  function follow(jobId) {
    currentJob = jobId;
    $("render-progress").hidden = false;
    $("render-progress").dataset.jobId = jobId;
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = setInterval(async () => {
      if (!currentJob) return;
      const r = await api(`/api/jobs/${currentJob}/`, "GET");
      if (r.ok) showJob(r.json);
    }, 1500);
  }

  async function startRender() {
    if (!(comp.presets || []).length) { showErrors({ message: "Choose at least one platform." }); return; }
    if (dirty && !(await save(null, true))) return;
    const r = await api(data.urls.renders, "POST", { presets: comp.presets });
    if (!r.ok) { showErrors(r.json.error); return; }
    showErrors(null);
    showJob({ id: r.json.job, status: "queued", progress: 0, message: "Queued" });
    follow(r.json.job);
    loadResults();
  }

  async function cancelRender() {
    if (!currentJob) return;
    await api(`/api/jobs/${currentJob}/cancel/`, "POST");
  }

  async function loadResults() {
    const r = await api(data.urls.renders + "?page_size=50", "GET");
    if (!r.ok) return;
    const latest = new Map();
    const newest = new Map();
    // Per preset: the newest render, unless it failed or was canceled and an older cut exists to play.
    r.json.results.forEach((row) => {
      if (!newest.has(row.preset)) newest.set(row.preset, row);
      const shown = latest.get(row.preset);
      if (!shown || (["failed", "canceled"].includes(shown.status) && !shown.output_url && row.output_url)) latest.set(row.preset, row);
    });
    // A cut made before the composition's last save does not show that save's changes: it says so,
    // so that nobody downloads it for the current version.
    const savedAt = Date.parse(comp.updated_at);
    const notes = (row) => {
      const out = [];
      const last = newest.get(row.preset);
      if (last !== row) out.push(`The latest render ${last.status === "failed" ? "failed" : "was canceled"}: this is an earlier cut.`);
      if (row.output_url && Date.parse(row.created_at) < savedAt) out.push("Made before the latest changes: render again to update it.");
      return out;
    };
    const grid = $("results");
    grid.innerHTML = "";
    if (!latest.size) grid.append(el("p", { class: "muted", text: "Nothing rendered yet." }));
    // In the presets' own order (TikTok, Reels, Shorts, YouTube, ...), not the order they finished in.
    data.presets.filter((p) => latest.has(p.key)).map((p) => latest.get(p.key)).forEach((row) => {
      const preset = data.presets.find((p) => p.key === row.preset);
      const rowNotes = notes(row);
      const card = el("figure", { class: `result status-${row.status}${rowNotes.length ? " outdated" : ""}`, "data-preset": row.preset, "data-render-id": row.id });
      if (row.output_url) {
        const video = el("video", { src: row.output_url, controls: true, preload: "metadata", playsinline: true, poster: row.poster_url || null });
        if (preset) video.style.aspectRatio = `${preset.width} / ${preset.height}`;
        card.append(video);
      } else {
        card.append(el("div", { class: "pending", text: row.status === "failed" ? "Failed" : row.status === "canceled" ? "Canceled" : "Rendering…" }));
      }
      card.append(el("figcaption", {}, el("strong", { text: row.preset_label }), " ",
        el("span", { class: "muted small", text: row.output_url ? `${row.width}×${row.height} · ${fmt(row.duration)}` : row.error ? row.error.split("\n")[0] : row.status }),
        row.output ? el("a", { class: "small", href: `/library/${row.output}/`, text: " Library" }) : ""));
      if (rowNotes.length) card.append(el("p", { class: "small outdated-note", text: rowNotes.join(" ") }));
      grid.append(card);
    });
    const running = r.json.results.find((row) => row.status === "queued" || row.status === "running");
    if (running && running.job && !currentJob) follow(running.job);
  }

  $("save").addEventListener("click", save);
  $("render").addEventListener("click", startRender);
  $("cancel-render").addEventListener("click", cancelRender);
  $("play-all").addEventListener("click", () => {
    const videos = [...document.querySelectorAll("#results video")];
    videos.forEach((v) => { v.currentTime = 0; });
    videos.forEach((v) => { v.play().catch(() => {}); });
  });
  window.addEventListener("beforeunload", (e) => { if (dirty) { e.preventDefault(); e.returnValue = ""; } });

  const timeline = $("timeline");
  timeline.addEventListener("dragover", (e) => { if (acceptsDrop(e)) { e.preventDefault(); timeline.classList.add("drop-here"); } });
  timeline.addEventListener("dragleave", (e) => { if (!timeline.contains(e.relatedTarget)) timeline.classList.remove("drop-here"); });
  timeline.addEventListener("drop", (e) => { e.preventDefault(); timeline.classList.remove("drop-here"); dropAt(e, clips.length); });
  document.querySelectorAll("#timeline-files").forEach((picker) => {
    $("timeline-upload").addEventListener("click", () => picker.click());
    picker.addEventListener("change", () => { uploadFiles(picker.files, null); picker.value = ""; });
  });

  bindPanels();
  renderBin();
  renderTimeline();
  $("total-duration").textContent = comp.duration ? `${Number(comp.duration).toFixed(2)} s` : "";
  preview();
  loadResults();
})();

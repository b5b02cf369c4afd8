// The genro-storage console: one page over the JSON API (see docs/console.md).
import { ApiError, fileUrl, get, post, upload } from "./api.js";
import { escapeHtml, humanSize, icon, isoTime, kindOf, localTime, mountIcon, previewable } from "./format.js";

const PAGE_SIZE = 200;
const $ = (selector) => document.querySelector(selector);

const state = {
  mounts: [],
  mount: null, // the mount object
  path: "",
  entries: [],
  cursor: null, // next page, null when complete
  loading: 0, // the generation whose page is loading, 0 when none
  sort: { key: "name", dir: 1 },
  filter: "",
  generation: 0, // bumps on navigation: late pages of an old folder are dropped
};

// ---------------------------------------------------------------- small helpers
function say(message, kind = "info") {
  const box = $("#status");
  box.textContent = message;
  box.dataset.kind = kind;
  box.classList.add("show");
  clearTimeout(say.timer);
  say.timer = setTimeout(() => box.classList.remove("show"), kind === "error" ? 7000 : 3500);
}

function fail(error) {
  say(error instanceof ApiError ? error.message : String(error), "error");
}

function joinPath(folder, name) {
  return folder ? `${folder}/${name}` : name;
}

function writable() {
  return state.mount && state.mount.writable;
}

function hashFor(mount, path) {
  const encoded = path ? "/" + path.split("/").map(encodeURIComponent).join("/") : "";
  return `#/${encodeURIComponent(mount)}${encoded}`;
}

function fromHash() {
  const parts = location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  return { mount: parts[0] || null, path: parts.slice(1).join("/") };
}

// ---------------------------------------------------------------- dialogs
function dialog({ title, body, ok = "OK", danger = false, cancel = "Cancel", focus }) {
  const box = $("#dialog");
  $("#dialog-title").textContent = title;
  const holder = $("#dialog-body");
  holder.replaceChildren();
  if (typeof body === "string") holder.innerHTML = body;
  else if (body) holder.append(body);
  const okButton = $("#dialog-ok");
  okButton.textContent = ok;
  okButton.hidden = ok === null;
  okButton.classList.toggle("danger", danger);
  $("#dialog-cancel").textContent = cancel;
  return new Promise((resolve) => {
    const done = (value) => {
      box.removeEventListener("close", onClose);
      resolve(value);
    };
    const onClose = () => done(box.returnValue === "ok" ? holder : null);
    box.addEventListener("close", onClose);
    $("#dialog-cancel").onclick = () => box.close("cancel");
    $("#dialog-form").onsubmit = (event) => {
      event.preventDefault();
      box.close("ok");
    };
    box.returnValue = "";
    box.showModal();
    const target = focus ? holder.querySelector(focus) : okButton.hidden ? $("#dialog-cancel") : okButton;
    if (target) {
      target.focus();
      if (target.select) target.select();
    }
  });
}

async function ask(title, label, value = "", okText = "OK") {
  const html = `<label class="field" for="dialog-input">${escapeHtml(label)}</label>
    <input id="dialog-input" name="value" required autocomplete="off" value="${escapeHtml(value)}">`;
  const result = await dialog({ title, body: html, ok: okText, focus: "#dialog-input" });
  return result ? result.querySelector("#dialog-input").value.trim() : null;
}

// ---------------------------------------------------------------- mounts
function renderMounts() {
  const list = $("#mounts");
  list.replaceChildren();
  for (const mount of state.mounts) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "mount";
    button.dataset.mount = mount.name;
    if (state.mount && state.mount.name === mount.name) button.setAttribute("aria-current", "true");
    const badge = mount.writable ? "" : `<span class="badge ro">${icon("lock", 12)}read-only</span>`;
    button.innerHTML = `${mountIcon(mount.type)}<span class="mount-name">${escapeHtml(mount.name)}</span>
      <span class="badge type">${escapeHtml(mount.type)}</span>${badge}`;
    button.addEventListener("click", () => navigate(mount.name, ""));
    item.append(button);
    list.append(item);
  }
}

function renderMountInfo() {
  const mount = state.mount;
  const box = $("#mount-info");
  if (!mount) {
    box.textContent = "";
    return;
  }
  const caps = mount.capabilities;
  const tags = [];
  tags.push(mount.writable ? "read-write" : "read-only");
  if (caps.versioning || caps.version_listing) tags.push("versions");
  if (caps.presigned_urls) tags.push("presigned links");
  if (caps.copy_optimization) tags.push("server-side copy");
  if (caps.hash_on_metadata) tags.push("stored MD5");
  if (mount.implicit_dirs) tags.push("folders are prefixes");
  box.innerHTML = `<span class="mi-name">${escapeHtml(mount.name)}</span>
    <span class="mi-type">${escapeHtml(mount.type)}</span>
    ${tags.map((t) => `<span class="cap">${escapeHtml(t)}</span>`).join("")}`;
  document.querySelectorAll("[data-write]").forEach((el) => {
    el.hidden = !mount.writable;
  });
}

// ---------------------------------------------------------------- navigation + listing
async function navigate(mountName, path, { push = true } = {}) {
  const mount = state.mounts.find((m) => m.name === mountName) || state.mounts[0];
  if (!mount) return;
  state.mount = mount;
  state.path = mount.name === mountName ? path : "";
  state.entries = [];
  state.cursor = null;
  state.generation += 1;
  $("#filter").value = state.filter = "";
  if (push) history.pushState(null, "", hashFor(state.mount.name, state.path));
  renderMounts();
  renderMountInfo();
  renderCrumbs();
  document.title = `${state.mount.name}:${state.path || "/"} · genro-storage console`;
  await loadPage(state.generation);
}

async function loadPage(generation) {
  if (state.loading === generation) return; // this folder's next page is on its way already
  state.loading = generation;
  $("#dropzone").setAttribute("aria-busy", "true");
  try {
    const page = await get("list", {
      mount: state.mount.name,
      path: state.path,
      cursor: state.cursor,
      limit: PAGE_SIZE,
    });
    if (generation !== state.generation) return;
    state.entries.push(...page.entries);
    state.cursor = page.next_cursor;
    renderRows();
  } catch (error) {
    if (generation === state.generation) {
      fail(error);
      renderRows();
    }
  } finally {
    if (state.loading === generation) {
      state.loading = 0;
      $("#dropzone").removeAttribute("aria-busy");
    }
  }
}

async function loadAll() {
  const generation = state.generation;
  while (state.cursor && generation === state.generation) {
    if (state.loading === generation) await new Promise((resolve) => setTimeout(resolve, 50));
    else await loadPage(generation);
  }
}

async function refresh() {
  const keep = document.activeElement && document.activeElement.closest("tr")?.dataset.name;
  state.entries = [];
  state.cursor = null;
  state.generation += 1;
  await loadPage(state.generation);
  if (keep) focusRow(keep);
}

function renderCrumbs() {
  const list = $("#crumbs");
  list.replaceChildren();
  const parts = state.path ? state.path.split("/") : [];
  const items = [{ label: state.mount.name, path: "" }];
  parts.forEach((part, index) => items.push({ label: part, path: parts.slice(0, index + 1).join("/") }));
  items.forEach((item, index) => {
    const li = document.createElement("li");
    const last = index === items.length - 1;
    const link = document.createElement("a");
    link.href = hashFor(state.mount.name, item.path);
    link.textContent = item.label;
    if (index === 0) link.insertAdjacentHTML("afterbegin", mountIcon(state.mount.type));
    if (last) link.setAttribute("aria-current", "page");
    link.addEventListener("click", (event) => {
      event.preventDefault();
      navigate(state.mount.name, item.path);
    });
    li.append(link);
    list.append(li);
  });
}

function sorted(entries) {
  const { key, dir } = state.sort;
  const names = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });
  return [...entries].sort((a, b) => {
    if (a.is_dir !== b.is_dir) return a.is_dir ? -1 : 1; // folders first
    let order = 0;
    if (key === "size") order = a.size - b.size;
    else if (key === "mtime") order = (a.mtime || 0) - (b.mtime || 0);
    if (order === 0) order = names.compare(a.name, b.name);
    return order * dir;
  });
}

function visible() {
  const needle = state.filter.toLowerCase();
  const shown = needle ? state.entries.filter((e) => e.name.toLowerCase().includes(needle)) : state.entries;
  return sorted(shown);
}

function actionButton(name, label, handler) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "icon-btn";
  button.dataset.action = name;
  button.setAttribute("aria-label", label);
  button.title = label.split(" ")[0];
  button.innerHTML = icon(
    { preview: "eye", download: "download", rename: "pencil", share: "link", versions: "history", delete: "trash" }[name],
    18,
  );
  button.addEventListener("click", (event) => {
    event.stopPropagation();
    handler();
  });
  return button;
}

function renderRows() {
  const body = $("#rows");
  const rows = visible();
  const fragment = document.createDocumentFragment();
  const mount = state.mount;
  for (const entry of rows) {
    const tr = document.createElement("tr");
    tr.dataset.name = entry.name;
    tr.dataset.kind = kindOf(entry);
    if (entry.is_dir) tr.dataset.dir = "1";
    tr.tabIndex = -1;
    const nameCell = document.createElement("td");
    nameCell.className = "c-name";
    const link = document.createElement("a");
    link.className = "entry";
    link.href = entry.is_dir ? hashFor(mount.name, entry.path) : fileUrl(mount.name, entry.path);
    link.innerHTML = `${icon(kindOf(entry), 22)}<span class="entry-name">${escapeHtml(entry.name)}</span>`;
    link.addEventListener("click", (event) => {
      event.preventDefault();
      open(entry);
    });
    nameCell.append(link);
    const size = document.createElement("td");
    size.className = "c-size";
    size.textContent = entry.is_dir ? "—" : humanSize(entry.size);
    if (!entry.is_dir) size.title = `${entry.size.toLocaleString()} bytes`;
    const time = document.createElement("td");
    time.className = "c-mtime";
    if (entry.mtime != null) {
      const stamp = document.createElement("time");
      stamp.dateTime = isoTime(entry.mtime);
      stamp.textContent = localTime(entry.mtime);
      time.append(stamp);
    }
    const actions = document.createElement("td");
    actions.className = "c-actions";
    const tools = document.createElement("div");
    tools.className = "row-tools";
    if (!entry.is_dir) {
      if (previewable(entry)) tools.append(actionButton("preview", `Preview ${entry.name}`, () => preview(entry)));
      tools.append(actionButton("download", `Download ${entry.name}`, () => download(entry)));
      tools.append(actionButton("share", `Share ${entry.name}`, () => share(entry)));
      if (mount.versioning) tools.append(actionButton("versions", `Versions of ${entry.name}`, () => versions(entry)));
    }
    if (mount.writable) tools.append(actionButton("rename", `Rename or move ${entry.name}`, () => rename(entry)));
    if (mount.deletable) tools.append(actionButton("delete", `Delete ${entry.name}`, () => remove(entry)));
    actions.append(tools);
    tr.append(nameCell, size, time, actions);
    tr.addEventListener("dblclick", () => open(entry));
    fragment.append(tr);
  }
  body.replaceChildren(fragment);
  $("#empty").hidden = state.entries.length > 0 || state.cursor != null;
  const more = Boolean(state.cursor);
  $("#btn-more").hidden = !more;
  $("#btn-all").hidden = !more;
  const total = state.entries.length;
  const folders = state.entries.filter((e) => e.is_dir).length;
  let text = `${total.toLocaleString()} item${total === 1 ? "" : "s"}${more ? " loaded, more to load" : ""}`;
  if (total) text += ` · ${folders} folder${folders === 1 ? "" : "s"}`;
  if (state.filter) text = `${rows.length.toLocaleString()} of ${text} match “${state.filter}”`;
  $("#count").textContent = text;
  $("#listing-caption").textContent = `Contents of ${state.mount.name}:${state.path || "/"}`;
  document.querySelectorAll("th[aria-sort]").forEach((th) => {
    const key = th.querySelector("button").dataset.sort;
    th.setAttribute("aria-sort", key === state.sort.key ? (state.sort.dir > 0 ? "ascending" : "descending") : "none");
  });
}

function focusRow(name) {
  const row = [...document.querySelectorAll("#rows tr")].find((tr) => tr.dataset.name === name);
  if (row) row.focus();
}

function entryOf(row) {
  return row && state.entries.find((e) => e.name === row.dataset.name);
}

// ---------------------------------------------------------------- actions
function open(entry) {
  if (entry.is_dir) navigate(state.mount.name, entry.path);
  else if (previewable(entry)) preview(entry);
  else download(entry);
}

function download(entry, version) {
  const link = document.createElement("a");
  const extra = version ? { version } : { download: "1" };
  link.href = fileUrl(state.mount.name, entry.path, extra);
  link.download = entry.name;
  document.body.append(link);
  link.click();
  link.remove();
}

async function preview(entry) {
  const box = $("#preview");
  const body = $("#preview-body");
  const url = fileUrl(state.mount.name, entry.path);
  $("#preview-title").textContent = entry.name;
  $("#preview-download").href = fileUrl(state.mount.name, entry.path, { download: "1" });
  $("#preview-download").setAttribute("download", entry.name);
  $("#preview-download").setAttribute("aria-label", `Download ${entry.name}`);
  body.replaceChildren();
  const kind = kindOf(entry);
  body.dataset.kind = kind;
  if (kind === "image") {
    const img = document.createElement("img");
    img.src = url;
    img.alt = `Preview of ${entry.name}`;
    body.append(img);
  } else if (kind === "pdf") {
    const frame = document.createElement("iframe");
    frame.src = url;
    frame.title = `PDF preview of ${entry.name}`;
    body.append(frame);
  } else if (kind === "audio" || kind === "video") {
    const media = document.createElement(kind);
    media.controls = true;
    media.preload = "metadata";
    media.src = url;
    media.setAttribute("aria-label", `${kind === "audio" ? "Audio" : "Video"} preview of ${entry.name}`);
    body.append(media);
  } else {
    const limit = 256 * 1024;
    const pre = document.createElement("pre");
    pre.tabIndex = 0;
    pre.setAttribute("aria-label", `Text of ${entry.name}`);
    const code = document.createElement("code");
    pre.append(code);
    body.append(pre);
    try {
      const response = await fetch(url, { headers: { Range: `bytes=0-${limit - 1}` } });
      const text = await response.text();
      code.textContent = text;
      if (entry.size > limit) {
        const note = document.createElement("p");
        note.className = "muted";
        note.textContent = `Showing the first ${humanSize(limit)} of ${humanSize(entry.size)}.`;
        body.append(note);
      }
    } catch (error) {
      fail(error);
    }
  }
  box.showModal();
  $("#preview-close").focus();
}

function closePreview() {
  const box = $("#preview");
  box.querySelectorAll("audio, video").forEach((m) => m.pause());
  box.close();
  $("#preview-body").replaceChildren();
}

async function remove(entry) {
  const what = entry.is_dir ? "folder" : "file";
  const body = `<p>Delete the ${what} <strong>${escapeHtml(entry.name)}</strong>
    ${entry.is_dir ? "and everything in it" : ""} from <strong>${escapeHtml(state.mount.name)}</strong>?
    This cannot be undone.</p>`;
  if (!(await dialog({ title: `Delete ${what}`, body, ok: "Delete", danger: true }))) return;
  try {
    await post("delete", { mount: state.mount.name, path: entry.path });
    say(`Deleted ${entry.name}`);
    await refresh();
  } catch (error) {
    fail(error);
  }
}

async function rename(entry) {
  const target = await ask(
    `Rename or move ${entry.name}`,
    "New name, or a path inside this mount (folder/name)",
    entry.path,
    "Rename",
  );
  if (!target || target === entry.path) return;
  try {
    await post("move", { mount: state.mount.name, path: entry.path, to_mount: state.mount.name, to_path: target });
    say(`Moved ${entry.name} to ${target}`);
    await refresh();
  } catch (error) {
    fail(error);
  }
}

async function mkdir() {
  const name = await ask("New folder", "Folder name", "", "Create");
  if (!name) return;
  const path = joinPath(state.path, name);
  try {
    await post("mkdir", { mount: state.mount.name, path });
    say(`Created ${name}`);
    if (state.mount.implicit_dirs) {
      say(`Opened ${name}: on ${state.mount.type} a folder is kept once it holds a file`);
      await navigate(state.mount.name, path);
    } else {
      await refresh();
      focusRow(name);
    }
  } catch (error) {
    fail(error);
  }
}

async function share(entry) {
  const form = document.createElement("div");
  form.innerHTML = `<label class="field" for="share-expiry">Link valid for</label>
    <select id="share-expiry" name="expiry">
      <option value="3600">1 hour</option><option value="86400" selected>1 day</option>
      <option value="604800">7 days</option></select>`;
  const result = await dialog({ title: `Share ${entry.name}`, body: form, ok: "Create link", focus: "#share-expiry" });
  if (!result) return;
  try {
    const links = await post("share", {
      mount: state.mount.name,
      path: entry.path,
      expires_in: Number(result.querySelector("#share-expiry").value),
    });
    const signed = new URL(links.signed, location.href).href;
    const until = localTime(links.expires);
    const box = document.createElement("div");
    box.className = "links";
    box.innerHTML = `<label class="field" for="link-signed">Signed link (expires ${escapeHtml(until)})</label>
      <div class="copyline"><input id="link-signed" readonly value="${escapeHtml(signed)}">
      <button type="button" class="btn" data-copy="link-signed">Copy</button></div>
      ${links.presigned ? `<label class="field" for="link-presigned">Presigned ${escapeHtml(state.mount.type)} link (straight from the store)</label>
      <div class="copyline"><input id="link-presigned" readonly value="${escapeHtml(links.presigned)}">
      <button type="button" class="btn" data-copy="link-presigned">Copy</button></div>` : ""}`;
    box.querySelectorAll("[data-copy]").forEach((button) =>
      button.addEventListener("click", async () => {
        const input = box.querySelector("#" + button.dataset.copy);
        input.select();
        try {
          await navigator.clipboard.writeText(input.value);
          say("Link copied");
        } catch {
          say("Press Ctrl+C to copy the selected link");
        }
      }),
    );
    await dialog({ title: `Links to ${entry.name}`, body: box, ok: null, cancel: "Close", focus: "#link-signed" });
  } catch (error) {
    fail(error);
  }
}

async function versions(entry) {
  let found;
  try {
    found = (await get("versions", { mount: state.mount.name, path: entry.path })).versions;
  } catch (error) {
    fail(error);
    return;
  }
  const box = document.createElement("div");
  if (!found.length) box.innerHTML = "<p>No versions are kept for this file.</p>";
  else {
    const rows = [...found]
      .reverse()
      .map(
        (v, index) => `<tr data-version="${escapeHtml(v.version_id)}">
          <td>${found.length - index}${v.is_latest ? ' <span class="badge">current</span>' : ""}</td>
          <td><time datetime="${isoTime(v.mtime)}">${escapeHtml(localTime(v.mtime))}</time></td>
          <td>${escapeHtml(humanSize(v.size))}</td>
          <td class="row-tools">
            <button type="button" class="btn small" data-get aria-label="Download version ${found.length - index}">Download</button>
            ${!v.is_latest && state.mount.writable ? `<button type="button" class="btn small" data-restore aria-label="Restore version ${found.length - index}">Restore</button>` : ""}
          </td></tr>`,
      )
      .join("");
    box.innerHTML = `<table class="versions"><caption class="visually-hidden">Versions of ${escapeHtml(entry.name)}</caption>
      <thead><tr><th scope="col">#</th><th scope="col">Saved</th><th scope="col">Size</th><th scope="col"><span class="visually-hidden">Actions</span></th></tr></thead>
      <tbody>${rows}</tbody></table>`;
    box.querySelectorAll("tr[data-version]").forEach((tr) => {
      const id = tr.dataset.version;
      tr.querySelector("[data-get]").addEventListener("click", () => download(entry, id));
      const restore = tr.querySelector("[data-restore]");
      if (restore)
        restore.addEventListener("click", async () => {
          try {
            await post("restore", { mount: state.mount.name, path: entry.path, version_id: id });
            $("#dialog").close("cancel");
            say(`Restored an earlier version of ${entry.name}`);
            await refresh();
          } catch (error) {
            fail(error);
          }
        });
    });
  }
  await dialog({ title: `Versions of ${entry.name}`, body: box, ok: null, cancel: "Close" });
}

// ---------------------------------------------------------------- transfers
function transferItem(label) {
  $("#no-transfers").hidden = true;
  const li = document.createElement("li");
  li.className = "transfer";
  const id = `t${Math.random().toString(36).slice(2)}`;
  li.innerHTML = `<div class="t-label" id="${id}">${escapeHtml(label)}</div>
    <progress max="100" value="0" aria-labelledby="${id}"></progress>
    <div class="t-detail" aria-live="off"></div>`;
  $("#transfers").prepend(li);
  return {
    element: li,
    update(done, total, text) {
      const bar = li.querySelector("progress");
      bar.max = total || 1;
      bar.value = Math.min(done, total || 1);
      li.querySelector(".t-detail").textContent = text;
    },
    finish(ok, text) {
      li.dataset.state = ok ? "done" : "failed";
      if (ok) {
        const bar = li.querySelector("progress");
        bar.value = bar.max;
      }
      li.querySelector(".t-detail").textContent = text;
    },
  };
}

async function uploadFiles(files) {
  if (!writable()) return;
  const mount = state.mount.name;
  const folder = state.path;
  const existing = new Set(state.entries.filter((e) => !e.is_dir).map((e) => e.name));
  for (const file of files) {
    const item = transferItem(`${file.name} → ${mount}:${folder || "/"}`);
    item.element.dataset.upload = file.name;
    let overwrite = false;
    if (existing.has(file.name)) {
      const body = `<p><strong>${escapeHtml(file.name)}</strong> already exists here. Replace it?</p>`;
      overwrite = Boolean(await dialog({ title: "Replace file", body, ok: "Replace", danger: true }));
      if (!overwrite) {
        item.finish(false, "skipped: already exists");
        continue;
      }
    }
    try {
      await upload(mount, joinPath(folder, file.name), file, overwrite, (done, total) =>
        item.update(done, total, `${humanSize(done)} of ${humanSize(total)}`),
      );
      item.finish(true, `${humanSize(file.size)} uploaded`);
    } catch (error) {
      item.finish(false, error.message);
      fail(error);
    }
  }
  if (state.mount.name === mount && state.path === folder) await refresh();
}

async function copyFolder() {
  const targets = state.mounts.filter((m) => m.writable);
  const form = document.createElement("div");
  const here = `${state.mount.name}:${state.path || "/"}`;
  form.innerHTML = `<p>Copy <strong>${escapeHtml(here)}</strong> (this folder and everything below it).</p>
    <label class="field" for="copy-mount">To mount</label>
    <select id="copy-mount">${targets.map((m) => `<option value="${escapeHtml(m.name)}">${escapeHtml(m.name)} (${escapeHtml(m.type)})</option>`).join("")}</select>
    <label class="field" for="copy-path">Destination folder</label>
    <input id="copy-path" required autocomplete="off" value="${escapeHtml(`copies/${state.path || state.mount.name}`)}">
    <fieldset class="modes"><legend>Mode</legend>
      <label><input type="radio" name="mode" value="copy" checked> Copy everything</label>
      <label><input type="radio" name="mode" value="sync"> Sync (only what changed)</label>
      <label><input type="checkbox" id="copy-delete"> With sync, delete extra files at the destination</label>
    </fieldset>`;
  if (!targets.length) {
    say("No writable mount to copy to", "error");
    return;
  }
  const result = await dialog({ title: "Copy folder", body: form, ok: "Start", focus: "#copy-mount" });
  if (!result) return;
  const request = {
    mount: state.mount.name,
    path: state.path,
    to_mount: result.querySelector("#copy-mount").value,
    to_path: result.querySelector("#copy-path").value.trim(),
    mode: result.querySelector('input[name="mode"]:checked').value,
    delete: result.querySelector("#copy-delete").checked,
  };
  try {
    const job = await post("copy", request);
    follow(job, `${job.kind} ${job.source} → ${job.target}`);
  } catch (error) {
    fail(error);
  }
}

function follow(job, label) {
  const item = transferItem(label);
  item.element.dataset.job = job.id;
  const id = encodeURIComponent(job.id);
  let ended = false;
  const show = (data) => {
    const text = `${data.files_done} of ${data.files_total} files · ${humanSize(data.bytes_done)} of ${humanSize(data.bytes_total)}`;
    item.update(data.bytes_done, data.bytes_total || 1, text);
    if (data.state !== "running" && !ended) {
      ended = true;
      item.finish(data.state === "done", data.state === "done" ? `done: ${text}` : `failed: ${data.error}`);
      say(data.state === "done" ? `Copied to ${data.target}` : `Copy failed: ${data.error}`, data.state === "done" ? "info" : "error");
      item.element.dataset.state = data.state;
    }
  };
  const events = new EventSource(`/api/jobs/${id}/events`);
  events.onmessage = (event) => {
    const data = JSON.parse(event.data);
    show(data);
    if (ended) events.close();
  };
  // a stream that drops before the job ends: ask for its state until it does
  events.onerror = async () => {
    events.close();
    while (!ended) {
      try {
        show(await get(`jobs/${id}`));
      } catch (error) {
        fail(error);
        return;
      }
      if (!ended) await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };
}

// ---------------------------------------------------------------- keyboard + events
function rows() {
  return [...document.querySelectorAll("#rows tr")];
}

function onKey(event) {
  if (document.querySelector("dialog[open]")) return;
  const target = event.target;
  const typing = target.matches("input, select, textarea");
  if (event.key === "/" && !typing) {
    event.preventDefault();
    $("#filter").focus();
    return;
  }
  if (typing) {
    if (event.key === "ArrowDown" && target.id === "filter") {
      event.preventDefault();
      rows()[0]?.focus();
    }
    if (event.key === "Escape" && target.id === "filter") {
      target.value = state.filter = "";
      renderRows();
    }
    return;
  }
  const row = target.closest && target.closest("#rows tr");
  const all = rows();
  const index = row ? all.indexOf(row) : -1;
  if (event.key === "ArrowDown" || event.key === "ArrowUp") {
    event.preventDefault();
    const next = event.key === "ArrowDown" ? Math.min(index + 1, all.length - 1) : Math.max(index - 1, 0);
    all[next]?.focus();
    if (event.key === "ArrowDown" && next === all.length - 1 && state.cursor) loadPage(state.generation);
  } else if (event.key === "Home" && all.length) {
    event.preventDefault();
    all[0].focus();
  } else if (event.key === "End" && all.length) {
    event.preventDefault();
    all[all.length - 1].focus();
  } else if (event.key === "Enter" && row && target === row) {
    event.preventDefault();
    open(entryOf(row));
  } else if (event.key === "Backspace" || (event.key === "ArrowUp" && event.altKey)) {
    if (state.path) {
      event.preventDefault();
      const parent = state.path.split("/").slice(0, -1).join("/");
      const from = state.path.split("/").pop();
      navigate(state.mount.name, parent).then(() => focusRow(from));
    }
  } else if (event.key === "Delete" && row && state.mount.deletable) {
    event.preventDefault();
    remove(entryOf(row));
  } else if (event.key === "F2" && row && state.mount.writable) {
    event.preventDefault();
    rename(entryOf(row));
  }
}

function bind() {
  document.addEventListener("keydown", onKey);
  $("#filter").addEventListener("input", (event) => {
    state.filter = event.target.value;
    renderRows();
  });
  document.querySelectorAll("th button[data-sort]").forEach((button) =>
    button.addEventListener("click", () => {
      const key = button.dataset.sort;
      state.sort = { key, dir: state.sort.key === key ? -state.sort.dir : 1 };
      renderRows();
    }),
  );
  $("#btn-upload").addEventListener("click", () => $("#file-input").click());
  $("#file-input").addEventListener("change", (event) => {
    uploadFiles([...event.target.files]);
    event.target.value = "";
  });
  $("#btn-mkdir").addEventListener("click", mkdir);
  $("#btn-copy").addEventListener("click", copyFolder);
  $("#btn-more").addEventListener("click", () => loadPage(state.generation));
  $("#btn-all").addEventListener("click", loadAll);
  $("#preview-close").addEventListener("click", closePreview);
  $("#preview").addEventListener("close", () => $("#preview").querySelectorAll("audio, video").forEach((m) => m.pause()));
  const zone = $("#dropzone");
  zone.addEventListener("dragover", (event) => {
    if (!writable()) return;
    event.preventDefault();
    zone.classList.add("dragging");
  });
  zone.addEventListener("dragleave", (event) => {
    if (!zone.contains(event.relatedTarget)) zone.classList.remove("dragging");
  });
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("dragging");
    if (writable() && event.dataTransfer.files.length) uploadFiles([...event.dataTransfer.files]);
  });
  const sentinel = $(".more");
  new IntersectionObserver((seen) => {
    if (seen.some((e) => e.isIntersecting) && state.cursor && !state.loading) loadPage(state.generation);
  }).observe(sentinel);
  window.addEventListener("popstate", () => {
    const { mount, path } = fromHash();
    navigate(mount, path, { push: false });
  });
}

async function start() {
  bind();
  document.querySelectorAll("[data-icon]").forEach((el) => {
    el.innerHTML = icon(el.dataset.icon, 18);
  });
  try {
    const session = await get("session");
    state.mounts = session.mounts;
  } catch (error) {
    fail(error);
    return;
  }
  const { mount, path } = fromHash();
  await navigate(mount || state.mounts[0]?.name, path, { push: false });
  document.body.dataset.ready = "1";
}

start();

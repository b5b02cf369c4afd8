// Drive the genro-storage console in real headless Chromium (playwright-core, Debian's
// chromium): every action of the page on one mount, axe-core checks, screenshots.
//
//   node console.cjs <playwright-core dir> <axe.min.js> <base url> <case.json> <out dir>
//
// case.json: {"main": mount, "target": writable mount for copies, "readonly": mount,
//   "text": a text file at the main mount's root, "textContains": "...",
//   "versions": bool, "uploads": [paths], "replacement": path named like "text"}
// Prints one JSON line with what was proven (the Python test asserts on it).
"use strict";
const fs = require("fs");
const path = require("path");
const crypto = require("crypto");

const sha = (buffer) => crypto.createHash("sha256").update(buffer).digest("hex");

async function main() {
  const [pwDir, axePath, base, casePath, out] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(casePath, "utf8"));
  const { chromium } = require(pwDir);
  const axeSource = fs.readFileSync(axePath, "utf8");
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
      "--disable-background-networking", "--disable-component-update", "--autoplay-policy=no-user-gesture-required"],
  });
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1400, height: 860 } });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const result = { proven: [], axe: [], errors: [], ranges: [] };
  page.on("pageerror", (error) => result.errors.push(String(error)));
  page.on("request", (request) => {
    const range = request.headers()["range"];
    if (range && request.url().includes("/files/")) result.ranges.push({ url: request.url(), range });
  });
  const proven = (name) => result.proven.push(name);
  const shot = (name) => page.screenshot({ path: path.join(out, `${name}.png`) });
  const row = (name) => page.locator(`#rows tr[data-name="${name}"]`);
  const ready = async () => {
    await page.waitForFunction(() => !document.querySelector("#dropzone[aria-busy]"));
  };
  const go = async (mount, folder = "") => {
    await page.locator(`#mounts button[data-mount="${mount}"]`).click();
    await ready();
    for (const part of folder.split("/").filter(Boolean)) {
      await row(part).locator("a.entry").click();
      await page.waitForFunction((p) => document.querySelector('#crumbs [aria-current="page"]')?.textContent === p, part);
      await ready();
    }
  };
  const axe = async (label) => {
    // evaluated through the DevTools protocol: the page's CSP (no inline script) stays on
    if (!(await page.evaluate(() => Boolean(window.axe)))) await page.evaluate(axeSource);
    const found = await page.evaluate(async () => {
      const report = await window.axe.run(document, { resultTypes: ["violations"] });
      return report.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help }));
    });
    result.axe.push({ state: label, violations: found });
  };
  const dialogOk = async () => {
    await page.locator("#dialog-ok").click();
    await page.waitForFunction(() => !document.querySelector("#dialog").open);
  };
  const uploadsDone = async (count) => {
    await page.waitForFunction(
      (n) => document.querySelectorAll("#transfers li[data-upload][data-state]").length >= n, count,
      { timeout: 30000 });
  };

  try {
    // ---------------------------------------------------------------- browse
    await page.goto(`${base}/#/${spec.main}`);
    await page.waitForSelector("body[data-ready]");
    result.mounts = await page.$$eval("#mounts button", (els) => els.map((b) => b.dataset.mount));
    result.mountTypes = await page.$$eval("#mounts .badge.type", (els) => els.map((b) => b.textContent));
    await shot("01-browse");
    await axe("browse");
    proven("browse");

    // ---------------------------------------------------------------- a big folder, by pages
    await go(spec.main, "many");
    await page.waitForSelector("#btn-all:not([hidden])");
    result.firstPageRows = await page.locator("#rows tr").count();
    result.firstPageCount = await page.locator("#count").innerText();
    // The list also fetches its next page by itself when its end scrolls into view
    // (IntersectionObserver): that re-renders the footer under the pointer and, on a busy
    // machine, can load the last page and hide "Load all" before a pointer click lands.
    // Click it through the DOM (loadAll() is a no-op once everything is loaded).
    await page.$eval("#btn-all", (button) => button.click());
    await page.waitForFunction(() => document.querySelector("#btn-all").hidden);
    result.allRows = await page.locator("#rows tr").count();
    await go(spec.main);
    proven("pages");

    // ---------------------------------------------------------------- upload (multiple files)
    await page.setInputFiles("#file-input", spec.uploads);
    await uploadsDone(spec.uploads.length);
    const names = spec.uploads.map((p) => path.basename(p));
    await row(names[0]).waitFor();
    result.uploaded = await Promise.all(names.map(async (n) => (await row(n).count()) === 1));
    result.sizeText = await row(names[0]).locator(".c-size").innerText();
    result.uploadStates = await page.$$eval("#transfers li[data-upload]", (els) => els.map((e) => e.dataset.state));
    await shot("02-uploaded");
    proven("upload");

    // ---------------------------------------------------------------- filter + sort
    await page.fill("#filter", "up-");
    result.filtered = await page.locator("#rows tr").count();
    await page.fill("#filter", "");
    await page.click('th button[data-sort="size"]');
    result.sortAsc = await page.getAttribute("th.c-size", "aria-sort");
    const sizes = async () => page.$$eval("#rows tr:not([data-dir]) .c-size", (els) => els.map((e) => Number(e.title.replace(/\D/g, ""))));
    result.sizesAsc = await sizes();
    await page.click('th button[data-sort="size"]');
    result.sortDesc = await page.getAttribute("th.c-size", "aria-sort");
    result.sizesDesc = await sizes();
    await page.click('th button[data-sort="name"]');
    proven("filter");
    proven("sort");

    // ---------------------------------------------------------------- keyboard
    await page.keyboard.press("/");
    result.slashFocusesFilter = await page.evaluate(() => document.activeElement.id === "filter");
    await page.keyboard.press("ArrowDown");
    result.firstRowFocused = await page.evaluate(() => document.activeElement === document.querySelector("#rows tr"));
    await page.locator('#rows tr[data-name="media"]').focus();
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => document.querySelector('#crumbs [aria-current="page"]')?.textContent === "media");
    await ready();
    await page.keyboard.press("Backspace");
    await page.waitForFunction(() => document.activeElement?.dataset?.name === "media");
    result.keyboard = true;
    proven("keyboard");

    // ---------------------------------------------------------------- new folder
    await page.click("#btn-mkdir");
    await page.fill("#dialog-input", "reports");
    await dialogOk();
    // a local folder is listed; on an object store the page opens it (kept once it holds a file)
    await page.waitForFunction(() =>
      document.querySelector('#crumbs [aria-current="page"]').textContent === "reports" ||
      document.querySelector('#rows tr[data-name="reports"]'));
    await ready();
    const inside = await page.evaluate(() => document.querySelector('#crumbs [aria-current="page"]').textContent === "reports");
    if (!inside) {
      await row("reports").waitFor();
      await row("reports").locator("a.entry").click();
      await page.waitForFunction(() => document.querySelector('#crumbs [aria-current="page"]')?.textContent === "reports");
      await ready();
    }
    await ready();
    result.emptyShown = await page.isVisible("#empty");
    await page.setInputFiles("#file-input", spec.uploads[1]);
    await uploadsDone(spec.uploads.length + 1);
    await row(names[1]).waitFor();
    await page.click("#crumbs li:first-child a");
    await ready();
    await row("reports").waitFor();
    result.folderCreated = true;
    proven("mkdir");

    // ---------------------------------------------------------------- rename / move
    await row(names[0]).locator('[data-action="rename"]').click();
    await page.fill("#dialog-input", "renamed.bin");
    await dialogOk();
    await row("renamed.bin").waitFor();
    result.renamed = (await row(names[0]).count()) === 0;
    proven("rename");

    // ---------------------------------------------------------------- download
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      row("renamed.bin").locator('[data-action="download"]').click(),
    ]);
    const saved = path.join(out, "downloaded.bin");
    await download.saveAs(saved);
    result.downloadName = download.suggestedFilename();
    result.downloadSame = sha(fs.readFileSync(saved)) === sha(fs.readFileSync(spec.uploads[0]));
    proven("download");

    // ---------------------------------------------------------------- previews
    await row(spec.text).locator('[data-action="preview"]').click();
    await page.waitForFunction(() => document.querySelector("#preview-body pre code")?.textContent.length > 0);
    result.textPreview = await page.locator("#preview-body code").innerText();
    await axe("preview-text");
    await page.click("#preview-close");
    await go(spec.main, "media");
    await row("gradient.png").locator('[data-action="preview"]').click();
    await page.waitForFunction(() => document.querySelector("#preview-body img")?.naturalWidth > 0);
    result.imageWidth = await page.$eval("#preview-body img", (img) => img.naturalWidth);
    await shot("03-preview-image");
    await page.click("#preview-close");
    await row("hello.pdf").locator('[data-action="preview"]').click();
    const frame = page.locator("#preview-body iframe");
    await frame.waitFor();
    result.pdfFrame = await frame.getAttribute("src");
    const pdfHead = await page.evaluate(async (url) => {
      const r = await fetch(url, { headers: { Range: "bytes=0-4" } });
      return { status: r.status, text: await r.text() };
    }, result.pdfFrame);
    result.pdfHead = pdfHead;
    await page.click("#preview-close");
    await row("chime.wav").locator('[data-action="preview"]').click();
    await page.waitForFunction(() => {
      const media = document.querySelector("#preview-body audio");
      return media && media.readyState >= 1 && media.duration > 1;
    });
    result.audioDuration = await page.$eval("#preview-body audio", (a) => a.duration);
    await shot("04-preview-audio");
    await page.click("#preview-close");
    // a video made here (no ffmpeg needed): a canvas recorded by MediaRecorder, uploaded
    result.videoUpload = await page.evaluate(async (mount) => {
      const canvas = Object.assign(document.createElement("canvas"), { width: 160, height: 90 });
      const paint = canvas.getContext("2d");
      const recorder = new MediaRecorder(canvas.captureStream(25), { mimeType: "video/webm" });
      const chunks = [];
      recorder.ondataavailable = (event) => chunks.push(event.data);
      recorder.start(100);
      const start = performance.now();
      await new Promise((resolve) => {
        const frame = () => {
          const t = performance.now() - start;
          paint.fillStyle = `hsl(${Math.round(t / 4) % 360}, 70%, 50%)`;
          paint.fillRect(0, 0, 160, 90);
          if (t < 1200) requestAnimationFrame(frame);
          else resolve();
        };
        frame();
      });
      const stopped = new Promise((resolve) => (recorder.onstop = resolve));
      recorder.stop();
      await stopped;
      const token = document.cookie.split("; ").find((c) => c.startsWith("genro_csrf=")).slice(11);
      const response = await fetch(`/api/upload?mount=${mount}&path=media/clip.webm&overwrite=1`, {
        method: "PUT",
        headers: { "X-CSRF-Token": token },
        body: new Blob(chunks, { type: "video/webm" }),
      });
      return response.status;
    }, spec.main);
    await go(spec.main, "media");
    await row("clip.webm").locator('[data-action="preview"]').click();
    await page.waitForFunction(() => {
      const media = document.querySelector("#preview-body video");
      return media && media.readyState >= 1 && media.videoWidth > 0;
    });
    result.videoWidth = await page.$eval("#preview-body video", (v) => v.videoWidth);
    await page.click("#preview-close");
    proven("preview");

    // ---------------------------------------------------------------- copy a folder, live progress
    await page.click("#btn-copy");
    await page.selectOption("#copy-mount", spec.target);
    await page.fill("#copy-path", `copied-${spec.kind}`);
    await dialogOk();
    await page.waitForSelector('#transfers li[data-job][data-state="done"]', { timeout: 30000 });
    result.copyDetail = await page.locator("#transfers li[data-job] .t-detail").first().innerText();
    await shot("05-copied");
    // the same copy with its event stream cut: the page asks for the job's state instead
    await page.route("**/api/jobs/*/events", (route) => route.abort("connectionreset"));
    await page.click("#btn-copy");
    await page.selectOption("#copy-mount", spec.target);
    await page.fill("#copy-path", `copied-${spec.kind}-polled`);
    await dialogOk();
    await page.waitForFunction(
      () => document.querySelectorAll('#transfers li[data-job][data-state="done"]').length === 2,
      null, { timeout: 30000 });
    result.copyPolledDetail = await page.locator("#transfers li[data-job] .t-detail").first().innerText();
    await page.unroute("**/api/jobs/*/events");
    await go(spec.target);
    await row(`copied-${spec.kind}`).waitFor();
    result.copied = true;
    proven("copy");

    // ---------------------------------------------------------------- share links
    await go(spec.main);
    await row(spec.text).locator('[data-action="share"]').click();
    await page.selectOption("#share-expiry", "3600");
    await axe("share-dialog");
    await page.locator("#dialog-ok").click(); // the same dialog comes back with the links
    await page.waitForSelector("#link-signed");
    result.signed = await page.inputValue("#link-signed");
    result.presigned = (await page.locator("#link-presigned").count()) ? await page.inputValue("#link-presigned") : null;
    await shot("06-share");
    await page.click("#dialog-cancel");
    const stranger = await browser.newContext(); // no cookies: the link alone opens the file
    const fetched = await stranger.request.get(result.signed);
    result.signedStatus = fetched.status();
    result.signedBody = await fetched.text();
    if (result.presigned) {
      const direct = await stranger.request.get(result.presigned);
      result.presignedStatus = direct.status();
      result.presignedBody = await direct.text();
    }
    await stranger.close();
    proven("share");

    // ---------------------------------------------------------------- versions
    if (spec.versions) {
      await page.setInputFiles("#file-input", spec.replacement);
      await page.waitForSelector("#dialog[open]");
      await dialogOk(); // "Replace"
      await uploadsDone(spec.uploads.length + 2);
      await ready();
      await row(spec.text).locator('[data-action="versions"]').click();
      await page.waitForSelector("#dialog table.versions");
      result.versionRows = await page.locator("#dialog tr[data-version]").count();
      await shot("07-versions");
      await axe("versions-dialog");
      const oldest = page.locator("#dialog tr[data-version]").last();
      const [old] = await Promise.all([page.waitForEvent("download"), oldest.locator("[data-get]").click()]);
      const oldPath = path.join(out, "old-version.txt");
      await old.saveAs(oldPath);
      result.oldVersion = fs.readFileSync(oldPath, "utf8");
      await oldest.locator("[data-restore]").click();
      await page.waitForFunction(() => !document.querySelector("#dialog").open);
      await ready();
      result.restored = await page.evaluate(async (name) => (await fetch(`/files/${name}`)).text(), `${spec.main}/${spec.text}`);
      proven("versions");
    }

    // ---------------------------------------------------------------- delete, with confirmation
    await row("renamed.bin").locator('[data-action="delete"]').click();
    await page.waitForSelector("#dialog[open]");
    result.confirmText = await page.locator("#dialog-body").innerText();
    await page.click("#dialog-cancel");
    result.keptAfterCancel = (await row("renamed.bin").count()) === 1;
    await row("renamed.bin").locator('[data-action="delete"]').click();
    await dialogOk();
    await page.waitForFunction(() => !document.querySelector('#rows tr[data-name="renamed.bin"]'));
    result.deleted = true;
    proven("delete");

    // ---------------------------------------------------------------- drag and drop
    await page.evaluate(() => {
      const data = new DataTransfer();
      data.items.add(new File(["dropped by the test\n"], "dropped.txt", { type: "text/plain" }));
      const zone = document.querySelector("#dropzone");
      for (const type of ["dragover", "drop"]) {
        zone.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
      }
    });
    await row("dropped.txt").waitFor();
    result.dropped = await page.evaluate(async (url) => (await fetch(url)).text(), `/files/${spec.main}/dropped.txt`);
    proven("drop");

    // ---------------------------------------------------------------- read-only mount
    await go(spec.readonly);
    await page.waitForSelector("#rows tr");
    result.readonly = {
      uploadVisible: await page.isVisible("#btn-upload"),
      mkdirVisible: await page.isVisible("#btn-mkdir"),
      writeButtons: await page.locator('#rows [data-action="delete"], #rows [data-action="rename"]').count(),
      badge: await page.locator(`#mounts button[data-mount="${spec.readonly}"] .badge.ro`).count(),
      refused: await page.evaluate(async (mount) => {
        const token = document.cookie.split("; ").find((c) => c.startsWith("genro_csrf=")).slice(11);
        const r = await fetch(`/api/mkdir`, {
          method: "POST",
          headers: { "Content-Type": "application/json", "X-CSRF-Token": token },
          body: JSON.stringify({ mount, path: "nope" }),
        });
        return r.status;
      }, spec.readonly),
    };
    await shot("08-readonly");
    await axe("readonly");
    proven("readonly");

    // ---------------------------------------------------------------- the README's picture
    await go(spec.main);
    await page.mouse.move(0, 0);
    await page.evaluate(() => document.querySelector("#status").classList.remove("show"));
    await page.locator('#rows tr[data-name="hello.txt"], #rows tr[data-name="notes.txt"]').first().focus();
    await page.waitForTimeout(300); // the toast's fade-out
    await page.screenshot({ path: path.join(out, "console.png") });
  } catch (error) {
    result.failure = String(error && error.stack ? error.stack : error);
    await page.screenshot({ path: path.join(out, "failure.png") }).catch(() => {});
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});

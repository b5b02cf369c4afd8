// Drive an example project in real headless Chromium (playwright-core, Debian's chromium):
// upload a file through the page, see it listed, download it, delete it.
//
//   node upload_download.cjs <playwright-core dir> <base url> <file to upload> <out dir>
//
// Prints one JSON line: {"listed": bool, "downloaded": path, "deleted": bool, ...}.
"use strict";
const path = require("path");
const fs = require("fs");

async function main() {
  const [pwDir, baseUrl, upload, outDir] = process.argv.slice(2);
  const { chromium } = require(pwDir);
  const name = path.basename(upload);
  const profile = fs.mkdtempSync(path.join(outDir, "profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    acceptDownloads: true,
    args: [
      "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ],
  });
  const result = { name };
  try {
    const page = context.pages()[0] || (await context.newPage());
    page.setDefaultTimeout(15000);
    await page.goto(baseUrl + "/");
    result.title = await page.title();

    await page.setInputFiles('#upload input[name="file"]', upload);
    const item = page.locator(`#files li[data-name="${name}"]`);
    // The page is already at "/", so waitForURL("/") would return before the POST's
    // redirect lands: wait for the new page's entry instead (a missing one times out).
    await page.click('#upload button[type="submit"]');
    await item.waitFor({ state: "attached" }).catch(() => {});
    result.listed = (await item.count()) === 1;
    result.sizeText = result.listed ? await item.locator(".size").innerText() : null;
    await page.screenshot({ path: path.join(outDir, "listed.png"), fullPage: true });

    const [download] = await Promise.all([
      page.waitForEvent("download"),
      item.locator("a.download").click(),
    ]);
    result.suggested = download.suggestedFilename();
    result.downloaded = path.join(outDir, "downloaded.bin");
    await download.saveAs(result.downloaded);

    await item.locator("form.delete button").click();
    await item.waitFor({ state: "detached" }).catch(() => {});
    await page.waitForLoadState("load");
    result.deleted = (await item.count()) === 0 && page.url() === baseUrl + "/";
  } finally {
    await context.close();
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});

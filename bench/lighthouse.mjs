// Lighthouse over a list of pages in one Chromium: the runner behind bench/lighthouse.py.
//
//   node bench/lighthouse.mjs < pages.json
//
// stdin: {"pages": [{"name": ..., "url": ..., "cookie": "session=..." | null}],
//         "formFactors": ["mobile", "desktop"]}
// stdout: one JSON object per page and form factor: its four category scores (0-100) and
// the audits that cost points (score below 1 in a category that weighs them). A page
// answered with an error status (a 403 from a lost session) is a runtime error.
// Chromium is CHROME_PATH (default /usr/bin/chromium), started once with
// --headless=new --no-sandbox; Lighthouse resets storage between runs, so every page is
// a first visit. A signed-in page gets its session cookie as an extra request header,
// as `lighthouse --extra-headers` would send it.

import fs from "node:fs";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";
import desktopConfig from "lighthouse/core/config/desktop-config.js";

const CATEGORIES = ["performance", "accessibility", "best-practices", "seo"];
const input = JSON.parse(fs.readFileSync(0, "utf8"));
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
process.on("SIGTERM", () => { chrome.kill().finally(() => process.exit(143)); });

function losses(lhr) {
  const found = [];
  for (const id of CATEGORIES) {
    for (const ref of lhr.categories[id].auditRefs) {
      const audit = lhr.audits[ref.id];
      if (ref.weight > 0 && audit.score !== null && audit.score < 1) {
        found.push({ category: id, id: ref.id, score: audit.score,
                     value: audit.displayValue || "" });
      }
    }
  }
  return found;
}

try {
  for (const formFactor of input.formFactors) {
    for (const page of input.pages) {
      // Lighthouse keeps cookies between runs (for signed-in audits); clearing them
      // stops one role's session cookie, set by a response, following the next page.
      const flags = { port: chrome.port, output: "json", logLevel: "error",
                      onlyCategories: CATEGORIES,
                      clearStorageTypes: ["cookies", "file_systems", "shader_cache",
                                          "service_workers", "cache_storage"] };
      if (page.cookie) { flags.extraHeaders = { Cookie: page.cookie }; }
      const config = formFactor === "desktop" ? desktopConfig : undefined;
      const result = await lighthouse(page.url, flags, config);
      const lhr = result.lhr;
      const scores = Object.fromEntries(CATEGORIES.map(
        (id) => [id, lhr.categories[id].score === null ? null
          : Math.round(lhr.categories[id].score * 100)]));
      process.stdout.write(JSON.stringify({
        name: page.name, url: page.url, formFactor, scores,
        finalUrl: lhr.finalDisplayedUrl, losses: losses(lhr),
        benchmarkIndex: Math.round(lhr.environment.benchmarkIndex),
        runtimeError: lhr.runtimeError ? lhr.runtimeError.message : null,
      }) + "\n");
    }
  }
} finally {
  await chrome.kill();
}

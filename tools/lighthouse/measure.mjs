// Lighthouse's mobile performance audit of each address given, in one
// Chromium (Debian's, $CHROME_PATH); one JSON line per page on stdout.
// tests/phone.py serves the site, runs this and judges the numbers.
import lighthouse from "lighthouse";
import * as chromeLauncher from "chrome-launcher";

const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu"],
});
try {
  for (const url of process.argv.slice(2)) {
    const { lhr } = await lighthouse(url, {
      port: chrome.port, onlyCategories: ["performance"], logLevel: "error", output: "json",
    });
    const audit = (id) => lhr.audits[id].numericValue;
    console.log(JSON.stringify({
      url,
      error: lhr.runtimeError ? lhr.runtimeError.message : null,
      score: lhr.categories.performance.score,
      tbt: audit("total-blocking-time"),
      lcp: audit("largest-contentful-paint"),
      bytes: audit("total-byte-weight"),
      benchmark: lhr.environment.benchmarkIndex,
      requests: lhr.audits["network-requests"].details.items.map((item) => item.url),
    }));
  }
} finally {
  await chrome.kill();
}

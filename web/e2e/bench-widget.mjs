// Time from the snippet starting to load to an interactive widget, in
// Chromium on localhost: `node e2e/bench-widget.mjs [runs]` (after make build).
// "Interactive" is the widget's ready message to the loader: the widget page
// has loaded, fetched its settings and drawn the composer. Cold runs use a
// fresh browser context (empty cache); warm runs reload the same page.
import { chromium } from "playwright-core";
import { CHROMIUM_ARGS, findChromium, startHost, startParley } from "./harness.mjs";

const runs = Number(process.argv[2] ?? 20);
const exe = findChromium();
if (!exe) {
  console.log("SKIP: no Chromium found");
  process.exit(0);
}
const parley = await startParley();
const host = await startHost(parley.url);
const browser = await chromium.launch({ executablePath: exe, headless: true, args: CHROMIUM_ARGS });

async function measure(page, load) {
  await load();
  await page.waitForFunction(() => window.ParleyWidget && window.ParleyWidget.readyAt > 0, null, { timeout: 30_000 });
  return page.evaluate(() => {
    const e = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/widget.js"));
    return window.ParleyWidget.readyAt - (e ? e.startTime : 0);
  });
}

const cold = [];
const warm = [];
try {
  for (let i = 0; i < runs; i++) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    cold.push(await measure(page, () => page.goto(host.url + "/")));
    warm.push(await measure(page, () => page.reload()));
    await ctx.close();
  }
} finally {
  await browser.close();
  await host.stop();
  await parley.stop();
}
const q = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]);
};
console.log(`snippet load to interactive widget over ${runs} runs: cold median ${q(cold, 0.5)} ms, p90 ${q(cold, 0.9)} ms; warm median ${q(warm, 0.5)} ms, p90 ${q(warm, 0.9)} ms`);
console.log(JSON.stringify({ runs, coldMedianMs: q(cold, 0.5), coldP90Ms: q(cold, 0.9), warmMedianMs: q(warm, 0.5), warmP90Ms: q(warm, 0.9) }));

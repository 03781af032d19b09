// Builds the three bundles into dist/ and prints their gzipped sizes:
//   widget.js      the loader sites paste (plain TS, one IIFE file, short cache)
//   widget.html    the widget app, on Preact's React compatibility layer
//   admin.html     the agents' dashboard, on React
// Hashed files go to dist/assets/ (served immutable). The build fails when
// the loader or the widget outgrow their budgets.
import { build } from "vite";
import tailwindcss from "@tailwindcss/vite";
import { gzipSync } from "node:zlib";
import { readFileSync, rmSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const BUDGET = { loader: 3 * 1024, widget: 60 * 1024 };

const common = {
  root,
  configFile: false,
  logLevel: "warn",
  resolve: { alias: [{ find: /^@\//, replacement: join(root, "src") + "/" }] },
  build: { outDir: dist, emptyOutDir: false, target: "es2020", sourcemap: false, reportCompressedSize: false },
};

const preact = [
  { find: /^react-dom\/client$/, replacement: "preact/compat/client" },
  { find: /^react\/jsx-runtime$/, replacement: "preact/jsx-runtime" },
  { find: /^react\/jsx-dev-runtime$/, replacement: "preact/jsx-dev-runtime" },
  { find: /^react-dom$/, replacement: "preact/compat" },
  { find: /^react$/, replacement: "preact/compat" },
];

rmSync(dist, { recursive: true, force: true });

async function app(name, html, aliases) {
  await build({
    ...common,
    plugins: [tailwindcss()],
    resolve: { alias: [...aliases, ...common.resolve.alias] },
    build: {
      ...common.build,
      manifest: `manifest-${name}.json`,
      rollupOptions: {
        input: join(root, html),
        // Radix marks its modules "use client" for server rendering (meaningless
        // here), and a loaded machine makes plugin timings noisy.
        onwarn(w, warn) {
          if (w.code !== "MODULE_LEVEL_DIRECTIVE" && w.code !== "PLUGIN_TIMINGS") warn(w);
        },
      },
    },
  });
  const manifest = JSON.parse(readFileSync(join(dist, `manifest-${name}.json`), "utf8"));
  rmSync(join(dist, `manifest-${name}.json`));
  // The entry's JavaScript and everything it imports statically: what a
  // browser downloads before the page works.
  const js = new Set();
  const css = new Set();
  const walk = (key) => {
    const c = manifest[key];
    if (!c || js.has(c.file)) return;
    js.add(c.file);
    for (const f of c.css ?? []) css.add(f);
    for (const i of c.imports ?? []) walk(i);
  };
  walk(html);
  return { js: [...js], css: [...css] };
}

const adminEntry = await app("admin", "admin.html", []);
const widget = await app("widget", "widget.html", preact);
await build({
  ...common,
  build: {
    ...common.build,
    lib: { entry: join(root, "src/loader/loader.ts"), formats: ["iife"], name: "ParleyLoader", fileName: () => "widget.js" },
    minify: true,
  },
});

const gz = (files) => files.reduce((n, f) => n + gzipSync(readFileSync(join(dist, f)), { level: 9 }).length, 0);
const raw = (files) => files.reduce((n, f) => n + readFileSync(join(dist, f)).length, 0);
const admin = await (async () => {
  // The dashboard's size: all of its JavaScript, including lazy chunks.
  const { readdirSync } = await import("node:fs");
  const all = readdirSync(join(dist, "assets")).map((f) => "assets/" + f);
  const widgetFiles = new Set([...widget.js, ...widget.css]);
  return {
    js: all.filter((f) => f.endsWith(".js") && !widgetFiles.has(f)),
    css: all.filter((f) => f.endsWith(".css") && !widgetFiles.has(f)),
  };
})();
const kb = (n) => (n / 1024).toFixed(1) + " KB";
const lazy = admin.js.filter((f) => !adminEntry.js.includes(f));
const rows = [
  ["loader  widget.js", ["widget.js"], []],
  ["widget  /widget", widget.js, widget.css],
  ["dashboard /admin", admin.js, admin.css],
  ["  first load", adminEntry.js, adminEntry.css],
  ["  loaded on demand", lazy, []],
];
console.log("\nbundle              JS gzipped   (raw)        CSS gzipped");
for (const [name, js, css] of rows) {
  console.log(`${name.padEnd(20)}${kb(gz(js)).padEnd(13)}(${kb(raw(js))})`.padEnd(46) + kb(gz(css)));
}
const loaderGz = gz(["widget.js"]);
const widgetGz = gz(widget.js);
let over = false;
if (loaderGz > BUDGET.loader) (over = true), console.error(`widget.js is ${kb(loaderGz)} gzipped, over its ${kb(BUDGET.loader)} budget`);
if (widgetGz > BUDGET.widget) (over = true), console.error(`the widget's JavaScript is ${kb(widgetGz)} gzipped, over its ${kb(BUDGET.widget)} budget`);
if (!existsSync(join(dist, "admin.html")) || !existsSync(join(dist, "widget.html"))) (over = true), console.error("an entry page is missing from dist/");
if (over) process.exit(1);

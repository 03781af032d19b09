// What the end-to-end tests run against: the real bin/parley on a loopback
// port with a fresh data directory, a host page with the snippet on another
// origin, and Debian's Chromium driven by playwright-core (never a browser
// that Playwright downloads).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, mkdirSync } from "node:fs";
import { createServer } from "node:http";
import { createServer as netServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = fileURLToPath(new URL("../..", import.meta.url));
export const artifacts = join(repo, "test-artifacts");

export function findChromium() {
  const candidates = [process.env.PARLEY_CHROMIUM, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  return candidates.find((p) => p && existsSync(p)) ?? null;
}

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"];

function freePort() {
  return new Promise((resolve, reject) => {
    const s = netServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export const ADMIN = { email: "admin@example.com", password: "e2e-password-1234" };

/** Starts bin/parley with extra environment variables; resolves once /readyz answers. */
export async function startParley(extraEnv = {}) {
  // PARLEY_E2E_BIN runs the tests against another build of the server.
  const bin = process.env.PARLEY_E2E_BIN || join(repo, "bin", "parley");
  if (!existsSync(bin)) throw new Error("bin/parley is missing: run make build first");
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), "parley-e2e-"));
  const proc = spawn(bin, ["serve"], {
    env: {
      ...process.env,
      PARLEY_ADDR: `127.0.0.1:${port}`,
      PARLEY_DATA_DIR: dataDir,
      PARLEY_DATABASE_URL: "",
      PARLEY_ADMIN_EMAIL: ADMIN.email,
      PARLEY_ADMIN_PASSWORD: ADMIN.password,
      PARLEY_LOG_LEVEL: "warn",
      ...extraEnv,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let log = "";
  let stopping = false;
  proc.stdout.on("data", (d) => (log += d));
  proc.stderr.on("data", (d) => (log += d));
  // A server that dies under a test would only show as timeouts: say so, with its last words.
  proc.once("exit", (code, signal) => {
    if (!stopping) console.log(`\nparley exited during the tests (code ${code}, signal ${signal}); its log ends with:\n${log.slice(-6000)}\n`);
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error("parley exited:\n" + log);
    try {
      const r = await fetch(url + "/readyz");
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error("parley did not get ready:\n" + log);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    log: () => log,
    async stop() {
      stopping = true;
      proc.kill("SIGTERM");
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.once("exit", r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A shop's page on its own origin, with the snippet pasted. */
export async function startHost(parleyURL) {
  const port = await freePort();
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Test shop</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><h1>Test shop</h1><p>Products and prices.</p>
<script async src="${parleyURL}/widget.js"></script>
</body></html>`;
  const srv = createServer((req, res) => {
    if (req.url === "/" || req.url?.startsWith("/shop")) {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(page);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => srv.listen(port, "127.0.0.1", r));
  // url: another origin on the same site as Parley (another port), the way
  // a shop embeds chat.shop.example. crossSiteURL: another site altogether,
  // where browsers may refuse the frame any storage.
  return { url: `http://127.0.0.1:${port}`, crossSiteURL: `http://localhost:${port}`, stop: () => new Promise((r) => srv.close(r)) };
}

export function ensureArtifacts() {
  mkdirSync(artifacts, { recursive: true });
  return artifacts;
}

/** Signs in over REST: what a script needs to set things up as that user. */
export async function apiLogin(base, email, password) {
  const r = await fetch(base + "/api/auth/login", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ email, password }) });
  if (!r.ok) throw new Error(`login ${email}: ${r.status} ${await r.text()}`);
  const { csrfToken } = await r.json();
  const cookie = (r.headers.getSetCookie?.() ?? [r.headers.get("set-cookie")]).map((c) => c.split(";")[0]).join("; ");
  return {
    async call(method, path, body, want) {
      const res = await fetch(base + path, {
        method,
        headers: { Cookie: cookie, "X-CSRF-Token": csrfToken, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (want !== undefined && res.status !== want) throw new Error(`${method} ${path}: ${res.status} ${text}, want ${want}`);
      return text ? JSON.parse(text) : null;
    },
  };
}

/** Signs a user in through the dashboard's form. */
export async function signIn(page, base, email, password) {
  await page.goto(base + "/admin/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("tab", { name: /Waiting/ }).waitFor({ timeout: 15_000 });
}

/** A real PNG of w×h pixels in one colour, made here (zlib, no image library). */
export async function png(w, h, rgb = [37, 99, 235]) {
  const { deflateSync, crc32 } = await import("node:zlib");
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3).map((_, i) => rgb[i % 3])]);
  const raw = Buffer.concat(Array.from({ length: h }, () => row));
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}

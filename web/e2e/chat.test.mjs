// End to end, in Chromium, against the real binary: a visitor on a shop's
// page (another origin) chats with an agent in the dashboard.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN, CHROMIUM_ARGS, ensureArtifacts, findChromium, startHost, startParley } from "./harness.mjs";

const chromiumPath = findChromium();
if (!chromiumPath) {
  console.log("\n**********************************************************************");
  console.log("SKIP: the browser end-to-end tests: no Chromium found (apt-get install chromium, or set PARLEY_CHROMIUM)");
  console.log("**********************************************************************\n");
}

const T = 15_000; // the longest any single wait may take

describe("widget and dashboard", { skip: !chromiumPath, timeout: 240_000 }, () => {
  let parley, host, browser, agentCtx, visitorCtx, agent, visitor, art;
  const agentSockets = [];
  let conversationId = "";

  const widget = () => visitor.frameLocator("#parley-widget iframe");
  const launcher = () => visitor.locator("#parley-widget > button");

  before(async () => {
    const { chromium } = await import("playwright-core");
    art = ensureArtifacts();
    // These tests take waiting chats by hand (claim); round-robin assignment
    // would hand them to whichever agent goes online first.
    parley = await startParley({ PARLEY_AUTO_ASSIGN: "off" });
    host = await startHost(parley.url);
    // Playwright gives the browser a fresh temporary profile (user-data dir).
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
    agentCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    visitorCtx = await browser.newContext({ viewport: { width: 1024, height: 760 }, locale: "en-US" });
    agent = await agentCtx.newPage();
    visitor = await visitorCtx.newPage();
    for (const p of [agent, visitor]) {
      p.on("dialog", (d) => {
        throw new Error("a dialog opened: " + d.message());
      });
      p.on("pageerror", (e) => console.log("page error:", e.message));
    }
    // Every dashboard socket goes through here, so a test can cut it.
    await agent.routeWebSocket(/\/ws$/, (ws) => {
      ws.connectToServer();
      agentSockets.push(ws);
    });
  });

  after(async () => {
    await browser?.close();
    await host?.stop();
    await parley?.stop();
  });

  test("the agent signs in", async () => {
    await agent.goto(parley.url + "/admin");
    await agent.waitForURL(/\/admin\/login/);
    await agent.getByLabel("Email").fill(ADMIN.email);
    await agent.getByLabel("Password").fill(ADMIN.password);
    await agent.getByRole("button", { name: "Sign in" }).click();
    await agent.getByRole("tab", { name: /Waiting/ }).waitFor({ timeout: T });
    await agent.getByText("Nobody is waiting").waitFor({ timeout: T });
  });

  test("the snippet loads the widget without blocking the page, and it becomes interactive", async () => {
    await visitor.goto(host.url + "/");
    await launcher().waitFor({ timeout: T });
    await visitor.waitForFunction(() => window.ParleyWidget && window.ParleyWidget.readyAt > 0, null, { timeout: T });
    const t = await visitor.evaluate(() => {
      const e = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/widget.js"));
      return { fetchStart: e ? e.startTime : 0, ready: window.ParleyWidget.readyAt, load: performance.getEntriesByType("navigation")[0].loadEventEnd };
    });
    const ms = Math.round(t.ready - t.fetchStart);
    console.log(`snippet load to interactive widget: ${ms} ms (page load event at ${Math.round(t.load)} ms)`);
    writeFileSync(join(art, "widget-timing.json"), JSON.stringify({ snippetToInteractiveMs: ms, ...t }, null, 1) + "\n");
    assert.equal(await launcher().getAttribute("aria-label"), "Open chat");
  });

  test("the visitor writes; the agent sees it live, both see typing, and they talk", async () => {
    await launcher().click();
    const composer = widget().getByLabel("Write a message");
    await composer.waitFor({ timeout: T });
    await composer.fill("Hello, I need help with my order");
    await composer.press("Enter");
    await widget().locator("[role=log]").getByText("Hello, I need help with my order").waitFor({ timeout: T });

    // The inbox learns of it over the socket, without a reload.
    const item = agent.locator("[data-testid=list-waiting] a").first();
    await item.getByText("Hello, I need help with my order").waitFor({ timeout: T });
    conversationId = await item.getAttribute("data-conversation");
    await item.click();
    await agent.locator("[data-testid=timeline]").getByText("Hello, I need help with my order").waitFor({ timeout: T });

    // Typing, visitor to agent: shown, and gone when they stop.
    await composer.pressSequentially("Also", { delay: 30 });
    await agent.getByTestId("typing").waitFor({ timeout: T });
    await composer.fill("");
    await agent.getByTestId("typing").waitFor({ state: "detached", timeout: T });

    // Agent to visitor.
    const reply = agent.getByLabel("Write a reply");
    await reply.pressSequentially("Hi", { delay: 30 });
    await widget().getByText(/is typing/).waitFor({ timeout: T });
    await reply.fill("Hi! I'm looking at your order now.");
    await reply.press("Enter");
    await widget().getByText("Hi! I'm looking at your order now.").waitFor({ timeout: T });
    await widget().getByText(/is typing/).waitFor({ state: "detached", timeout: T });

    // Shift+Enter breaks the line; Enter sends.
    await composer.fill("");
    await composer.type("line one");
    await composer.press("Shift+Enter");
    await composer.type("line two");
    await composer.press("Enter");
    await agent.locator("[data-testid=timeline] li", { hasText: "line one" }).filter({ hasText: "line two" }).waitFor({ timeout: T });

    await visitor.screenshot({ path: join(art, "widget.png") });
    await agent.screenshot({ path: join(art, "dashboard.png") });
  });

  test("no token reaches the host page", async () => {
    const leaked = await visitor.evaluate(() => {
      const s = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie + document.documentElement.outerHTML;
      return s.includes("pv_");
    });
    assert.equal(leaked, false);
    const src = await visitor.locator("#parley-widget iframe").getAttribute("src");
    assert.ok(!src.includes("pv_") && !/token/i.test(src), src);
  });

  test("a reply while the widget is closed shows an unread count", async () => {
    await widget().getByRole("button", { name: "Close chat" }).click();
    await visitor.locator("#parley-widget iframe").waitFor({ state: "hidden", timeout: T });
    await agent.getByLabel("Write a reply").fill("Your parcel left this morning.");
    await agent.getByLabel("Write a reply").press("Enter");
    await visitor.waitForFunction(() => document.querySelector("#parley-widget > button")?.getAttribute("aria-label") === "Open chat (1)", null, { timeout: T });
    await launcher().click();
    await visitor.waitForFunction(() => document.querySelector("#parley-widget > button")?.getAttribute("aria-label") === "Close chat", null, { timeout: T });
  });

  test("a reload keeps the visitor and the conversation", async () => {
    await visitor.reload();
    await launcher().waitFor({ timeout: T });
    // It was open before the reload, so it opens again.
    await widget().getByText("Your parcel left this morning.").waitFor({ timeout: T });
    await widget().getByText("Hello, I need help with my order").waitFor({ timeout: T });
  });

  test("the agent's socket is cut: a banner, then it resumes with nothing lost or repeated", async () => {
    const before = agentSockets.length;
    assert.ok(before > 0, "the dashboard opened a socket");
    await agentSockets[before - 1].close({ code: 4000, reason: "cut by the test" });
    await agent.getByTestId("connection-banner").getByText(/Connection lost|Reconnected/).waitFor({ timeout: T });
    // Sent while the agent is away: it arrives by the resume.
    const composer = widget().getByLabel("Write a message");
    await composer.fill("Are you still there?");
    await composer.press("Enter");
    await agent.getByTestId("connection-banner").getByText("Reconnected.").waitFor({ timeout: T });
    await agent.locator("[data-testid=timeline]").getByText("Are you still there?").waitFor({ timeout: T });
    assert.ok(agentSockets.length > before, "a new socket was opened");
    // Every message once, in seq order.
    const seqs = await agent.locator("[data-testid=timeline] li[data-seq]").evaluateAll((els) => els.map((e) => Number(e.dataset.seq)));
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.equal(new Set(seqs).size, seqs.length);
    assert.equal(await agent.locator("[data-testid=timeline]").getByText("Are you still there?").count(), 1);
  });

  test("typed while offline: shown as pending, delivered once when back", async () => {
    await visitorCtx.setOffline(true);
    await widget().getByText(/You're offline/).waitFor({ timeout: T });
    const composer = widget().getByLabel("Write a message");
    await composer.fill("Sent from a tunnel");
    await composer.press("Enter");
    await widget().locator("[data-pending=true]", { hasText: "Sent from a tunnel" }).getByText("Sending…").waitFor({ timeout: T });
    await composer.fill("And a second one");
    await composer.press("Enter");
    await new Promise((r) => setTimeout(r, 1500));
    await visitorCtx.setOffline(false);
    await agent.locator("[data-testid=timeline]").getByText("And a second one").waitFor({ timeout: 30_000 });
    await widget().locator("[role=log]").getByText("And a second one").waitFor({ timeout: T });
    assert.equal(await widget().locator("[data-pending]").count(), 0);
    const r = await agentCtx.request.get(`${parley.url}/api/conversations/${conversationId}/messages?limit=500`);
    assert.equal(r.status(), 200);
    const { messages } = await r.json();
    const texts = messages.map((m) => m.content);
    assert.equal(texts.filter((t) => t === "Sent from a tunnel").length, 1, "stored once");
    assert.equal(texts.filter((t) => t === "And a second one").length, 1, "stored once");
    assert.ok(texts.indexOf("Sent from a tunnel") < texts.indexOf("And a second one"), "in the order typed");
    assert.equal(await agent.locator("[data-testid=timeline]").getByText("Sent from a tunnel").count(), 1);
  });

  test("HTML in a message is shown as text and runs nothing; links are safe", async () => {
    const evil = `<img src=x onerror="window.__pwned=1"> see https://example.com/help and javascript:alert(1)`;
    const composer = widget().getByLabel("Write a message");
    await composer.fill(evil);
    await composer.press("Enter");
    const agentRow = agent.locator("[data-testid=timeline] li", { hasText: '<img src=x onerror="window.__pwned=1">' });
    await agentRow.waitFor({ timeout: T });
    await agent.getByLabel("Write a reply").fill(`<script>window.__pwned=2</script><b>bold</b>`);
    await agent.getByLabel("Write a reply").press("Enter");
    await widget().getByText("<script>window.__pwned=2</script><b>bold</b>").waitFor({ timeout: T });
    await widget().locator("[role=log]").getByText(evil.slice(0, 20)).waitFor({ timeout: T });

    assert.equal(await agent.locator("[data-testid=timeline] img").count(), 0);
    assert.equal(await widget().locator("[role=log] img, [role=log] b, [role=log] script").count(), 0);
    const frame = visitor.frames().find((f) => f.url().includes("/widget"));
    for (const ctx of [agent, visitor, frame]) assert.equal(await ctx.evaluate(() => window.__pwned), undefined);
    const link = agentRow.getByRole("link");
    assert.equal(await link.count(), 1, "only the http(s) address is a link");
    assert.equal(await link.getAttribute("href"), "https://example.com/help");
    assert.equal(await link.getAttribute("rel"), "noopener noreferrer nofollow");
  });

  test("the widget works at 320 px wide", async () => {
    const small = await visitorCtx.newPage();
    await small.setViewportSize({ width: 320, height: 640 });
    await small.goto(host.url + "/");
    await small.locator("#parley-widget > button").click();
    const f = small.frameLocator("#parley-widget iframe");
    await f.getByText("Your parcel left this morning.").waitFor({ timeout: T });
    const box = await small.locator("#parley-widget iframe").boundingBox();
    assert.ok(box && box.width <= 320, "fits the screen: " + JSON.stringify(box));
    const overflow = await f.locator("body").evaluate((b) => b.scrollWidth > b.clientWidth);
    assert.equal(overflow, false, "no sideways scrolling");
    await small.screenshot({ path: join(art, "widget-320.png") });
    await small.close();
  });

  test("closing the conversation tells the visitor, who can start a new one", async () => {
    await agent.getByRole("button", { name: "Close", exact: true }).click();
    await widget().getByText("This chat has ended.").waitFor({ timeout: T });
    assert.equal(await widget().getByLabel("Write a message").isDisabled(), true);
    await widget().getByRole("button", { name: "Start a new chat" }).click();
    await widget().getByLabel("Write a message").fill("One more question");
    await widget().getByLabel("Write a message").press("Enter");
    await agent.getByRole("tab", { name: /Waiting/ }).click();
    await agent.locator("[data-testid=list-waiting] a", { hasText: "One more question" }).click();
    // The customer panel lists the visitor's earlier conversation (GET /api/conversations?customer=).
    const earlier = agent.getByRole("heading", { name: "Earlier conversations" }).locator("xpath=following-sibling::ul[1]");
    await earlier.getByRole("link").first().waitFor({ timeout: T });
    assert.equal(await earlier.getByRole("link").count(), 1);
    assert.match(await earlier.getByRole("link").getAttribute("href"), new RegExp(`/admin/chat/${conversationId}$`));
    await agent.emulateMedia({ colorScheme: "dark" });
    await agent.getByRole("button", { name: /dark theme/ }).click();
    await agent.waitForTimeout(400); // let the colour transitions finish
    await agent.screenshot({ path: join(art, "dashboard-dark.png") });
  });

  test("on another site, in French, where the frame gets no storage: the chat works and survives a reload", async () => {
    const ctx = await browser.newContext({ locale: "fr-FR" });
    const p = await ctx.newPage();
    // What Parley's server is sent: the widget's cookie must never reach the API or the socket.
    const apiCookies = [];
    p.on("request", async (r) => {
      if (/\/(api|ws)(\/|$)/.test(new URL(r.url()).pathname)) apiCookies.push((await r.allHeaders()).cookie ?? "");
    });
    await p.goto(host.crossSiteURL + "/");
    await p.getByRole("button", { name: "Ouvrir le chat" }).click();
    const f = p.frameLocator("#parley-widget iframe");
    await f.getByLabel("Écrire un message").fill("Bonjour, une question");
    await f.getByLabel("Écrire un message").press("Enter");
    await f.locator("[role=log]").getByText("Bonjour, une question").waitFor({ timeout: T });
    const item = agent.locator("[data-testid=list-waiting] a", { hasText: "Bonjour, une question" });
    await item.waitFor({ timeout: T });
    const conv = await item.getAttribute("data-conversation");
    await p.screenshot({ path: join(art, "widget-fr.png") });

    // This Chromium refuses the frame localStorage on another site...
    const frame = () => p.frames().find((x) => x.url().includes("/widget"));
    const storage = await frame().evaluate(() => {
      try {
        return typeof window.localStorage.getItem("x");
      } catch (e) {
        return "refused";
      }
    });
    assert.equal(storage, "refused", "the test needs a frame without localStorage");
    // ...so the identity is in a partitioned cookie of the frame's own.
    const cookies = await ctx.cookies(parley.url + "/widget");
    const c = cookies.find((x) => x.name === "parley_widget");
    assert.ok(c, "the widget keeps a cookie: " + JSON.stringify(cookies));
    assert.equal(c.path, "/widget");
    assert.equal(c.secure, true);
    assert.equal(c.sameSite, "None");

    // A reload: the same visitor, the same conversation, its messages.
    await p.reload();
    await p.getByRole("button", { name: /Fermer le chat|Ouvrir le chat/ }).waitFor({ timeout: T });
    if ((await p.locator("#parley-widget > button").getAttribute("aria-expanded")) !== "true") await p.locator("#parley-widget > button").click();
    await f.locator("[role=log]").getByText("Bonjour, une question").waitFor({ timeout: T });
    await f.getByLabel("Écrire un message").fill("Toujours moi");
    await f.getByLabel("Écrire un message").press("Enter");
    await agent.locator(`[data-testid=list-waiting] a[data-conversation="${conv}"]`, { hasText: "Toujours moi" }).waitFor({ timeout: T });
    assert.equal(await agent.locator("[data-testid=list-waiting] a", { hasText: "Toujours moi" }).count(), 1, "no second conversation");

    // The host page sees no cookie of Parley's, and Parley's API never got it.
    assert.equal(await p.evaluate(() => document.cookie.includes("parley")), false);
    assert.ok(apiCookies.length > 0);
    for (const h of apiCookies) assert.ok(!h.includes("parley_widget") && !h.includes("pv_"), "a request to the API carried " + h);
    await ctx.close();
  });

  test("the widget is usable by keyboard alone", async () => {
    const ctx = await browser.newContext();
    const p = await ctx.newPage();
    await p.goto(host.url + "/");
    await p.waitForFunction(() => window.ParleyWidget && window.ParleyWidget.readyAt > 0, null, { timeout: T });
    await p.keyboard.press("Tab");
    assert.equal(await p.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Open chat");
    await p.keyboard.press("Enter");
    const f = p.frameLocator("#parley-widget iframe");
    await f.getByLabel("Write a message").waitFor({ timeout: T });
    await p.waitForFunction(() => document.activeElement?.tagName === "IFRAME", null, { timeout: T });
    await f.locator("#pc-composer:focus").waitFor({ timeout: T });
    await p.keyboard.type("Typed without a mouse");
    await p.keyboard.press("Enter");
    await f.locator("[role=log]").getByText("Typed without a mouse").waitFor({ timeout: T });
    await p.keyboard.press("Escape");
    await p.locator("#parley-widget iframe").waitFor({ state: "hidden", timeout: T });
    assert.equal(await p.evaluate(() => document.activeElement?.getAttribute("aria-label")), "Open chat");
    await ctx.close();
  });

  test("an admin adds an agent, who claims a chat; disabling them signs them out", async () => {
    await agent.getByRole("link", { name: "Users" }).click();
    await agent.getByRole("button", { name: "Add a user" }).click();
    const dialog = agent.getByRole("dialog");
    await dialog.getByLabel("Name").fill("Ada Agent");
    await dialog.getByLabel("Email").fill("ada@example.com");
    await dialog.getByLabel(/Password/).fill("ada-password-123");
    await dialog.getByRole("button", { name: "Add user" }).click();
    await agent.getByRole("cell", { name: "ada@example.com" }).waitFor({ timeout: T });

    // The admin goes online; the agent list shows it.
    await agent.getByRole("button", { name: /change availability/ }).click();
    await agent.getByRole("menuitem", { name: "Online" }).click();
    await agent.getByRole("button", { name: /Administrator, Online/ }).waitFor({ timeout: T });

    const ctx = await browser.newContext();
    const ada = await ctx.newPage();
    await ada.goto(parley.url + "/admin/login");
    await ada.getByLabel("Email").fill("ada@example.com");
    await ada.getByLabel("Password").fill("ada-password-123");
    await ada.getByRole("button", { name: "Sign in" }).click();
    await ada.getByRole("tab", { name: /Waiting/ }).waitFor({ timeout: T });
    assert.equal(await ada.getByRole("tab", { name: /^All/ }).count(), 0, "an agent has no All view");
    assert.equal(await ada.getByRole("link", { name: "Users" }).count(), 0);
    const item = ada.locator("[data-testid=list-waiting] a", { hasText: "Toujours moi" });
    await item.click();
    await ada.getByRole("button", { name: "Claim" }).click();
    await ada.getByText("Assigned to you").waitFor({ timeout: T });
    await ada.getByRole("tab", { name: /Mine/ }).click();
    await ada.locator("[data-testid=list-mine] a", { hasText: "Toujours moi" }).waitFor({ timeout: T });

    await agent.getByRole("switch", { name: "Ada Agent can sign in" }).click();
    await ada.waitForURL(/\/admin\/login/, { timeout: T });
    await ctx.close();
  });

  test("the settings page shows the snippet to paste", async () => {
    await agent.getByRole("link", { name: "Settings" }).click();
    const snippet = await agent.getByTestId("snippet").textContent({ timeout: T });
    assert.match(snippet, /<script src="http:\/\/127\.0\.0\.1:\d+\/widget\.js" async><\/script>/);
    await agent.getByRole("link", { name: "Users" }).click();
    await agent.getByRole("cell", { name: "ada@example.com" }).waitFor({ timeout: T });
    await agent.screenshot({ path: join(art, "dashboard-users.png") });
    await agent.getByRole("link", { name: "Settings" }).click();
    await agent.getByTestId("snippet").waitFor({ timeout: T });
    await agent.screenshot({ path: join(art, "dashboard-settings.png"), fullPage: true });
  });
});

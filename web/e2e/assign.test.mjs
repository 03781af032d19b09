// With automatic assignment on (the server's default), a new chat lands in
// the Mine view of the agent who is online, without anyone claiming it; and
// with nobody online, the widget says so (with the business hours from the
// settings), takes an email address, and the inbox shows who left one.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ADMIN, CHROMIUM_ARGS, apiLogin, findChromium, signIn, startHost, startParley } from "./harness.mjs";

const chromiumPath = findChromium();
const T = 15_000;

describe("automatic assignment", { skip: !chromiumPath && "no Chromium", timeout: 120_000 }, () => {
  let parley, host, browser, admin, otto, olga;

  before(async () => {
    const { chromium } = await import("playwright-core");
    parley = await startParley({ PARLEY_AUTO_ASSIGN: "on" });
    host = await startHost(parley.url);
    admin = await apiLogin(parley.url, ADMIN.email, ADMIN.password);
    await admin.call("POST", "/api/users", { email: "otto@example.com", name: "Otto Online", password: "otto-password-123", role: "agent", maxChats: 3 }, 201);
    await admin.call("POST", "/api/users", { email: "olga@example.com", name: "Olga Offline", password: "olga-password-123", role: "agent" }, 201);
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
  });

  after(async () => {
    await browser?.close();
    await host?.stop();
    await parley?.stop();
  });

  test("a new chat goes to the online agent's Mine view; the offline one gets nothing", async () => {
    otto = await (await browser.newContext()).newPage();
    olga = await (await browser.newContext()).newPage();
    await signIn(otto, parley.url, "otto@example.com", "otto-password-123");
    await signIn(olga, parley.url, "olga@example.com", "olga-password-123");
    await otto.getByRole("button", { name: /change availability/ }).click();
    await otto.getByRole("menuitem", { name: "Online" }).click();
    await otto.getByRole("button", { name: /Otto Online, Online/ }).waitFor({ timeout: T });
    await otto.getByRole("tab", { name: /Mine/ }).click();
    await otto.getByText("You have no open conversations.").waitFor({ timeout: T });
    await olga.getByRole("tab", { name: /Mine/ }).click();

    const visitor = await (await browser.newContext()).newPage();
    await visitor.goto(host.url + "/");
    await visitor.locator("#parley-widget > button").click();
    const w = visitor.frameLocator("#parley-widget iframe");
    await w.getByLabel("Write a message").fill("Is anyone there?");
    await w.getByLabel("Write a message").press("Enter");

    // Live, with no reload and no claim.
    const item = otto.locator("[data-testid=list-mine] a", { hasText: "Is anyone there?" });
    await item.waitFor({ timeout: T });
    await item.click();
    await otto.getByText("Assigned to you").waitFor({ timeout: T });
    await w.getByText("You're chatting with Otto Online").waitFor({ timeout: T });
    assert.equal(await olga.locator("[data-testid=list-mine] a").count(), 0);
    await olga.getByText("You have no open conversations.").waitFor({ timeout: T });
  });

  test("nobody online: the widget says so with the hours, takes an email, and the inbox shows who left one", async () => {
    await admin.call("PATCH", "/api/settings", { businessHours: { timeZone: "UTC", days: { sun: [{ from: "03:00", to: "03:30" }] } }, offlineMessage: "We answer every message within a day." }, 200);
    await otto.getByRole("button", { name: /change availability/ }).click();
    await otto.getByRole("menuitem", { name: "Offline" }).click();
    await otto.getByRole("button", { name: /Otto Online, Offline/ }).waitFor({ timeout: T });
    const cfg = await (await fetch(parley.url + "/api/widget/config")).json();
    assert.equal(cfg.online, false);

    const visitor = await (await browser.newContext({ locale: "en-GB" })).newPage();
    await visitor.goto(host.url + "/");
    await visitor.locator("#parley-widget > button").click();
    const w = visitor.frameLocator("#parley-widget iframe");
    await w.getByText("We're away right now.").waitFor({ timeout: T });
    await w.getByText("We answer every message within a day.").waitFor({ timeout: T });
    await w.getByText("We're here: Sun 03:00–03:30 (UTC)").waitFor({ timeout: T });
    await w.getByLabel("Leave your email and we'll write back to you.").fill("not-an-email");
    await w.getByRole("button", { name: "Save" }).click();
    await w.getByText("That email doesn't look right.").waitFor({ timeout: T });
    await w.getByLabel("Leave your email and we'll write back to you.").fill("sam@example.org");
    await w.getByRole("button", { name: "Save" }).click();
    await w.getByText("Thanks! We'll write to sam@example.org.").waitFor({ timeout: T });

    // The chat waits in the queue, and the inbox row says who to write to.
    await olga.getByRole("tab", { name: /Waiting/ }).click();
    const row = olga.locator("[data-testid=list-waiting] a", { hasText: "sam@example.org" });
    await row.waitFor({ timeout: T });
    await row.getByTestId("left-email").waitFor({ timeout: T });
    await row.click();
    const mail = olga.getByRole("link", { name: "sam@example.org", exact: true });
    await mail.waitFor({ timeout: T });
    assert.equal(await mail.getAttribute("href"), "mailto:sam@example.org");
  });
});

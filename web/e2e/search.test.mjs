// End to end, in Chromium, against the real binary: search with highlighted
// snippets drawn as text, and exports: a conversation's PDF, CSV and JSON, a
// range of conversations, and the visitor's own transcript from the widget.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { ADMIN, CHROMIUM_ARGS, ensureArtifacts, findChromium, signIn, startHost, startParley } from "./harness.mjs";

const chromiumPath = findChromium();
const T = 15_000;

describe("search and exports", { skip: !chromiumPath && "no Chromium", timeout: 180_000 }, () => {
  let parley, host, browser, art, agent, visitor;
  let conversationId = "";
  const widget = () => visitor.frameLocator("#parley-widget iframe");
  const evil = "<b>bold</b> and <img src=x onerror=window.__pwned=1> parcel";

  before(async () => {
    const { chromium } = await import("playwright-core");
    art = ensureArtifacts();
    parley = await startParley({ PARLEY_AUTO_ASSIGN: "off" });
    host = await startHost(parley.url);
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
    agent = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true })).newPage();
    visitor = await (await browser.newContext({ acceptDownloads: true })).newPage();
  });

  after(async () => {
    await browser?.close();
    await host?.stop();
    await parley?.stop();
  });

  test("a conversation to find: the visitor writes, the admin answers and adds a note", async () => {
    await signIn(agent, parley.url, ADMIN.email, ADMIN.password);
    await visitor.goto(host.url + "/");
    await visitor.locator("#parley-widget > button").click();
    await widget().getByLabel(/Your name/).fill("Rosa Parcel");
    await widget().getByRole("button", { name: "Start chat" }).click();
    for (const text of ["My parcel 4821 never arrived", evil]) {
      await widget().getByLabel("Write a message").fill(text);
      await widget().getByLabel("Write a message").press("Enter");
      await widget().locator("[role=log]").getByText(text).waitFor({ timeout: T });
    }
    const item = agent.locator("[data-testid=list-waiting] a", { hasText: "parcel" });
    await item.waitFor({ timeout: T });
    conversationId = await item.getAttribute("data-conversation");
    await item.click();
    await agent.getByLabel("Write a reply").fill("Sorry about parcel 4821, I am asking the courier.");
    await agent.getByLabel("Write a reply").press("Enter");
    await widget().getByText("Sorry about parcel 4821, I am asking the courier.").waitFor({ timeout: T });
    await agent.getByRole("switch", { name: "Private note" }).click();
    await agent.getByLabel("Write a private note").fill("Courier confirmed the parcel is lost");
    await agent.getByLabel("Write a private note").press("Enter");
    await agent.locator("[data-testid=timeline] li[data-kind=note]").waitFor({ timeout: T });
  });

  test("search: highlighted snippets drawn as text, filters, and a result opens its chat", async () => {
    await agent.getByRole("link", { name: "Search" }).click();
    await agent.getByLabel("Search for").fill("parcel");
    await agent.getByRole("button", { name: "Search", exact: true }).click();
    const results = agent.getByTestId("search-results");
    await results.waitFor({ timeout: T });
    const marks = await results.locator("mark").allTextContents();
    assert.ok(marks.length >= 3, "matches are marked: " + JSON.stringify(marks));
    for (const m of marks) assert.match(m, /^parcel$/i);
    // The message with HTML in it is a snippet of text, nothing more.
    await results.getByText(/<b>bold<\/b>/).waitFor({ timeout: T });
    assert.equal(await results.locator("b, img, script").count(), 0);
    assert.equal(await agent.evaluate(() => window.__pwned), undefined);
    // The private note is found too (agents see notes), and marked as one.
    await results.locator("li", { hasText: "Courier confirmed" }).getByText("private note").waitFor({ timeout: T });
    await agent.screenshot({ path: join(art, "dashboard-search.png") });

    // A filter that excludes it finds nothing; the query stays in the address.
    await agent.getByLabel("Status").selectOption("closed");
    await agent.getByRole("button", { name: "Search", exact: true }).click();
    await agent.getByText("Nothing found for “parcel”.").waitFor({ timeout: T });
    assert.match(agent.url(), /[?&]q=parcel/);
    assert.match(agent.url(), /[?&]status=closed/);
    await agent.getByLabel("Status").selectOption("");
    await agent.getByLabel("Search for").fill("4821 courier");
    await agent.getByRole("button", { name: "Search", exact: true }).click();
    const hit = results.getByRole("link", { name: /asking the courier/ });
    await hit.waitFor({ timeout: T });
    await hit.click();
    await agent.waitForURL(new RegExp(`/admin/chat/${conversationId}$`), { timeout: T });
    await agent.locator("[data-testid=timeline]").getByText("Sorry about parcel 4821").waitFor({ timeout: T });
  });

  const exportAs = async (label) => {
    await agent.getByRole("button", { name: "Export…" }).click();
    const [d] = await Promise.all([agent.waitForEvent("download", { timeout: T }), agent.getByRole("menuitem", { name: label }).click()]);
    return d;
  };

  test("a conversation's transcript downloads as PDF, CSV and JSON", async () => {
    const pdf = await exportAs(/PDF/);
    assert.match(pdf.suggestedFilename(), /\.pdf$/);
    const pdfPath = await pdf.path();
    assert.ok(statSync(pdfPath).size > 1000, "the PDF has a body");
    assert.equal(readFileSync(pdfPath).subarray(0, 5).toString("latin1"), "%PDF-");

    const csv = await exportAs(/CSV/);
    assert.match(csv.suggestedFilename(), /\.csv$/);
    const text = readFileSync(await csv.path(), "utf8");
    assert.ok(text.includes("My parcel 4821 never arrived"), "the CSV has the visitor's message");
    assert.ok(text.includes("Sorry about parcel 4821, I am asking the courier."), "and the answer");
    assert.ok(text.includes("Courier confirmed the parcel is lost"), "the team's copy has the note");

    const json = await exportAs(/JSON/);
    assert.match(json.suggestedFilename(), /\.json$/);
    const doc = JSON.parse(readFileSync(await json.path(), "utf8"));
    assert.equal(doc.conversation.id, conversationId);
    assert.ok(doc.messages.some((m) => m.content === evil));
  });

  test("a lead exports every conversation of a date range from the reports page", async () => {
    await agent.getByRole("link", { name: "Reports" }).click();
    await agent.getByRole("heading", { name: "Export conversations" }).waitFor({ timeout: T });
    await agent.getByLabel("Format").selectOption("csv");
    const [d] = await Promise.all([agent.waitForEvent("download", { timeout: T }), agent.getByRole("link", { name: "Download" }).click()]);
    assert.match(d.suggestedFilename(), /\.csv$/);
    const text = readFileSync(await d.path(), "utf8");
    assert.ok(text.includes(conversationId));
    assert.ok(text.includes("My parcel 4821 never arrived"));
  });

  test("the visitor downloads their own transcript from the widget, without the note", async () => {
    const [d] = await Promise.all([visitor.waitForEvent("download", { timeout: T }), widget().getByRole("button", { name: "Download this chat" }).click()]);
    assert.match(d.suggestedFilename(), /\.pdf$/);
    const b = readFileSync(await d.path());
    assert.ok(b.length > 1000);
    assert.equal(b.subarray(0, 5).toString("latin1"), "%PDF-");
    // The same copy as CSV, fetched as the widget does (bearer token): no note in it.
    const frame = visitor.frames().find((f) => f.url().includes("/widget"));
    const csv = await frame.evaluate(async (id) => {
      const raw = localStorage.getItem("parley.visitor");
      const { token } = JSON.parse(raw);
      const r = await fetch(`/api/conversations/${id}/export?format=csv`, { headers: { Authorization: "Bearer " + token } });
      return r.text();
    }, conversationId);
    assert.ok(csv.includes("My parcel 4821 never arrived"));
    assert.ok(!csv.includes("Courier confirmed"), "a visitor's transcript has no notes");
  });
});

// End to end, in Chromium, against the real binary: the agents' workflow.
// A visitor chats with Ada, who hands the chat to Bob (both inboxes and the
// visitor see it move live); Bob uses a quick reply and a guide, files go
// both ways (a picture's preview, a refused file's reason, drop and paste),
// the chat closes and the visitor rates it, and a lead reads the reports.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ADMIN, CHROMIUM_ARGS, apiLogin, ensureArtifacts, findChromium, png, signIn, startHost, startParley } from "./harness.mjs";

const chromiumPath = findChromium();
const T = 15_000;

describe("the agents' workflow", { skip: !chromiumPath && "no Chromium", timeout: 300_000 }, () => {
  let parley, host, browser, art, admin;
  let ctx = {};
  let page = {};
  let conversationId = "";
  const people = {
    ada: { name: "Ada Agent", email: "ada@example.com", password: "ada-password-123", role: "agent" },
    bob: { name: "Bob Agent", email: "bob@example.com", password: "bob-password-123", role: "agent" },
    lea: { name: "Lea Lead", email: "lea@example.com", password: "lea-password-123", role: "team_lead" },
  };
  const widget = () => page.visitor.frameLocator("#parley-widget iframe");
  const frame = () => page.visitor.frames().find((f) => f.url().includes("/widget"));
  const timeline = (who) => page[who].locator("[data-testid=timeline]");

  before(async () => {
    const { chromium } = await import("playwright-core");
    art = ensureArtifacts();
    // Claims are made by hand here (see chat.test.mjs); a small upload limit
    // lets a test be refused for size without sending megabytes.
    parley = await startParley({ PARLEY_AUTO_ASSIGN: "off", PARLEY_MAX_UPLOAD_BYTES: "300000" });
    host = await startHost(parley.url);
    admin = await apiLogin(parley.url, ADMIN.email, ADMIN.password);
    for (const p of Object.values(people)) p.id = (await admin.call("POST", "/api/users", { email: p.email, name: p.name, password: p.password, role: p.role }, 201)).id;
    browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: CHROMIUM_ARGS });
    for (const who of ["visitor", "ada", "bob", "lead"]) {
      ctx[who] = await browser.newContext({ viewport: { width: 1360, height: 860 }, locale: "en-US", acceptDownloads: true });
      page[who] = await ctx[who].newPage();
      page[who].on("pageerror", (e) => console.log(`${who}: page error:`, e.message));
    }
  });

  after(async () => {
    await browser?.close();
    await host?.stop();
    await parley?.stop();
  });

  test("Ada and Bob sign in and go online; a visitor with a name starts a chat and Ada takes it", async () => {
    for (const who of ["ada", "bob"]) {
      await signIn(page[who], parley.url, people[who].email, people[who].password);
      await page[who].getByRole("button", { name: /change availability/ }).click();
      await page[who].getByRole("menuitem", { name: "Online" }).click();
      await page[who].getByRole("button", { name: new RegExp(`${people[who].name}, Online`) }).waitFor({ timeout: T });
    }
    await page.visitor.goto(host.url + "/");
    await page.visitor.locator("#parley-widget > button").click();
    await widget().getByLabel(/Your name/).fill("Vera");
    await widget().getByRole("button", { name: "Start chat" }).click();
    const composer = widget().getByLabel("Write a message");
    await composer.fill("I would like a refund for order 4821");
    await composer.press("Enter");

    const ada = page.ada;
    const item = ada.locator("[data-testid=list-waiting] a", { hasText: "refund for order 4821" });
    await item.waitFor({ timeout: T });
    conversationId = await item.getAttribute("data-conversation");
    await item.click();
    await ada.getByRole("button", { name: "Claim" }).click();
    await ada.getByText("Assigned to you").waitFor({ timeout: T });
    await ada.getByLabel("Write a reply").fill("Hello Vera, I can help with that.");
    await ada.getByLabel("Write a reply").press("Enter");
    await widget().getByText("Hello Vera, I can help with that.").waitFor({ timeout: T });
    // The widget names the agent from the message itself (senderName).
    await widget().locator("[role=log]").getByText("Ada Agent", { exact: true }).waitFor({ timeout: T });
    await widget().getByText("You're chatting with Ada Agent").waitFor({ timeout: T });
  });

  test("a transfer: refused to someone offline, then seen live by both agents and the visitor", async () => {
    const { ada, bob } = page;
    await bob.getByRole("tab", { name: /Mine/ }).click();
    await bob.getByText("You have no open conversations.").waitFor({ timeout: T });
    await ada.getByRole("tab", { name: /Mine/ }).click();
    await ada.locator(`[data-testid=list-mine] a[data-conversation="${conversationId}"]`).waitFor({ timeout: T });

    await ada.getByRole("button", { name: "Transfer…" }).click();
    const dialog = ada.getByRole("dialog");
    // Lea never signed in: offline. An agent may not force it.
    await dialog.getByRole("radio", { name: /Lea Lead/ }).check();
    await dialog.getByText(/only team leads can hand chats/).waitFor({ timeout: T });
    assert.equal(await dialog.getByLabel(/Transfer anyway/).count(), 0, "plain agents cannot force");
    await dialog.getByRole("button", { name: "Transfer", exact: true }).click();
    await dialog.getByRole("alert").getByText(/Lea Lead is offline and not taking chats/).waitFor({ timeout: T });
    await ada.screenshot({ path: join(art, "dashboard-transfer-dialog.png") });

    await dialog.getByRole("radio", { name: /Bob Agent/ }).check();
    await dialog.getByLabel(/Reason/).fill("Billing question: Bob handles refunds");
    await dialog.getByRole("button", { name: "Transfer", exact: true }).click();
    await dialog.waitFor({ state: "detached", timeout: T });

    // The visitor is told, live.
    await widget().getByText("You are now talking to Bob Agent.").waitFor({ timeout: T });
    // Ada's inbox loses it and Bob's gains it, without a reload.
    await ada.getByText("You can no longer see this conversation.").waitFor({ timeout: T });
    await ada.locator(`[data-testid=list-mine] a[data-conversation="${conversationId}"]`).waitFor({ state: "detached", timeout: T });
    const bobItem = bob.locator(`[data-testid=list-mine] a[data-conversation="${conversationId}"]`);
    await bobItem.waitFor({ timeout: T });
    await bobItem.click();
    await timeline("bob").getByText("You are now talking to Bob Agent.").waitFor({ timeout: T });
    // The history is in the chat view, with its reason (never shown to the visitor).
    const transfers = bob.getByTestId("transfers");
    await transfers.getByText("Ada Agent").waitFor({ timeout: T });
    await transfers.getByText("Bob Agent").waitFor({ timeout: T });
    await transfers.getByText(/Billing question: Bob handles refunds/).waitFor({ timeout: T });
    assert.equal(await widget().getByText(/Billing question/).count(), 0);
    // Bob's arrival names him in the widget's header.
    await widget().getByText("You're chatting with Bob Agent").waitFor({ timeout: T });
    await bob.screenshot({ path: join(art, "dashboard-transfer.png") });
  });

  test("quick replies: Bob adds his own, then / in the composer inserts it filled in", async () => {
    const { bob } = page;
    await bob.getByRole("link", { name: "Quick replies" }).click();
    const add = async (shortcut, text) => {
      await bob.getByLabel("Shortcut").fill(shortcut);
      await bob.getByLabel("Text").fill(text);
      await bob.getByRole("button", { name: "Add", exact: true }).click();
      await bob.locator(`[data-shortcut="${shortcut}"]`).waitFor({ timeout: T });
    };
    await add("thanks", "Thanks {{customer.name}}, is there anything else?");
    await add("thx-bye", "Bye from {{agent.name}}!");
    await bob.getByRole("link", { name: "Inbox" }).click();
    await bob.locator(`[data-testid=list-mine] a[data-conversation="${conversationId}"]`).click();
    const composer = bob.getByLabel("Write a reply");
    await composer.click();
    await composer.pressSequentially("/th", { delay: 40 });
    const list = bob.getByRole("listbox", { name: "Quick replies" });
    await list.waitFor({ timeout: T });
    await bob.screenshot({ path: join(art, "dashboard-quick-reply-picker.png") });
    assert.deepEqual(await list.getByRole("option").evaluateAll((els) => els.map((e) => e.querySelector("span").textContent)), ["/thanks", "/thx-bye"]);
    // The keyboard picks: down to the second, back up to the first, Enter.
    await composer.press("ArrowDown");
    await list.getByRole("option", { name: /thx-bye/, selected: true }).waitFor({ timeout: T });
    await composer.press("ArrowUp");
    await composer.press("Enter");
    await bob.waitForFunction(() => document.querySelector("#composer")?.value === "Thanks Vera, is there anything else?", null, { timeout: T });
    await composer.press("Enter");
    await widget().getByText("Thanks Vera, is there anything else?").waitFor({ timeout: T });
    // Filtering, and Escape leaves the text as typed.
    await composer.pressSequentially("/thx", { delay: 40 });
    await list.getByRole("option").first().waitFor({ timeout: T });
    assert.equal(await list.getByRole("option").count(), 1);
    await composer.press("Escape");
    await list.waitFor({ state: "detached", timeout: T });
    assert.equal(await composer.inputValue(), "/thx");
    await composer.fill("");
  });

  test("the guides panel: search, Markdown drawn safely, pin; a lead edits and the versions show", async () => {
    const lea = await apiLogin(parley.url, people.lea.email, people.lea.password);
    const body = [
      "# Refunds",
      "",
      "Ask for the **order number** first.",
      "",
      "- Check the [refund policy](https://example.com/policy)",
      "- <script>window.__sop=1</script><img src=x onerror=window.__sop=3>",
      "- [do not follow](javascript:window.__sop=2)",
    ].join("\n");
    await lea.call("POST", "/api/sops", { title: "Refunds", body, tags: ["billing"] }, 201);
    await lea.call("POST", "/api/sops", { title: "Shipping delays", body: "Say sorry.", tags: ["shipping"] }, 201);

    const { bob } = page;
    await bob.getByRole("tab", { name: "Guides" }).click();
    const panel = bob.getByTestId("sop-panel");
    await panel.getByLabel("Search the guides").fill("refund");
    const guides = panel.getByRole("list", { name: "Guides" });
    await guides.getByRole("button", { name: /Refunds/ }).waitFor({ timeout: T });
    await guides.getByRole("button", { name: /Shipping delays/ }).waitFor({ state: "detached", timeout: T });
    await guides.getByRole("button", { name: /Refunds/ }).click();
    const doc = panel.getByRole("article", { name: "Refunds" });
    await doc.locator("strong", { hasText: "order number" }).waitFor({ timeout: T });
    await doc.getByText("<script>window.__sop=1</script><img src=x onerror=window.__sop=3>").waitFor({ timeout: T });
    assert.equal(await doc.getByRole("link").count(), 1, "only the https link is a link");
    assert.equal(await doc.getByRole("link").getAttribute("href"), "https://example.com/policy");
    assert.equal(await doc.locator("script, img, iframe").count(), 0);
    await doc.getByText("do not follow").waitFor({ timeout: T });
    assert.equal(await bob.evaluate(() => window.__sop), undefined);
    assert.equal(await doc.getByRole("button", { name: "Edit" }).count(), 0, "agents read, leads write");

    await doc.getByRole("button", { name: "Pin to this chat" }).click();
    await doc.getByRole("button", { name: "Unpin from this chat" }).waitFor({ timeout: T });
    await panel.getByRole("button", { name: "← All guides" }).click();
    await panel.getByRole("region", { name: "Pinned to this conversation" }).getByRole("button", { name: /Refunds/ }).waitFor({ timeout: T });

    // A lead edits it in her dashboard; every version is kept.
    const lp = page.lead;
    await signIn(lp, parley.url, people.lea.email, people.lea.password);
    await lp.goto(parley.url + "/admin/chat/" + conversationId);
    await lp.getByRole("tab", { name: "Guides" }).click();
    const lpanel = lp.getByTestId("sop-panel");
    await lpanel.getByRole("region", { name: "Pinned to this conversation" }).getByRole("button", { name: /Refunds/ }).click();
    await lpanel.getByRole("button", { name: "Edit" }).click();
    const text = lpanel.getByLabel("Text (Markdown)");
    await text.fill((await text.inputValue()) + "\n\nThen say **thank you**.");
    await lpanel.getByRole("button", { name: "Save" }).click();
    await lpanel.getByText(/^Version 2/).waitFor({ timeout: T });
    await lpanel.locator("strong", { hasText: "thank you" }).waitFor({ timeout: T });
    await lpanel.getByRole("button", { name: "Versions" }).click();
    const versions = lpanel.getByRole("list", { name: "Versions, newest first" });
    await versions.getByText("Version 2").waitFor({ timeout: T });
    await versions.getByText("Version 1").waitFor({ timeout: T });
    await lp.screenshot({ path: join(art, "dashboard-guides.png") });
  });

  test("files: a picture from the widget shows to the agent; refused files say why; drop and paste work", async () => {
    const input = widget().getByTestId("file-input");
    await input.setInputFiles({ name: "photo.png", mimeType: "image/png", buffer: await png(64, 48) });
    // The visitor's own copy comes from a blob: URL fetched with the token.
    const own = widget().getByRole("img", { name: "Picture: photo.png" });
    await own.waitFor({ timeout: T });
    await page.visitor.waitForFunction(() => true);
    const ownSrc = await own.getAttribute("src");
    assert.match(ownSrc, /^blob:/);
    assert.ok(await own.evaluate((img) => img.complete && img.naturalWidth > 0), "the visitor's picture loads");
    // The agent sees the thumbnail, by the session cookie.
    const seen = timeline("bob").getByRole("img", { name: "photo.png" });
    await seen.waitFor({ timeout: T });
    await page.bob.waitForFunction(() => [...document.querySelectorAll("[data-testid=timeline] img")].some((i) => i.alt === "photo.png" && i.complete && i.naturalWidth > 0), null, { timeout: T });
    assert.match(await seen.getAttribute("src"), /\/api\/files\/[0-9a-f-]+\/thumbnail$/);

    // Refused: a type the server never accepts, and a file over the limit.
    await input.setInputFiles({ name: "drawing.svg", mimeType: "image/svg+xml", buffer: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>') });
    await widget().locator("[data-upload=failed]").getByText(/This kind of file can't be sent/).waitFor({ timeout: T });
    await input.setInputFiles({ name: "big.txt", mimeType: "text/plain", buffer: Buffer.alloc(400_000, "a") });
    await widget().locator("[data-upload=failed]").getByText("This file is too big to send.").waitFor({ timeout: T });
    assert.equal(await timeline("bob").getByText("drawing.svg").count(), 0);
    await page.visitor.screenshot({ path: join(art, "widget-refused.png") });
    const failed = widget().locator("[data-upload=failed]");
    while ((await failed.count()) > 0) await failed.first().getByRole("button", { name: "Remove" }).click();

    // A file dropped on the agent's conversation; the visitor downloads it with the token.
    await page.bob.evaluate(() => {
      const dt = new DataTransfer();
      dt.items.add(new File(["Your refund form, filled in.\n"], "refund-form.txt", { type: "text/plain" }));
      const target = document.querySelector("section[aria-label=Conversation]");
      target.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    });
    const button = widget().getByRole("button", { name: "Download refund-form.txt" });
    await button.waitFor({ timeout: T });
    const [download] = await Promise.all([page.visitor.waitForEvent("download", { timeout: T }), button.click()]);
    assert.equal(download.suggestedFilename(), "refund-form.txt");
    assert.equal(readFileSync(await download.path(), "utf8"), "Your refund form, filled in.\n");

    // A picture pasted into the agent's composer, and one dropped on the widget.
    const pasted = await png(20, 20, [220, 38, 38]);
    await page.bob.evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], "pasted.png", { type: "image/png" }));
      document.querySelector("#composer").dispatchEvent(new ClipboardEvent("paste", { clipboardData: dt, bubbles: true, cancelable: true }));
    }, [...pasted]);
    await widget().getByRole("img", { name: "Picture: pasted.png" }).waitFor({ timeout: T });
    const dropped = await png(30, 10, [22, 163, 74]);
    await frame().evaluate((bytes) => {
      const dt = new DataTransfer();
      dt.items.add(new File([new Uint8Array(bytes)], "dropped.png", { type: "image/png" }));
      const target = document.querySelector("#root > div");
      target.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
      target.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));
    }, [...dropped]);
    await timeline("bob").getByRole("img", { name: "dropped.png" }).waitFor({ timeout: T });
    await page.bob.screenshot({ path: join(art, "dashboard-files.png") });
    await page.visitor.screenshot({ path: join(art, "widget-files.png") });

    // Progress, on a slow line: the bar moves, then the file is sent.
    const cdp = await ctx.bob.newCDPSession(page.bob);
    await cdp.send("Network.enable");
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 64 * 1024 });
    await page.bob.getByTestId("agent-file-input").setInputFiles({ name: "manual.txt", mimeType: "text/plain", buffer: Buffer.alloc(250_000, "m") });
    const bar = page.bob.getByRole("progressbar", { name: "Sending manual.txt" });
    await bar.waitFor({ timeout: T });
    await page.bob.waitForFunction(() => {
      const v = Number(document.querySelector("[role=progressbar]")?.getAttribute("aria-valuenow"));
      return v > 0 && v < 100;
    }, null, { timeout: T, polling: 50 });
    await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await widget().getByRole("button", { name: "Download manual.txt" }).waitFor({ timeout: 30_000 });
    await bar.waitFor({ state: "detached", timeout: T });
    await cdp.detach();

    // Each file once, in order, as file messages.
    const { messages } = await admin.call("GET", `/api/conversations/${conversationId}/messages?limit=500`, undefined, 200);
    const files = messages.filter((m) => m.kind === "file").map((m) => m.attachments[0].name);
    assert.deepEqual(files, ["photo.png", "refund-form.txt", "pasted.png", "dropped.png", "manual.txt"]);
  });

  test("a private note looks like one and never reaches the visitor", async () => {
    const { bob } = page;
    await bob.getByRole("switch", { name: "Private note" }).click();
    await bob.getByLabel("Write a private note").fill("Customer asked twice; refund approved by Lea");
    await bob.getByLabel("Write a private note").press("Enter");
    const note = timeline("bob").locator("li[data-kind=note]", { hasText: "refund approved by Lea" });
    await note.waitFor({ timeout: T });
    await note.getByText(/private note, the customer does not see it/).waitFor({ timeout: T });
    await bob.getByRole("switch", { name: "Private note" }).click();
    await bob.getByLabel("Write a reply").fill("Your refund is on its way.");
    await bob.getByLabel("Write a reply").press("Enter");
    await widget().getByText("Your refund is on its way.").waitFor({ timeout: T });
    assert.equal(await widget().getByText(/refund approved by Lea/).count(), 0);
  });

  test("closing the chat asks the visitor for a rating, once; the agent sees it", async () => {
    await page.bob.getByRole("button", { name: "Close", exact: true }).click();
    await widget().getByText("This chat has ended.").waitFor({ timeout: T });
    const form = widget().getByRole("form", { name: "How did we do?" });
    await form.getByRole("radio", { name: "4 out of 5" }).click();
    await form.getByLabel(/Anything you'd like to tell us/).fill("Quick and kind");
    await page.visitor.screenshot({ path: join(art, "widget-rating.png") });
    await form.getByRole("button", { name: "Send" }).click();
    await widget().getByTestId("rated").getByText("You gave 4 out of 5.").waitFor({ timeout: T });
    // The agent hears of it live.
    await page.bob.getByRole("tab", { name: "Customer" }).click();
    const rating = page.bob.getByTestId("rating");
    await rating.getByText("4/5").waitFor({ timeout: T });
    await rating.getByText("“Quick and kind”").waitFor({ timeout: T });
    // Once: after a reload the widget shows the rating, not the question.
    await page.visitor.reload();
    await widget().getByText("You gave 4 out of 5.").waitFor({ timeout: T });
    assert.equal(await widget().getByRole("form", { name: "How did we do?" }).count(), 0);
    const r = await admin.call("GET", `/api/conversations/${conversationId}/rating`, undefined, 200);
    assert.equal(r.rating.score, 4);
  });

  test("the reports page draws the summary", async () => {
    const lp = page.lead;
    await lp.getByRole("link", { name: "Reports" }).click();
    const report = lp.getByTestId("report");
    await report.waitFor({ timeout: T });
    await report.locator("svg[data-chart=line]").waitFor({ timeout: T });
    await report.locator("svg[data-chart=bars]").waitFor({ timeout: T });
    await report.locator("svg[data-chart=columns]").waitFor({ timeout: T });
    const started = await report.getByText("Conversations started").locator("..").locator("p").nth(1).textContent();
    assert.ok(Number(started) >= 1, `started: ${started}`);
    await report.getByRole("cell", { name: "Bob Agent" }).waitFor({ timeout: T });
    assert.match(await report.getByRole("img", { name: /Ratings from 1 to 5/ }).getAttribute("aria-label"), /0, 0, 0, 1, 0/);
    await lp.screenshot({ path: join(art, "dashboard-reports.png"), fullPage: true });
    // Plain agents have no reports.
    assert.equal(await page.bob.getByRole("link", { name: "Reports" }).count(), 0);
  });
});

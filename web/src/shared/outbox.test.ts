import { beforeEach, describe, expect, it } from "vitest";
import { Outbox, type StorageLike } from "./outbox";
import { ConversationSync, RESEND_AFTER } from "./sync";
import type { Message, ServerFrame } from "./types";

class MemoryStorage implements StorageLike {
  data = new Map<string, string>();
  getItem(k: string) {
    return this.data.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.data.set(k, v);
  }
  removeItem(k: string) {
    this.data.delete(k);
  }
}

const stored = (seq: number, clientMessageId: string, content: string): ServerFrame => ({
  type: "message",
  id: "m" + seq,
  conversationId: "c1",
  seq,
  clientMessageId,
  senderType: "customer",
  kind: "text",
  content,
  createdAt: new Date().toISOString(),
});

describe("Outbox", () => {
  let storage: MemoryStorage;
  beforeEach(() => {
    storage = new MemoryStorage();
  });

  it("keeps unsent messages across a reload, with the same clientMessageId", () => {
    const a = new Outbox(storage, "k");
    const e = a.add("c1", "hello");
    const b = new Outbox(storage, "k");
    expect(b.unsent("c1").map((x) => [x.clientMessageId, x.content])).toEqual([[e.clientMessageId, "hello"]]);
  });

  it("gives each message its own id", () => {
    const o = new Outbox(null, "k");
    const ids = new Set(Array.from({ length: 50 }, () => o.add("c1", "x").clientMessageId));
    expect(ids.size).toBe(50);
  });

  it("an acked message is no longer unsent and not saved", () => {
    const o = new Outbox(storage, "k");
    const e = o.add("c1", "hello");
    expect(o.ack(e.clientMessageId, 7, "m7")).toBe(true);
    expect(o.unsent("c1")).toEqual([]);
    expect(new Outbox(storage, "k").all()).toEqual([]);
    expect(o.ack("unknown", 1, "x")).toBe(false);
  });

  it("messages typed before the conversation existed join it", () => {
    const o = new Outbox(null, "k");
    o.add("", "first");
    o.adopt("c9");
    expect(o.unsent("c9").map((e) => e.content)).toEqual(["first"]);
  });

  it("ignores a corrupt saved outbox", () => {
    storage.setItem("k", "{not json");
    expect(new Outbox(storage, "k").all()).toEqual([]);
  });
});

describe("ConversationSync and the outbox", () => {
  function setup(connected: { on: boolean }) {
    const sent: Record<string, unknown>[] = [];
    let now = 1_000_000;
    const outbox = new Outbox(new MemoryStorage(), "k");
    const sync = new ConversationSync({
      conversationId: "c1",
      outbox,
      strictSeq: false,
      send: (f) => {
        if (!connected.on) return false;
        sent.push(f);
        return true;
      },
      onChange: () => {},
      now: () => now,
    });
    return { sent, outbox, sync, advance: (ms: number) => (now += ms) };
  }

  it("typed offline: pending, then sent on connect with its clientMessageId, and shown once", () => {
    const net = { on: false };
    const { sent, outbox, sync } = setup(net);
    const e = sync.post("hello");
    expect(sent).toEqual([]);
    expect(sync.pending().map((p) => p.content)).toEqual(["hello"]);

    net.on = true;
    sync.connected();
    expect(sent.map((f) => f.type)).toEqual(["resume", "send"]);
    expect(sent[1]).toMatchObject({ conversationId: "c1", clientMessageId: e.clientMessageId, content: "hello" });

    // The stored message arrives before its ack: the pending copy goes.
    sync.handle(stored(1, e.clientMessageId, "hello"));
    expect(sync.pending()).toEqual([]);
    sync.handle({ type: "ack", clientMessageId: e.clientMessageId, messageId: "m1", conversationId: "c1", seq: 1, createdAt: "" });
    expect(outbox.all()).toEqual([]);
    expect(sync.timeline.messages.map((m: Message) => m.content)).toEqual(["hello"]);
  });

  it("a reconnect before the ack resends the same clientMessageId; the duplicate ack and message change nothing", () => {
    const net = { on: true };
    const { sent, sync } = setup(net);
    sync.connected();
    const e = sync.post("once");
    sync.disconnected();
    sync.connected();
    const sends = sent.filter((f) => f.type === "send");
    expect(sends.map((f) => f.clientMessageId)).toEqual([e.clientMessageId, e.clientMessageId]);
    // The ack arrives first this time: shown as sent until the message comes.
    sync.handle({ type: "ack", clientMessageId: e.clientMessageId, messageId: "m1", conversationId: "c1", seq: 1, createdAt: "", duplicate: true });
    expect(sync.pending().map((p) => p.seq)).toEqual([1]);
    sync.handle(stored(1, e.clientMessageId, "once"));
    sync.handle(stored(1, e.clientMessageId, "once"));
    expect(sync.pending()).toEqual([]);
    expect(sync.timeline.messages.length).toBe(1);
  });

  it("resends an unacked message only after RESEND_AFTER", () => {
    const { sent, sync, advance } = setup({ on: true });
    sync.connected();
    sync.post("slow");
    sync.flush();
    expect(sent.filter((f) => f.type === "send").length).toBe(1);
    advance(RESEND_AFTER + 1);
    sync.flush();
    expect(sent.filter((f) => f.type === "send").length).toBe(2);
  });

  it("a final refusal marks the message failed; a passing one retries", () => {
    const { sent, outbox, sync, advance } = setup({ on: true });
    sync.connected();
    const a = sync.post("to a closed chat");
    const b = sync.post("too fast");
    sync.handle({ type: "error", code: "conflict", message: "The conversation is closed.", conversationId: "c1", clientMessageId: a.clientMessageId });
    sync.handle({ type: "error", code: "rate_limited", message: "Slow down.", conversationId: "c1", clientMessageId: b.clientMessageId });
    expect(outbox.all().find((e) => e.clientMessageId === a.clientMessageId)?.failed).toBe("The conversation is closed.");
    expect(outbox.unsent("c1").map((e) => e.clientMessageId)).toEqual([b.clientMessageId]);
    advance(1);
    sent.length = 0;
    sync.flush();
    expect(sent.map((f) => f.clientMessageId)).toEqual([b.clientMessageId]);
  });

  it("resumes from the highest seq held", () => {
    const { sent, sync } = setup({ on: true });
    sync.merge([stored(1, "", "a"), stored(2, "", "b")].map((f) => ({ ...(f as Message) })));
    sync.connected();
    expect(sent[0]).toMatchObject({ type: "resume", conversationId: "c1", lastSeq: 2 });
  });

  it("for agents, a gap triggers a resume from the held seq", () => {
    const sent: Record<string, unknown>[] = [];
    const sync = new ConversationSync({ conversationId: "c1", outbox: new Outbox(null, "k"), strictSeq: true, send: (f) => (sent.push(f), true), onChange: () => {} });
    sync.handle(stored(1, "", "a"));
    sync.handle(stored(3, "", "c"));
    expect(sent).toEqual([{ type: "resume", conversationId: "c1", lastSeq: 1, ref: "resume" }]);
    expect(sync.timeline.held).toBe(1);
  });

  it("reads the fields a frame leaves out as empty (a file without a caption has no content)", () => {
    const { sync } = setup({ on: true });
    const frame = { type: "message", id: "m1", conversationId: "c1", seq: 1, senderType: "customer", kind: "file", createdAt: "2026-01-01T00:00:00Z" } as unknown as ServerFrame;
    expect(sync.handle(frame)).toBe(true);
    expect(sync.timeline.messages[0]).toMatchObject({ content: "", attachments: [] });
  });

  it("ignores frames of other conversations", () => {
    const { sync } = setup({ on: true });
    expect(sync.handle({ ...(stored(1, "", "x") as Message), type: "message", conversationId: "other" } as ServerFrame)).toBe(false);
    expect(sync.timeline.messages).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { Timeline } from "./timeline";
import type { Message } from "./types";

const msg = (seq: number, extra: Partial<Message> = {}): Message => ({
  id: "m" + seq,
  conversationId: "c1",
  seq,
  senderType: "customer",
  kind: "text",
  content: "message " + seq,
  createdAt: new Date(2026, 0, 1, 10, seq).toISOString(),
  ...extra,
});

describe("Timeline", () => {
  it("appends in order and ignores what it already holds", () => {
    const t = new Timeline(true);
    expect(t.apply(msg(1))).toBe("added");
    expect(t.apply(msg(2))).toBe("added");
    expect(t.apply(msg(2))).toBe("repeat");
    expect(t.apply(msg(1))).toBe("repeat");
    expect(t.messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(t.held).toBe(2);
  });

  it("for agents, a jump in seq is a gap and is not applied", () => {
    const t = new Timeline(true);
    t.apply(msg(1));
    expect(t.apply(msg(3))).toBe("gap");
    expect(t.held).toBe(1);
    expect(t.apply(msg(2))).toBe("added");
    expect(t.apply(msg(3))).toBe("added");
    expect(t.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it("for customers, seqs jump over private notes: not a gap", () => {
    const t = new Timeline(false);
    t.apply(msg(1));
    expect(t.apply(msg(4))).toBe("added");
    expect(t.held).toBe(4);
    expect(t.apply(msg(3))).toBe("repeat");
  });

  it("a resume from the middle after live frames repeats nothing", () => {
    const t = new Timeline(true);
    [1, 2, 3].forEach((s) => t.apply(msg(s)));
    // The socket dropped; the resume from held=3 replays 3 (a race) and brings 4, 5.
    const results = [3, 4, 5].map((s) => t.apply(msg(s)));
    expect(results).toEqual(["repeat", "added", "added"]);
    expect(t.messages.length).toBe(5);
  });

  it("merges REST pages in any order with live messages, once each", () => {
    const t = new Timeline(true);
    t.apply(msg(5));
    t.merge([msg(3), msg(1), msg(2), msg(4), msg(5, { content: "other copy" })]);
    expect(t.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(t.messages[4].content).toBe("message 5");
    expect(t.first).toBe(1);
    t.merge([msg(6)]);
    expect(t.held).toBe(6);
    expect(t.apply(msg(6))).toBe("repeat");
  });

  it("knows its messages by clientMessageId", () => {
    const t = new Timeline(false);
    t.apply(msg(1, { clientMessageId: "abc" }));
    expect(t.hasClientMessage("abc")).toBe(true);
    expect(t.hasClientMessage("def")).toBe(false);
  });
});

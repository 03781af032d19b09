// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { QueryClient } from "@tanstack/react-query";
import type { Conversation, ConversationPage, ServerFrame } from "../../shared/types";
import { Live } from "./live";

const conv = (id: string, over: Partial<Conversation> = {}): Conversation => ({
  id,
  status: "active",
  customerId: "cu-" + id,
  assigneeId: "ada",
  createdAt: "2026-01-01T10:00:00Z",
  updatedAt: "2026-01-01T10:00:00Z",
  closedAt: null,
  lastMessageAt: "2026-01-01T10:0" + id.length + ":00Z",
  lastSeq: 1,
  lastMessagePreview: "hi",
  ...over,
});
const page = (cs: Conversation[]): ConversationPage => ({ conversations: cs, totalCount: cs.length, unreadCount: 0, nextCursor: "" });

function setup(me: string, lists: Partial<Record<"waiting" | "mine" | "all" | "closed", Conversation[]>>) {
  const qc = new QueryClient();
  for (const [k, v] of Object.entries(lists)) qc.setQueryData(["conversations", k], page(v));
  const live = new Live(qc, me);
  const frame = (change: string, c: Partial<Conversation> & { id: string }) =>
    (live as unknown as { onFrame(f: ServerFrame): void }).onFrame({ type: "conversation", conversationId: c.id, change, conversation: c as Conversation });
  const ids = (k: string) => qc.getQueryData<ConversationPage>(["conversations", k])?.conversations.map((c) => c.id);
  const total = (k: string) => qc.getQueryData<ConversationPage>(["conversations", k])?.totalCount;
  return { frame, ids, total };
}

describe("conversation frames move conversations between the cached views at once", () => {
  it("a transfer leaves the giver's Mine and enters the taker's, keeping what the list knew", () => {
    const c1 = { ...conv("c1"), customerName: "Vera", unread: 2 };
    const ada = setup("ada", { mine: [c1, conv("c22")], all: [c1] });
    const bob = setup("bob", { mine: [conv("c333", { assigneeId: "bob" })], waiting: [] });
    const moved = { id: "c1", status: "active" as const, customerId: "cu-c1", assigneeId: "bob", createdAt: c1.createdAt, updatedAt: c1.updatedAt, lastMessageAt: "2026-01-01T11:00:00Z", lastSeq: 3, lastMessagePreview: "You are now talking to Bob." };
    ada.frame("transferred", moved);
    bob.frame("transferred", moved);
    expect(ada.ids("mine")).toEqual(["c22"]);
    expect(ada.total("mine")).toBe(1);
    expect(ada.ids("all")).toEqual(["c1"]);
    expect(bob.ids("mine")).toEqual(["c1", "c333"]);
    expect(bob.total("mine")).toBe(2);
    expect(bob.ids("waiting")).toEqual([]);
  });

  it("returned to the queue: no assignee (left out of the frame), waiting again", () => {
    const s = setup("ada", { mine: [conv("c1")], waiting: [], all: [conv("c1")] });
    s.frame("assigned", { id: "c1", status: "waiting", customerId: "cu-c1", createdAt: "2026-01-01T10:00:00Z", updatedAt: "x", lastSeq: 1, lastMessagePreview: "" });
    expect(s.ids("mine")).toEqual([]);
    expect(s.ids("waiting")).toEqual(["c1"]);
    expect(s.ids("all")).toEqual(["c1"]);
  });

  it("closed, then deleted", () => {
    const s = setup("ada", { mine: [conv("c1")], closed: [] });
    s.frame("status", { ...conv("c1"), status: "closed", closedAt: "2026-01-01T12:00:00Z" });
    expect(s.ids("mine")).toEqual([]);
    expect(s.ids("closed")).toEqual(["c1"]);
    s.frame("deleted", { ...conv("c1"), status: "closed" });
    expect(s.ids("closed")).toEqual([]);
  });
});

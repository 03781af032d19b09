import { describe, expect, it } from "vitest";
import type { QuickReply } from "../../shared/types";
import { matchReplies, replaceQuery, slashQuery } from "./slash";

const qr = (shortcut: string, text: string, shared = false): QuickReply => ({ id: shortcut, shortcut, text, shared, ownerId: shared ? null : "me", createdAt: "", updatedAt: "" });

describe("slashQuery", () => {
  it.each([
    ["/", 1, { start: 0, end: 1, query: "" }],
    ["/ref", 4, { start: 0, end: 4, query: "ref" }],
    ["Hello /Ref", 10, { start: 6, end: 10, query: "ref" }],
    ["line\n/thanks", 12, { start: 5, end: 12, query: "thanks" }],
    ["a /b.c-d_e/f", 12, { start: 2, end: 12, query: "b.c-d_e/f" }],
    ["http://example.com", 18, null],
    ["and/or", 6, null],
    ["/abc", 2, null],
    ["/ab then", 3, { start: 0, end: 3, query: "ab" }],
    ["no slash", 8, null],
  ])("%j at %i", (text, caret, want) => expect(slashQuery(text, caret)).toEqual(want));
});

describe("matchReplies", () => {
  const all = [qr("refund", "We refund within 14 days", true), qr("thanks", "Thank you!"), qr("/hello", "Hi {{customer.name}}"), qr("greet-refund", "x"), qr("bye", "About refunds: ...")];
  it("ranks shortcut prefixes, then shortcut parts, then texts", () => {
    expect(matchReplies(all, "ref").map((r) => r.shortcut)).toEqual(["refund", "greet-refund", "bye"]);
  });
  it("matches a shortcut written with its own slash", () => {
    expect(matchReplies(all, "hel").map((r) => r.shortcut)).toEqual(["/hello"]);
  });
  it("lists everything for a bare slash, personal first", () => {
    expect(matchReplies(all, "").map((r) => r.shortcut)).toEqual(["/hello", "bye", "greet-refund", "thanks", "refund"]);
  });
  it("finds nothing for no match", () => expect(matchReplies(all, "zzz")).toEqual([]));
});

it("replaceQuery puts the text where the word was", () => {
  const q = slashQuery("Hi /th there", 6)!;
  expect(replaceQuery("Hi /th there", q, "Thank you!")).toEqual({ text: "Hi Thank you! there", caret: 13 });
});

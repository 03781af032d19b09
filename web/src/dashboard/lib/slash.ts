// The "/" of the composer: a word starting with "/" that the caret ends
// (at the start of the text or after white space) asks for a quick reply.

import type { QuickReply } from "../../shared/types";

export interface SlashQuery {
  /** Where the "/" is. */
  start: number;
  /** The caret: the end of the word. */
  end: number;
  /** What follows the "/", lower-cased. */
  query: string;
}

const WORD = /(^|\s)\/([\w\-./]*)$/;

/** The quick-reply word the caret is in, or null. */
export function slashQuery(text: string, caret: number): SlashQuery | null {
  const before = text.slice(0, caret);
  const m = WORD.exec(before);
  if (!m) return null;
  // The word must end at the caret: "/ab|c" is not a query for "ab".
  if (caret < text.length && /[\w\-./]/.test(text[caret])) return null;
  const start = caret - m[2].length - 1;
  return { start, end: caret, query: m[2].toLowerCase() };
}

/** A shortcut as typed after the "/": without a leading slash of its own. */
export function bareShortcut(s: string): string {
  return s.replace(/^\/+/, "");
}

/**
 * The replies that match q, best first: shortcuts starting with it, then
 * shortcuts containing it, then texts containing it; personal before shared
 * at equal rank, then by shortcut.
 */
export function matchReplies(all: QuickReply[], q: string, limit = 8): QuickReply[] {
  const query = bareShortcut(q.toLowerCase());
  const rank = (r: QuickReply) => {
    const s = bareShortcut(r.shortcut.toLowerCase());
    if (!query) return 0;
    if (s.startsWith(query)) return 0;
    if (s.includes(query)) return 1;
    if (r.text.toLowerCase().includes(query)) return 2;
    return -1;
  };
  return all
    .map((r) => ({ r, k: rank(r) }))
    .filter((x) => x.k >= 0)
    .sort((a, b) => a.k - b.k || Number(a.r.shared) - Number(b.r.shared) || a.r.shortcut.localeCompare(b.r.shortcut))
    .slice(0, limit)
    .map((x) => x.r);
}

/** The text with the query's word replaced by insert, and where the caret goes. */
export function replaceQuery(text: string, q: SlashQuery, insert: string): { text: string; caret: number } {
  const next = text.slice(0, q.start) + insert + text.slice(q.end);
  return { text: next, caret: q.start + insert.length };
}

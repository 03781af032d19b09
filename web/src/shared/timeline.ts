// A conversation's messages as a client holds them, by seq (docs/protocol.md):
// a message at or below the highest seq held is a repeat and is ignored, so
// nothing is ever shown twice whatever mix of REST pages, resumes and live
// frames brought it. Agents see every seq, so a jump (seq > held + 1) is a
// gap: the caller resumes from the held seq to fill it. Customers do not see
// private notes, so for them seqs may jump and a jump is not a gap.

import type { Message } from "./types";

export type ApplyResult = "added" | "repeat" | "gap";

export class Timeline {
  /** Messages in seq order, no seq twice. */
  messages: Message[] = [];
  /** The highest seq held (0 when none). */
  held = 0;

  constructor(private strictSeq: boolean) {}

  /**
   * Applies one live or resumed message. "gap" means the message was not
   * applied because earlier ones are missing: resume from `held`.
   */
  apply(m: Message): ApplyResult {
    if (m.seq <= this.held) return "repeat";
    if (this.strictSeq && this.held > 0 && m.seq > this.held + 1) return "gap";
    this.messages.push(m);
    this.held = m.seq;
    return "added";
  }

  /**
   * Merges a page fetched over REST (any range, any order): it fills in
   * older messages and may extend the newest. Seqs already held are kept as
   * they are.
   */
  merge(page: Message[]) {
    if (page.length === 0) return;
    const bySeq = new Map<number, Message>();
    for (const m of this.messages) bySeq.set(m.seq, m);
    for (const m of page) if (!bySeq.has(m.seq)) bySeq.set(m.seq, m);
    this.messages = Array.from(bySeq.values()).sort((a, b) => a.seq - b.seq);
    this.held = Math.max(this.held, this.messages[this.messages.length - 1].seq);
  }

  /** The lowest seq held, or 0. */
  get first(): number {
    return this.messages.length ? this.messages[0].seq : 0;
  }

  hasClientMessage(id: string): boolean {
    return this.messages.some((m) => m.clientMessageId === id);
  }
}

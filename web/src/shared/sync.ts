// One conversation kept in step with the server over a socket: resume from
// the highest seq held on every (re)connect, merge what arrives by seq, and
// send the outbox with stable clientMessageIds until each is acknowledged.

import type { Outbox, OutboxEntry } from "./outbox";
import { Timeline } from "./timeline";
import type { Message, ServerFrame } from "./types";

/** Error codes after which resending the same message cannot succeed. */
const FINAL = new Set(["invalid", "forbidden", "not_found", "conflict", "too_large", "unauthorized"]);

/** How long to wait for an ack before sending the same message again. */
export const RESEND_AFTER = 8_000;

export interface SyncOptions {
  conversationId: string;
  outbox: Outbox;
  /** Sends a frame on the socket; false when it is not connected. */
  send: (frame: Record<string, unknown>) => boolean;
  /** Agents see every seq; customers do not see notes (seq may jump). */
  strictSeq: boolean;
  onChange: () => void;
  now?: () => number;
}

export class ConversationSync {
  readonly timeline: Timeline;
  readonly conversationId: string;
  /** True between our resume and the socket going away. */
  live = false;
  /** The last error of the subscription itself (e.g. not_found). */
  error: string | null = null;
  private sentAt = new Map<string, number>();
  private now: () => number;

  constructor(private opts: SyncOptions) {
    this.conversationId = opts.conversationId;
    this.timeline = new Timeline(opts.strictSeq);
    this.now = opts.now ?? Date.now;
  }

  /** Call when the socket is ready (after every reconnect). */
  connected() {
    this.sentAt.clear();
    this.resume();
    this.flush();
  }

  /** Call when the socket closed. */
  disconnected() {
    this.live = false;
    this.sentAt.clear();
    this.opts.onChange();
  }

  resume() {
    this.opts.send({ type: "resume", conversationId: this.conversationId, lastSeq: this.timeline.held, ref: "resume" });
  }

  /** Adds REST history (older messages, or the newest page before resuming). */
  merge(page: Message[]) {
    this.timeline.merge(page);
    this.settle();
    this.opts.onChange();
  }

  /** Queues a message and sends it when it can. */
  post(content: string, note = false): OutboxEntry {
    const e = this.opts.outbox.add(this.conversationId, content, note);
    this.sendEntry(e);
    this.opts.onChange();
    return e;
  }

  /** Sends every unacked entry not sent in the last RESEND_AFTER ms. */
  flush(force = false) {
    const t = this.now();
    for (const e of this.opts.outbox.unsent(this.conversationId)) {
      const at = this.sentAt.get(e.clientMessageId);
      if (!force && at !== undefined && t - at < RESEND_AFTER) continue;
      this.sendEntry(e);
    }
  }

  private sendEntry(e: OutboxEntry) {
    const frame: Record<string, unknown> = {
      type: "send",
      conversationId: this.conversationId,
      clientMessageId: e.clientMessageId,
      content: e.content,
      ref: e.clientMessageId,
    };
    if (e.note) frame.note = true;
    if (this.opts.send(frame)) this.sentAt.set(e.clientMessageId, this.now());
  }

  private settle() {
    const ids = new Set<string>();
    for (const m of this.timeline.messages) if (m.clientMessageId) ids.add(m.clientMessageId);
    this.opts.outbox.settle((id) => ids.has(id));
  }

  /** Handles a frame of this conversation. Returns true when it was one. */
  handle(f: ServerFrame): boolean {
    switch (f.type) {
      case "message": {
        if (f.conversationId !== this.conversationId) return false;
        const { type: _t, ...rest } = f;
        // Frames leave out empty fields (a file without a caption has no content).
        const m = { ...rest, content: rest.content ?? "", attachments: rest.attachments ?? [] } as Message;
        const r = this.timeline.apply(m);
        if (r === "gap") this.resume();
        if (r === "added") {
          if (m.clientMessageId) this.opts.outbox.settle((id) => id === m.clientMessageId);
          this.opts.onChange();
        }
        return true;
      }
      case "ack": {
        if (f.conversationId !== this.conversationId) return false;
        this.sentAt.delete(f.clientMessageId);
        if (this.timeline.hasClientMessage(f.clientMessageId)) this.opts.outbox.remove(f.clientMessageId);
        else this.opts.outbox.ack(f.clientMessageId, f.seq, f.messageId);
        this.opts.onChange();
        return true;
      }
      case "resumed": {
        if (f.conversationId !== this.conversationId) return false;
        this.live = true;
        this.error = null;
        this.opts.onChange();
        return true;
      }
      case "error": {
        if (f.conversationId !== this.conversationId) return false;
        if (f.clientMessageId) {
          this.sentAt.delete(f.clientMessageId);
          if (FINAL.has(f.code)) this.opts.outbox.fail(f.clientMessageId, f.message || f.code);
          // Otherwise (rate_limited, unavailable, internal) the next flush resends it.
        } else {
          this.live = false;
          this.error = f.code;
        }
        this.opts.onChange();
        return true;
      }
    }
    return false;
  }

  /** What to show: the timeline, then the outbox entries not yet in it. */
  pending(): OutboxEntry[] {
    return this.opts.outbox.all().filter((e) => e.conversationId === this.conversationId && !this.timeline.hasClientMessage(e.clientMessageId));
  }
}

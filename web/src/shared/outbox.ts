// Messages typed but not yet acknowledged by the server. Each keeps the
// clientMessageId it was given when typed, across retries, reconnects and
// reloads (the outbox is saved in storage), so the server stores it once
// whatever happens: a retry of a stored message gets the original ack.

import { uuid } from "./api";

export interface OutboxEntry {
  clientMessageId: string;
  /** Empty until the conversation exists (a first message typed offline). */
  conversationId: string;
  content: string;
  note?: boolean;
  createdAt: string;
  /** Set when the server refused it for good (e.g. the chat was closed). */
  failed?: string;
  /** Set once acked: seq and id of the stored message, until it shows in the timeline. */
  seq?: number;
  messageId?: string;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

export class Outbox {
  private entries: OutboxEntry[] = [];
  private listeners = new Set<() => void>();

  constructor(
    private storage: StorageLike | null,
    private key: string,
  ) {
    if (storage) {
      try {
        const raw = storage.getItem(key);
        const parsed = raw ? JSON.parse(raw) : [];
        if (Array.isArray(parsed)) this.entries = parsed.filter((e) => e && typeof e.clientMessageId === "string");
      } catch {
        this.entries = [];
      }
    }
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed() {
    if (this.storage) {
      try {
        // Acked entries need not survive a reload: the timeline has them then.
        const keep = this.entries.filter((e) => e.seq === undefined);
        if (keep.length) this.storage.setItem(this.key, JSON.stringify(keep));
        else this.storage.removeItem(this.key);
      } catch {
        /* storage full or blocked: the outbox still works for this page */
      }
    }
    for (const fn of this.listeners) fn();
  }

  all(): OutboxEntry[] {
    return this.entries;
  }

  add(conversationId: string, content: string, note = false): OutboxEntry {
    const e: OutboxEntry = { clientMessageId: uuid(), conversationId, content, createdAt: new Date().toISOString() };
    if (note) e.note = true;
    this.entries = [...this.entries, e];
    this.changed();
    return e;
  }

  /** Entries to (re)send for a conversation, oldest first: not acked, not failed. */
  unsent(conversationId: string): OutboxEntry[] {
    return this.entries.filter((e) => e.conversationId === conversationId && e.seq === undefined && !e.failed);
  }

  /** Gives entries typed before the conversation existed their conversation. */
  adopt(conversationId: string) {
    if (!this.entries.some((e) => !e.conversationId)) return;
    this.entries = this.entries.map((e) => (e.conversationId ? e : { ...e, conversationId }));
    this.changed();
  }

  /** Records the server's ack. Returns false for an id it does not hold. */
  ack(clientMessageId: string, seq: number, messageId: string): boolean {
    const i = this.entries.findIndex((e) => e.clientMessageId === clientMessageId);
    if (i < 0) return false;
    this.entries = this.entries.map((e, j) => (j === i ? { ...e, seq, messageId, failed: undefined } : e));
    this.changed();
    return true;
  }

  fail(clientMessageId: string, reason: string) {
    this.entries = this.entries.map((e) => (e.clientMessageId === clientMessageId ? { ...e, failed: reason } : e));
    this.changed();
  }

  /** Puts a failed entry back in line (the user pressed "try again"). */
  retry(clientMessageId: string) {
    this.entries = this.entries.map((e) => (e.clientMessageId === clientMessageId ? { ...e, failed: undefined } : e));
    this.changed();
  }

  /** Drops entries the timeline now shows (matched by clientMessageId). */
  settle(shown: (clientMessageId: string) => boolean) {
    const next = this.entries.filter((e) => !shown(e.clientMessageId));
    if (next.length !== this.entries.length) {
      this.entries = next;
      this.changed();
    }
  }

  remove(clientMessageId: string) {
    this.entries = this.entries.filter((e) => e.clientMessageId !== clientMessageId);
    this.changed();
  }

  /** Drops everything of a conversation (a new chat was started). */
  clear(conversationId?: string) {
    this.entries = conversationId ? this.entries.filter((e) => e.conversationId !== conversationId) : [];
    this.changed();
  }
}

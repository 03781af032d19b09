// The dashboard's one socket: the inbox subscription (conversation and
// activity frames patch the cached lists, then the lists are refetched), and
// the conversations open on screen, each a ConversationSync resumed from its
// highest seq after every reconnect.

import { createContext, useContext, useEffect, useState, useSyncExternalStore, type ReactNode } from "react";
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { Outbox } from "../../shared/outbox";
import { ParleySocket, socketURL, type SocketState } from "../../shared/socket";
import { ConversationSync } from "../../shared/sync";
import { chime } from "../../shared/chime";
import type { Conversation, ConversationPage, ServerFrame } from "../../shared/types";
import type { View } from "./queries";
import { Uploads } from "../../shared/upload";
import { csrf, useSession } from "./session";

type Listener = (f: ServerFrame) => void;

function storage(): Storage | null {
  try {
    return window.localStorage;
  } catch {
    return null;
  }
}

export class Live {
  state: SocketState = "connecting";
  everOpen = false;
  /** Bumped on every change of state or of an open conversation. */
  version = 0;
  /** The conversation on screen: its activity does not count as unread. */
  viewing: string | null = null;
  readonly outbox = new Outbox(storage(), "parley.agent.outbox");
  /** Files on their way, from every chat on screen. */
  readonly uploads = new Uploads({ csrf, onChange: () => this.settleUploads() });
  private socket: ParleySocket;
  private syncs = new Map<string, { sync: ConversationSync; refs: number }>();
  private listeners = new Set<Listener>();
  private subs = new Set<() => void>();
  private refetch: ReturnType<typeof setTimeout> | null = null;
  private flushTimer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private qc: QueryClient,
    private me = "",
  ) {
    this.socket = new ParleySocket({
      url: socketURL(),
      onReady: () => {
        this.socket.send({ type: "subscribe", inbox: true, ref: "inbox" });
        for (const { sync } of this.syncs.values()) sync.connected();
        // Whatever changed while we were away: fetch the lists again.
        if (this.everOpen) this.scheduleRefetch(0);
        this.everOpen = true;
        this.changed();
      },
      onFrame: (f) => this.onFrame(f),
      onState: (s, code) => {
        this.state = s;
        // The session ended (signed out elsewhere, password changed): sign in again.
        if (s === "closed" && code === 4401) void this.qc.invalidateQueries({ queryKey: ["me"] });
        if (s !== "open") for (const { sync } of this.syncs.values()) sync.disconnected();
        this.changed();
      },
    });
  }

  start() {
    this.socket.start();
    this.flushTimer = setInterval(() => {
      for (const { sync } of this.syncs.values()) sync.flush();
    }, 2_000);
  }

  stop() {
    this.socket.stop();
    if (this.flushTimer) clearInterval(this.flushTimer);
  }

  subscribe = (fn: () => void) => {
    this.subs.add(fn);
    return () => {
      this.subs.delete(fn);
    };
  };
  getVersion = () => this.version;

  private settleUploads() {
    for (const { sync } of this.syncs.values()) this.uploads.settle((id) => sync.timeline.hasClientMessage(id));
    this.changed();
  }

  private changed() {
    this.version++;
    for (const fn of this.subs) fn();
  }

  on(fn: Listener) {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  send(frame: Record<string, unknown>) {
    return this.socket.send(frame);
  }

  /** The sync of a conversation on screen; release it when done. */
  open(conversationId: string): ConversationSync {
    let e = this.syncs.get(conversationId);
    if (!e) {
      const sync = new ConversationSync({
        conversationId,
        outbox: this.outbox,
        send: (f) => this.socket.send(f),
        strictSeq: true,
        onChange: () => {
          this.uploads.settle((id) => sync.timeline.hasClientMessage(id));
          this.changed();
        },
      });
      e = { sync, refs: 0 };
      this.syncs.set(conversationId, e);
    }
    e.refs++;
    return e.sync;
  }

  /** Starts the live part once the REST history is merged. */
  connect(sync: ConversationSync) {
    if (this.socket.isReady) sync.connected();
  }

  release(conversationId: string) {
    const e = this.syncs.get(conversationId);
    if (!e) return;
    if (--e.refs <= 0) {
      this.syncs.delete(conversationId);
      this.socket.send({ type: "unsubscribe", conversationId });
    }
  }

  markRead(conversationId: string, seq: number) {
    this.socket.send({ type: "read", conversationId, seq });
    this.patch(conversationId, (c) => ({ ...c, unread: 0 }));
  }

  private onFrame(f: ServerFrame) {
    const cid = "conversationId" in f ? f.conversationId : undefined;
    if (cid) this.syncs.get(cid)?.sync.handle(f);
    switch (f.type) {
      case "conversation": {
        // The frame leaves out what is empty: no assignee, not closed.
        const next: Conversation = { ...f.conversation, assigneeId: f.conversation.assigneeId ?? null, closedAt: f.conversation.closedAt ?? null };
        this.qc.setQueryData<Conversation>(["conversation", f.conversationId], (old) => (old ? { ...old, ...next } : old));
        this.patch(f.conversationId, (c) => ({ ...c, ...next, unread: c.unread }));
        this.move(next, f.change === "deleted");
        if (f.change === "created" && f.conversation.status === "waiting") this.announce(f.conversation);
        if (f.change === "deleted") this.qc.removeQueries({ queryKey: ["conversation", f.conversationId] });
        if (f.change === "transferred" || f.change === "assigned" || f.change === "claimed" || f.change === "auto_assigned") void this.qc.invalidateQueries({ queryKey: ["transfers", f.conversationId] });
        if (f.change === "rated" || f.change === "status") void this.qc.invalidateQueries({ queryKey: ["rating", f.conversationId] });
        this.scheduleRefetch();
        break;
      }
      case "activity": {
        const mine = f.conversationId === this.viewing && document.visibilityState === "visible";
        this.patch(f.conversationId, (c) => ({
          ...c,
          lastMessagePreview: f.kind === "note" ? c.lastMessagePreview : f.preview,
          lastMessageAt: f.createdAt,
          lastSeq: Math.max(c.lastSeq, f.seq),
          unread: f.senderType === "customer" && !mine ? (c.unread ?? 0) + 1 : c.unread,
        }));
        this.qc.setQueryData<Conversation>(["conversation", f.conversationId], (old) => (old ? { ...old, lastSeq: Math.max(old.lastSeq, f.seq) } : old));
        this.scheduleRefetch();
        break;
      }
    }
    for (const fn of this.listeners) fn(f);
  }

  /**
   * Puts a changed conversation in the views it now belongs to and takes it
   * out of the others, at once: the refetch that follows confirms it, but a
   * transfer or an assignment shows without waiting for it.
   */
  private move(next: Conversation, gone: boolean) {
    let known: Conversation | undefined;
    for (const [, page] of this.qc.getQueriesData<ConversationPage>({ queryKey: ["conversations"] })) {
      known = known ?? page?.conversations?.find((c) => c.id === next.id);
    }
    const open = next.status === "waiting" || next.status === "active";
    const belongs: Record<View, boolean> = {
      waiting: next.status === "waiting",
      mine: open && !!this.me && next.assigneeId === this.me,
      all: open,
      closed: next.status === "closed",
    };
    for (const view of Object.keys(belongs) as View[]) {
      this.qc.setQueryData<ConversationPage>(["conversations", view], (page) => {
        if (!page) return page;
        const has = page.conversations.some((c) => c.id === next.id);
        const want = belongs[view] && !gone;
        if (has === want) return page;
        if (!want) return { ...page, conversations: page.conversations.filter((c) => c.id !== next.id), totalCount: Math.max(0, page.totalCount - 1) };
        const row: Conversation = { ...known, ...next, assigneeId: next.assigneeId ?? null, unread: known?.unread ?? 0 };
        const at = (c: Conversation) => c.lastMessageAt ?? c.createdAt;
        const conversations = [row, ...page.conversations].sort((a, b) => at(b).localeCompare(at(a)));
        return { ...page, conversations, totalCount: page.totalCount + 1 };
      });
    }
  }

  /** Applies a change to the conversation wherever a cached list holds it. */
  private patch(id: string, fn: (c: Conversation) => Conversation) {
    this.qc.setQueriesData<ConversationPage>({ queryKey: ["conversations"] }, (page) => {
      if (!page || !page.conversations.some((c) => c.id === id)) return page;
      return { ...page, conversations: page.conversations.map((c) => (c.id === id ? fn(c) : c)) };
    });
  }

  private scheduleRefetch(delay = 300) {
    if (this.refetch) clearTimeout(this.refetch);
    this.refetch = setTimeout(() => {
      this.refetch = null;
      void this.qc.invalidateQueries({ queryKey: ["conversations"] });
    }, delay);
  }

  private announce(c: Conversation) {
    if (localStorage.getItem("parley.sound") !== "off") chime();
    if (typeof Notification !== "undefined" && Notification.permission === "granted" && document.visibilityState !== "visible") {
      try {
        const n = new Notification("New chat waiting", { body: c.lastMessagePreview || "A visitor started a chat.", tag: c.id });
        n.onclick = () => {
          window.focus();
          window.history.pushState(null, "", "/admin/chat/" + c.id);
          window.dispatchEvent(new PopStateEvent("popstate"));
        };
      } catch {
        /* some browsers only allow notifications from a service worker */
      }
    }
  }
}

const Ctx = createContext<Live | null>(null);

export function LiveProvider({ children }: { children: ReactNode }) {
  const qc = useQueryClient();
  const { user } = useSession();
  const [live] = useState(() => new Live(qc, user.id));
  useEffect(() => {
    live.start();
    return () => live.stop();
  }, [live]);
  return <Ctx.Provider value={live}>{children}</Ctx.Provider>;
}

export function useLive(): Live {
  const l = useContext(Ctx);
  if (!l) throw new Error("useLive outside LiveProvider");
  useSyncExternalStore(l.subscribe, l.getVersion);
  return l;
}

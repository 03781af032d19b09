// The widget's state and everything it does, apart from drawing: the
// visitor's identity (token kept in this origin's localStorage, or a
// partitioned cookie where a host site's frame gets no storage: see
// storage.ts; sent only in the Authorization header and the socket's auth
// frame), the conversation, the socket, the outbox and the files on their
// way, typing, unread counts, the rating of a closed chat and the talk with
// the host page (postMessage, exact origin).

import { ApiError, makeApi } from "../shared/api";
import { download } from "../shared/files";
import { Outbox } from "../shared/outbox";
import { ParleySocket, socketURL, type SocketState } from "../shared/socket";
import { ConversationSync } from "../shared/sync";
import { defaultWidgetConfig, type Conversation, type Message, type Rating, type ServerFrame, type WidgetConfig } from "../shared/types";
import { Uploads } from "../shared/upload";
import { widgetStorage } from "./storage";

const TOKEN_KEY = "parley.visitor";
const OUTBOX_KEY = "parley.outbox";
const READ_KEY = "parley.read.";
const TYPING_REPEAT = 3_000; // repeat "start" while typing (the server forwards one per 2 s)
const TYPING_IDLE = 5_000; // stop after this long without a key
const TYPING_EXPIRE = 6_000; // an indicator not refreshed for this long goes away

export interface Visitor {
  visitorId: string;
  token: string;
}

export interface HostInfo {
  pageUrl: string;
  pageTitle: string;
  referrer: string;
}

export type Phase = "loading" | "intro" | "chat";

/** The rating of the conversation shown, once it is closed. */
export type RatingState = { state: "none" } | { state: "loading" } | { state: "ask" } | { state: "sending" } | { state: "done"; rating: Rating } | { state: "unavailable" };

const CONFIG_EVERY = 60_000; // how often the away state is asked again

export class WidgetController {
  config: WidgetConfig = defaultWidgetConfig;
  phase: Phase = "loading";
  visitor: Visitor | null = null;
  conversation: Conversation | null = null;
  sync: ConversationSync | null = null;
  connection: SocketState = "closed";
  online = typeof navigator === "undefined" ? true : navigator.onLine;
  open: boolean;
  agentTyping: { name: string; until: number } | null = null;
  agentNames = new Map<string, string>();
  agentPresent = false;
  agentReadSeq = 0;
  unread = 0;
  error: string | null = null;
  emailSaved = "";
  rating: RatingState = { state: "none" };
  ratingError: string | null = null;
  /** Bumped on every change, for useSyncExternalStore. */
  version = 0;

  readonly framed: boolean;
  readonly hostOrigin: string | null;
  private host: HostInfo | null = null;
  private contextSent = false;
  private store = widgetStorage();
  private storage = this.store.storage;
  /** Where the identity is kept: "cookie" on a host site whose frames get no storage. */
  readonly storageKind = this.store.kind;
  readonly outbox = new Outbox(this.storage, OUTBOX_KEY);
  readonly uploads = new Uploads({ token: () => this.visitor?.token ?? null, onChange: () => this.afterUploadChange() });
  private socket: ParleySocket | null = null;
  private listeners = new Set<() => void>();
  private typingSentAt = 0;
  private typingStopTimer: ReturnType<typeof setTimeout> | null = null;
  private typingExpireTimer: ReturnType<typeof setTimeout> | null = null;
  private flushTimer: ReturnType<typeof setInterval> | null = null;
  private starting: Promise<void> | null = null;
  private reloadWhenOnline = false;
  private readSeq = 0;
  private api = makeApi({ token: () => this.visitor?.token ?? null });

  constructor() {
    this.framed = window.parent !== window;
    const m = /(?:^|[#&])host=([^&]+)/.exec(location.hash);
    let origin: string | null = null;
    if (m) {
      try {
        origin = new URL(decodeURIComponent(m[1])).origin;
      } catch {
        origin = null;
      }
    }
    // Where the browser says who embeds us, trust that over the address.
    const ancestors = (location as Location & { ancestorOrigins?: DOMStringList }).ancestorOrigins;
    if (ancestors && ancestors.length > 0) origin = ancestors[0];
    this.hostOrigin = this.framed ? origin : null;
    this.open = !this.framed;
    try {
      const raw = this.storage?.getItem(TOKEN_KEY);
      const v = raw ? JSON.parse(raw) : null;
      if (v && typeof v.token === "string" && typeof v.visitorId === "string") this.visitor = v;
    } catch {
      this.visitor = null;
    }
    this.outbox.subscribe(() => this.changed());
  }

  subscribe = (fn: () => void) => {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  };

  getVersion = () => this.version;

  private changed() {
    this.version++;
    for (const fn of this.listeners) fn();
  }

  // --- start ---

  async init() {
    window.addEventListener("message", this.onHostMessage);
    window.addEventListener("online", this.onNetwork);
    window.addEventListener("offline", this.onNetwork);
    document.addEventListener("visibilitychange", () => this.markRead());
    if (!this.framed) this.host = { pageUrl: location.href, pageTitle: document.title, referrer: document.referrer };
    await this.loadConfig();
    // Agents come and go: ask again now and then whether anyone is there.
    setInterval(() => {
      if (document.visibilityState !== "hidden") void this.loadConfig().then(() => this.changed());
    }, CONFIG_EVERY);
    await this.loadConversation();
    if (this.phase === "loading") this.phase = "intro";
    // Something typed offline before the chat existed: send it now.
    if (!this.conversation && this.outbox.all().some((e) => !e.conversationId)) void this.ensureChat();
    this.changed();
    this.toHost({ type: "ready", color: this.config.color, position: this.config.position, title: this.config.title });
    this.sendContext();
  }

  private async loadConfig() {
    try {
      const c = await this.api<Partial<WidgetConfig>>("GET", "/api/widget/config");
      this.config = { ...defaultWidgetConfig, ...c };
    } catch {
      // Offline or the server is down: keep what we have (the defaults at first).
    }
  }

  /** A returning visitor's latest conversation. Offline, it is tried again when back. */
  private async loadConversation() {
    if (!this.visitor || this.conversation) return;
    this.reloadWhenOnline = false;
    try {
      const page = await this.api<{ conversations: Conversation[] }>("GET", "/api/conversations?limit=1");
      const c = page.conversations[0];
      if (c && !this.conversation) await this.enter(c);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.forgetVisitor();
      else if (e instanceof ApiError && e.code === "network") this.reloadWhenOnline = true;
    }
  }

  private forgetVisitor() {
    this.visitor = null;
    this.storage?.removeItem(TOKEN_KEY);
  }

  /** Shows a conversation: its history over REST, then live over the socket. */
  private async enter(c: Conversation) {
    this.sync?.disconnected();
    this.conversation = c;
    this.phase = "chat";
    this.agentPresent = false;
    this.agentReadSeq = 0;
    this.rating = { state: "none" };
    this.ratingError = null;
    this.readSeq = Number(this.storage?.getItem(READ_KEY + c.id) ?? 0) || 0;
    const sync = new ConversationSync({
      conversationId: c.id,
      outbox: this.outbox,
      send: (f) => this.socket?.send(f) ?? false,
      strictSeq: false,
      onChange: () => this.afterTimelineChange(),
    });
    this.sync = sync;
    if (c.status !== "closed") this.outbox.adopt(c.id);
    if (c.lastSeq > 0) {
      try {
        const page = await this.api<{ messages: Message[] }>("GET", `/api/conversations/${c.id}/messages?before=${c.lastSeq + 1}&limit=200`);
        if (this.sync === sync) {
          this.learnNames(page.messages);
          sync.merge(page.messages);
        }
      } catch {
        /* the socket's resume brings them */
      }
    }
    this.connect();
    if (this.socket?.isReady) sync.connected();
    if (c.status === "closed") void this.loadRating();
    this.changed();
  }

  private connect() {
    if (this.socket) return;
    this.socket = new ParleySocket({
      url: socketURL(),
      token: () => this.visitor?.token ?? null,
      onReady: () => {
        this.sync?.connected();
      },
      onFrame: (f) => this.onFrame(f),
      onState: (s, code) => {
        this.connection = s;
        if (s !== "open") this.sync?.disconnected();
        if (s === "closed" && code === 4401) {
          // The token no longer works (the visitor was removed): start over.
          this.forgetVisitor();
          this.socket = null;
          this.conversation = null;
          this.sync = null;
          this.phase = "intro";
        }
        this.changed();
      },
    });
    this.socket.start();
    if (!this.flushTimer) this.flushTimer = setInterval(() => this.sync?.flush(), 2_000);
  }

  private onNetwork = () => {
    this.online = navigator.onLine;
    if (this.online && this.reloadWhenOnline) {
      void this.loadConversation().then(() => {
        if (this.conversation?.status !== "closed" && this.conversation) return this.changed();
        if (this.outbox.all().some((e) => !e.conversationId)) void this.ensureChat();
        this.changed();
      });
    } else if (this.online && !this.conversation && this.outbox.all().length) void this.ensureChat();
    this.changed();
  };

  // --- visitor actions ---

  /** Creates the visitor (if needed) and the conversation. */
  ensureChat(info: { name?: string; email?: string } = {}): Promise<void> {
    if (this.conversation && this.conversation.status !== "closed") return Promise.resolve();
    if (this.starting) return this.starting;
    this.starting = (async () => {
      try {
        this.error = null;
        if (!this.visitor) {
          const body: Record<string, string> = {};
          if (info.name) body.name = info.name;
          if (info.email) body.email = info.email;
          const v = await this.api<Visitor>("POST", "/api/visitors", body);
          this.visitor = { visitorId: v.visitorId, token: v.token };
          try {
            this.storage?.setItem(TOKEN_KEY, JSON.stringify(this.visitor));
          } catch {
            /* this page only */
          }
          this.sendContext();
        } else if (info.name || info.email) {
          await this.patchMe({ name: info.name || undefined, email: info.email || undefined });
        }
        const c = await this.api<Conversation>("POST", "/api/conversations", {});
        await this.enter(c);
      } catch (e) {
        // Offline: what was typed waits in the outbox; we retry when back.
        if (!(e instanceof ApiError && e.code === "network")) this.error = e instanceof ApiError ? e.message : "error";
        this.changed();
      } finally {
        this.starting = null;
      }
    })();
    return this.starting;
  }

  /** Sends a message; before the chat exists it waits in the outbox. */
  send(text: string) {
    const content = text.trim();
    if (!content) return;
    this.stopTyping();
    if (this.sync && this.conversation?.status !== "closed") {
      this.sync.post(content);
    } else {
      this.outbox.add("", content);
      void this.ensureChat();
    }
    this.changed();
  }

  retry(clientMessageId: string) {
    this.outbox.retry(clientMessageId);
    this.sync?.flush(true);
  }

  /** Sends files (the attach button, a drop, a paste), each as its own message. */
  async attach(files: File[]) {
    if (!files.length) return;
    if (!this.conversation || this.conversation.status === "closed") await this.ensureChat();
    const c = this.conversation;
    if (!c || c.status === "closed") return;
    for (const f of files) await this.uploads.add(c.id, f);
    this.changed();
  }

  private afterUploadChange() {
    const t = this.sync?.timeline;
    if (t) this.uploads.settle((id) => t.hasClientMessage(id));
    this.changed();
  }

  /** Saves the visitor's own transcript (no notes, nothing internal). */
  async downloadTranscript(): Promise<boolean> {
    const c = this.conversation;
    if (!c) return false;
    try {
      await download(`/api/conversations/${c.id}/export?format=pdf`, this.visitor?.token ?? null, `chat-${c.id.slice(-8)}.pdf`);
      return true;
    } catch {
      return false;
    }
  }

  // --- rating ---

  private async loadRating() {
    const c = this.conversation;
    if (!c || this.rating.state !== "none") return;
    this.rating = { state: "loading" };
    try {
      const r = await this.api<{ rating: Rating | null }>("GET", `/api/conversations/${c.id}/rating`);
      if (this.conversation?.id !== c.id) return;
      this.rating = r.rating ? { state: "done", rating: r.rating } : { state: "ask" };
    } catch {
      // Offline, or a server that does not take ratings: ask nothing.
      if (this.conversation?.id !== c.id) return;
      this.rating = { state: "unavailable" };
    }
    this.changed();
  }

  /** Rates the closed conversation, once: 1 to 5, with an optional comment. */
  async rate(score: number, comment: string) {
    const c = this.conversation;
    if (!c || this.rating.state !== "ask") return;
    this.rating = { state: "sending" };
    this.ratingError = null;
    this.changed();
    try {
      const body: Record<string, unknown> = { score };
      if (comment.trim()) body.comment = comment.trim().slice(0, 2000);
      const r = await this.api<Rating>("POST", `/api/conversations/${c.id}/rating`, body);
      this.rating = { state: "done", rating: r };
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        // Rated already (in another tab): show that one.
        this.rating = { state: "none" };
        await this.loadRating();
        return;
      }
      this.rating = { state: "ask" };
      this.ratingError = e instanceof ApiError && e.code !== "network" ? e.message : "error";
    }
    this.changed();
  }

  async newChat() {
    if (this.conversation) this.outbox.clear(this.conversation.id);
    this.conversation = null;
    this.sync = null;
    this.phase = "intro";
    this.changed();
    await this.ensureChat();
  }

  async patchMe(body: Record<string, unknown>): Promise<void> {
    await this.api("PATCH", "/api/visitors/me", body);
  }

  /** Away mode: keep an email address so the answer reaches the visitor. */
  async leaveEmail(email: string) {
    this.error = null;
    try {
      if (!this.visitor) await this.ensureChat({ email });
      else await this.patchMe({ email });
      this.emailSaved = email;
    } catch (e) {
      this.error = e instanceof ApiError ? e.message : "error";
    }
    this.changed();
  }

  private sendContext() {
    if (this.contextSent || !this.visitor || !this.host) return;
    this.contextSent = true;
    const context = {
      pageUrl: this.host.pageUrl.slice(0, 2000),
      pageTitle: this.host.pageTitle.slice(0, 300),
      referrer: this.host.referrer.slice(0, 2000),
      language: navigator.language || "",
      timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || "",
    };
    this.patchMe({ context }).catch(() => {
      this.contextSent = false;
    });
  }

  // --- typing ---

  typing(hasText: boolean) {
    const c = this.conversation;
    if (!c || !this.socket?.isReady) return;
    if (!hasText) return this.stopTyping();
    const now = Date.now();
    if (now - this.typingSentAt > TYPING_REPEAT) {
      this.typingSentAt = now;
      this.socket.send({ type: "typing", conversationId: c.id, state: "start" });
    }
    if (this.typingStopTimer) clearTimeout(this.typingStopTimer);
    this.typingStopTimer = setTimeout(() => this.stopTyping(), TYPING_IDLE);
  }

  stopTyping() {
    if (this.typingStopTimer) clearTimeout(this.typingStopTimer);
    this.typingStopTimer = null;
    if (!this.typingSentAt) return;
    this.typingSentAt = 0;
    const c = this.conversation;
    if (c) this.socket?.send({ type: "typing", conversationId: c.id, state: "stop" });
  }

  // --- frames ---

  /** Agents' names from their messages (senderName), for the header and the rows. */
  private learnNames(ms: Message[]) {
    for (const m of ms) if (m.senderType === "agent" && m.senderId && m.senderName) this.agentNames.set(m.senderId, m.senderName);
  }

  private onFrame(f: ServerFrame) {
    if (f.type === "message") this.learnNames([f]);
    if (this.sync?.handle(f)) {
      if (f.type === "message" && f.senderType === "agent" && this.agentTyping) this.setAgentTyping(null);
      return;
    }
    const cid = this.conversation?.id;
    switch (f.type) {
      case "typing":
        if (f.conversationId !== cid || f.from.type !== "agent" || f.note) return;
        if (f.from.name) this.agentNames.set(f.from.id, f.from.name);
        this.setAgentTyping(f.state === "start" ? f.from.name || "" : null);
        break;
      case "presence":
        if (f.from.type !== "agent" || (f.conversationId && f.conversationId !== cid)) return;
        if (f.from.name) this.agentNames.set(f.from.id, f.from.name);
        if (f.conversationId) {
          this.agentPresent = f.online || false;
          if (!f.online && this.agentTyping) this.setAgentTyping(null);
        }
        this.changed();
        break;
      case "read":
        if (f.conversationId !== cid || f.from.type !== "agent") return;
        this.agentReadSeq = Math.max(this.agentReadSeq, f.seq);
        this.changed();
        break;
      case "conversation":
        if (f.conversationId !== cid || !this.conversation) return;
        this.conversation = { ...this.conversation, ...f.conversation };
        if (f.change === "deleted") this.conversation.status = "closed";
        if (this.conversation.status === "closed" && f.change !== "deleted") void this.loadRating();
        else if (this.conversation.status !== "closed") this.rating = { state: "none" };
        this.changed();
        break;
    }
  }

  private setAgentTyping(name: string | null) {
    if (this.typingExpireTimer) clearTimeout(this.typingExpireTimer);
    this.typingExpireTimer = null;
    if (name === null) this.agentTyping = null;
    else {
      this.agentTyping = { name, until: Date.now() + TYPING_EXPIRE };
      this.typingExpireTimer = setTimeout(() => this.setAgentTyping(null), TYPING_EXPIRE);
    }
    this.changed();
  }

  private afterTimelineChange() {
    const t = this.sync?.timeline;
    if (t) this.uploads.settle((id) => t.hasClientMessage(id));
    this.countUnread();
    this.markRead();
    this.changed();
  }

  private get visible() {
    return this.open && document.visibilityState !== "hidden";
  }

  private countUnread() {
    const msgs = this.sync?.timeline.messages ?? [];
    let n = 0;
    for (const m of msgs) if (m.seq > this.readSeq && m.senderType !== "customer") n++;
    if (this.visible) n = 0;
    if (n !== this.unread) {
      this.unread = n;
      this.toHost({ type: "unread", count: n });
    }
  }

  /** When the visitor can see the chat, everything in it is read. */
  markRead() {
    const s = this.sync;
    if (!s || !this.visible) return;
    const held = s.timeline.held;
    if (held > this.readSeq) {
      this.readSeq = held;
      try {
        this.storage?.setItem(READ_KEY + s.conversationId, String(held));
      } catch {
        /* fine */
      }
      if (s.timeline.messages.some((m) => m.senderType !== "customer")) {
        this.socket?.send({ type: "read", conversationId: s.conversationId, seq: held });
      }
    }
    this.countUnread();
  }

  /** The name of the agent handling the chat, when known. */
  agentName(): string | null {
    const id = this.conversation?.assigneeId;
    return id ? (this.agentNames.get(id) ?? null) : null;
  }

  // --- the host page ---

  private toHost(msg: Record<string, unknown>) {
    if (this.framed && this.hostOrigin) window.parent.postMessage({ parley: 1, ...msg }, this.hostOrigin);
  }

  private onHostMessage = (ev: MessageEvent) => {
    if (!this.framed || ev.source !== window.parent || ev.origin !== this.hostOrigin) return;
    const m = ev.data as { parley?: number; type?: string; pageUrl?: unknown; pageTitle?: unknown; referrer?: unknown; open?: unknown };
    if (!m || m.parley !== 1) return;
    switch (m.type) {
      case "host":
        this.host = { pageUrl: String(m.pageUrl ?? ""), pageTitle: String(m.pageTitle ?? ""), referrer: String(m.referrer ?? "") };
        this.sendContext();
        break;
      case "open":
        this.open = true;
        this.markRead();
        this.changed();
        break;
      case "closed":
        this.open = false;
        this.stopTyping();
        this.changed();
        break;
    }
  };

  /** The visitor asked to close the panel (Escape, the close button). */
  minimize() {
    this.toHost({ type: "close" });
  }
}

import { useEffect, useLayoutEffect, useRef, useState, type FormEvent } from "react";
import { Link } from "wouter";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../shared/api";
import { dayLabel, sameDay, timeLabel } from "../../shared/format";
import type { OutboxEntry } from "../../shared/outbox";
import type { ConversationSync } from "../../shared/sync";
import { MessageText } from "../../shared/text";
import type { Conversation, Message, User } from "../../shared/types";
import { api, useSession } from "../lib/session";
import { useLive } from "../lib/live";
import { customerLabel, useConversation, useCustomer, useUsers } from "../lib/queries";
import { Button } from "../components/ui/button";
import { Badge } from "../components/ui/badge";
import { Dialog } from "../components/ui/dialog";
import { Label, Select, Textarea } from "../components/ui/input";
import { Menu, MenuContent, MenuItem, MenuLabel, MenuSeparator, MenuTrigger } from "../components/ui/menu";
import { Switch } from "../components/ui/switch";
import { cn } from "../components/ui/cn";
import { CustomerPanel } from "./CustomerPanel";

const TYPING_REPEAT = 3_000;
const TYPING_IDLE = 5_000;
const TYPING_EXPIRE = 6_000;
const lang = navigator.language || "en";

export function ChatView({ id }: { id: string }) {
  const live = useLive();
  const conv = useConversation(id);
  const [sync] = useState(() => live.open(id));
  const [history, setHistory] = useState<"loading" | "done" | "error">("loading");
  const c = conv.data;

  useEffect(() => {
    live.viewing = id;
    return () => {
      if (live.viewing === id) live.viewing = null;
      live.release(id);
    };
  }, [id, live]);

  // The newest page over REST, then the socket resumes from its last seq.
  const started = useRef(false);
  useEffect(() => {
    if (!c || started.current) return;
    started.current = true;
    (async () => {
      try {
        if (c.lastSeq > 0) {
          const page = await api<{ messages: Message[] }>("GET", `/api/conversations/${id}/messages?before=${c.lastSeq + 1}&limit=200`);
          sync.merge(page.messages);
        }
        setHistory("done");
      } catch {
        setHistory("error");
      }
      live.connect(sync);
    })();
  }, [c, id, live, sync]);

  // Read up to what is shown, while the page is visible.
  const held = sync.timeline.held;
  const readUpTo = useRef(0);
  useEffect(() => {
    const mark = () => {
      if (document.visibilityState === "visible" && sync.timeline.held > readUpTo.current && sync.live) {
        readUpTo.current = sync.timeline.held;
        live.markRead(id, sync.timeline.held);
      }
    };
    mark();
    document.addEventListener("visibilitychange", mark);
    return () => document.removeEventListener("visibilitychange", mark);
  }, [held, sync.live, id, live, sync]);

  if (conv.isError) {
    const gone = conv.error instanceof ApiError && conv.error.status === 404;
    return (
      <div className="p-6">
        <p>{gone ? "This conversation does not exist, or you may not see it." : "Could not load this conversation."}</p>
        <Link href="/" className="mt-2 inline-block text-accent underline">
          Back to the inbox
        </Link>
      </div>
    );
  }
  if (!c) return <p className="p-6 text-muted">Loading…</p>;

  return (
    <div className="flex h-full">
      <section aria-label="Conversation" className="flex min-w-0 flex-1 flex-col bg-bg">
        <ChatHeader c={c} />
        <Timeline id={id} sync={sync} history={history} />
        <Composer c={c} sync={sync} />
      </section>
      <CustomerPanel c={c} />
    </div>
  );
}

function statusBadge(c: Conversation) {
  const tone = c.status === "waiting" ? "warn" : c.status === "active" ? "ok" : "neutral";
  return <Badge tone={tone}>{c.status}</Badge>;
}

function ChatHeader({ c }: { c: Conversation }) {
  const { user, can } = useSession();
  const users = useUsers();
  const customer = useCustomer(c.customerId);
  const qc = useQueryClient();
  const [error, setError] = useState("");
  const [transfer, setTransfer] = useState(false);
  const assignee = users.data?.users.find((u) => u.id === c.assigneeId);
  const mine = c.assigneeId === user.id;

  const act = useMutation({
    mutationFn: async (a: { path: string; method?: string; body?: unknown }) => api<Conversation>(a.method ?? "POST", `/api/conversations/${c.id}${a.path}`, a.body ?? {}),
    onSuccess: (next) => {
      setError("");
      qc.setQueryData(["conversation", c.id], (old: Conversation | undefined) => ({ ...old, ...next }));
      void qc.invalidateQueries({ queryKey: ["conversations"] });
    },
    onError: (e) => setError(e instanceof ApiError ? e.message : "That did not work."),
  });
  const busy = act.isPending;
  const canStatus = mine || can("seeAll");

  return (
    <div className="border-b border-line bg-panel px-4 py-2">
      <div className="flex flex-wrap items-center gap-2">
        <Link href="/" className="mr-1 text-sm text-accent md:hidden">
          ← Inbox
        </Link>
        <h2 className="truncate font-semibold">{customerLabel(customer.data, c.customerId)}</h2>
        {statusBadge(c)}
        <span className="text-sm text-muted">{assignee ? (mine ? "Assigned to you" : `Assigned to ${assignee.name || assignee.email}`) : c.assigneeId ? "Assigned" : "Unassigned"}</span>
        <div className="ml-auto flex flex-wrap gap-1.5">
          {c.status === "waiting" && !c.assigneeId && (
            <Button size="sm" variant="primary" disabled={busy} onClick={() => act.mutate({ path: "/claim" })}>
              Claim
            </Button>
          )}
          {can("assign") && (
            <Menu>
              <MenuTrigger asChild>
                <Button size="sm" disabled={busy}>
                  Assign…
                </Button>
              </MenuTrigger>
              <MenuContent label="Assign to">
                <MenuLabel>Assign to</MenuLabel>
                {(users.data?.users ?? [])
                  .filter((u) => !u.disabled)
                  .map((u) => (
                    <MenuItem key={u.id} disabled={u.id === c.assigneeId} onSelect={() => act.mutate({ path: "/assign", body: { assigneeId: u.id } })}>
                      <AgentName u={u} />
                    </MenuItem>
                  ))}
                <MenuSeparator />
                <MenuItem disabled={!c.assigneeId} onSelect={() => act.mutate({ path: "/assign", body: { assigneeId: "" } })}>
                  Return to the queue
                </MenuItem>
              </MenuContent>
            </Menu>
          )}
          {c.status !== "closed" && c.assigneeId && (mine || can("transferAny")) && (
            <Button size="sm" disabled={busy} onClick={() => setTransfer(true)}>
              Transfer…
            </Button>
          )}
          {c.status !== "closed" && canStatus && (
            <Button size="sm" variant="danger" disabled={busy} onClick={() => act.mutate({ path: "", method: "PATCH", body: { status: "closed" } })}>
              Close
            </Button>
          )}
          {c.status === "closed" && canStatus && (
            <Button size="sm" disabled={busy} onClick={() => act.mutate({ path: "", method: "PATCH", body: { status: c.assigneeId ? "active" : "waiting" } })}>
              Reopen
            </Button>
          )}
        </div>
      </div>
      {error && (
        <p role="alert" className="mt-1 text-sm text-danger">
          {error}
        </p>
      )}
      <TransferDialog open={transfer} onOpenChange={setTransfer} c={c} users={users.data?.users ?? []} onDone={(next) => qc.setQueryData(["conversation", c.id], next)} />
    </div>
  );
}

function AgentName({ u }: { u: User }) {
  const dot = u.availability === "online" ? "bg-emerald-500" : u.availability === "away" ? "bg-amber-500" : "bg-slate-400";
  return (
    <>
      <span className={cn("h-2 w-2 rounded-full", dot)} aria-hidden="true" />
      {u.name || u.email}
      <span className="sr-only">({u.availability})</span>
    </>
  );
}

function TransferDialog({ open, onOpenChange, c, users, onDone }: { open: boolean; onOpenChange: (v: boolean) => void; c: Conversation; users: User[]; onDone: (c: Conversation) => void }) {
  const [to, setTo] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState("");
  const qc = useQueryClient();
  const choices = users.filter((u) => !u.disabled && u.id !== c.assigneeId);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const next = await api<Conversation>("POST", `/api/conversations/${c.id}/transfer`, { toAgentId: to, reason });
      onDone(next);
      void qc.invalidateQueries({ queryKey: ["conversations"] });
      onOpenChange(false);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "The transfer failed.");
    }
  };
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="Transfer the conversation" description="The other agent takes it over; the customer sees a short note.">
      <form onSubmit={submit} className="space-y-3">
        <div>
          <Label htmlFor="transfer-to">To</Label>
          <Select id="transfer-to" value={to} onChange={(e) => setTo(e.target.value)} required>
            <option value="">Choose an agent</option>
            {choices.map((u) => (
              <option key={u.id} value={u.id}>
                {(u.name || u.email) + " (" + u.availability + ")"}
              </option>
            ))}
          </Select>
        </div>
        <div>
          <Label htmlFor="transfer-reason">Reason (optional)</Label>
          <Textarea id="transfer-reason" rows={2} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
        </div>
        {error && (
          <p role="alert" className="text-sm text-danger">
            {error}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={!to}>
            Transfer
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function Timeline({ id, sync, history }: { id: string; sync: ConversationSync; history: "loading" | "done" | "error" }) {
  const live = useLive();
  const { user } = useSession();
  const users = useUsers();
  const names = new Map((users.data?.users ?? []).map((u) => [u.id, u.name || u.email]));
  const customer = useCustomer(useConversation(id).data?.customerId);
  const msgs = sync.timeline.messages;
  const pending = sync.pending();
  const [typing, setTyping] = useState<string | null>(null);
  const [older, setOlder] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = live.on((f) => {
      if (f.type === "typing" && f.conversationId === id && f.from.type === "customer") {
        clearTimeout(timer);
        if (f.state === "start") {
          setTyping(f.from.name || "The visitor");
          timer = setTimeout(() => setTyping(null), TYPING_EXPIRE);
        } else setTyping(null);
      }
      if (f.type === "message" && f.conversationId === id && f.senderType === "customer") {
        clearTimeout(timer);
        setTyping(null);
      }
    });
    return () => {
      off();
      clearTimeout(timer);
    };
  }, [id, live]);

  useLayoutEffect(() => {
    const el = ref.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [msgs.length, pending.length, typing]);

  const loadOlder = async () => {
    setOlder(true);
    try {
      const page = await api<{ messages: Message[] }>("GET", `/api/conversations/${id}/messages?before=${sync.timeline.first}&limit=200`);
      stick.current = false;
      sync.merge(page.messages);
    } finally {
      setOlder(false);
    }
  };

  const who = (m: Message) =>
    m.senderType === "customer" ? customerLabel(customer.data, m.senderId ?? "") : m.senderId === user.id ? "You" : (m.senderId && names.get(m.senderId)) || "Agent";

  return (
    <div
      ref={ref}
      className="min-h-0 flex-1 overflow-y-auto px-4 py-3"
      onScroll={(e) => {
        const el = e.currentTarget;
        stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
      }}
    >
      {history === "error" && <p className="mb-2 text-sm text-danger">Could not load the earlier messages.</p>}
      {sync.timeline.first > 1 && (
        <div className="mb-2 text-center">
          <Button size="sm" variant="ghost" onClick={loadOlder} disabled={older}>
            {older ? "Loading…" : "Show earlier messages"}
          </Button>
        </div>
      )}
      {sync.error === "not_found" && <p className="mb-2 text-sm text-danger">You can no longer see this conversation.</p>}
      <ol role="log" aria-live="polite" aria-label="Messages" className="space-y-1" data-testid="timeline">
        {msgs.map((m, i) => (
          <Row key={m.seq} m={m} prev={msgs[i - 1]} who={who(m)} own={m.senderId === user.id} />
        ))}
      </ol>
      {pending.length > 0 && (
        <ol className="mt-1 space-y-1" aria-label="Not sent yet">
          {pending.map((e) => (
            <PendingRow key={e.clientMessageId} e={e} onRetry={() => {
              live.outbox.retry(e.clientMessageId);
              sync.flush(true);
            }} onDiscard={() => live.outbox.remove(e.clientMessageId)} />
          ))}
        </ol>
      )}
      {typing && (
        <p className="mt-2 text-sm text-muted" aria-live="polite" data-testid="typing">
          {typing} is typing…
        </p>
      )}
    </div>
  );
}

function Row({ m, prev, who, own }: { m: Message; prev?: Message; who: string; own: boolean }) {
  const d = new Date(m.createdAt);
  const sep = !prev || !sameDay(new Date(prev.createdAt), d);
  const right = m.senderType === "agent";
  const showWho = !prev || prev.senderId !== m.senderId || prev.kind !== m.kind || sep;
  return (
    <>
      {sep && (
        <li role="separator" className="my-3 flex items-center gap-3 text-xs text-muted">
          <span className="h-px flex-1 bg-line" />
          {dayLabel(d, lang, "Today", "Yesterday")}
          <span className="h-px flex-1 bg-line" />
        </li>
      )}
      {m.senderType === "system" || m.kind === "system" ? (
        <li className="my-2 text-center text-xs text-muted" data-seq={m.seq}>
          <MessageText text={m.content} /> · <time dateTime={m.createdAt}>{timeLabel(d, lang)}</time>
        </li>
      ) : (
        <li className={cn("flex flex-col", right ? "items-end" : "items-start")} data-seq={m.seq}>
          {showWho && (
            <span className="mt-1 mb-0.5 px-1 text-xs text-muted">
              {who}
              {m.kind === "note" && " · private note"}
            </span>
          )}
          <div
            className={cn(
              "max-w-[75%] rounded-2xl px-3 py-2 text-sm break-words whitespace-pre-wrap",
              m.kind === "note" ? "border border-amber-300 bg-note text-fg" : right ? (own ? "bg-accent text-accent-fg" : "bg-raised text-fg") : "border border-line bg-panel text-fg",
            )}
          >
            {m.kind === "note" && <span className="sr-only">Private note: </span>}
            <MessageText text={m.content} />
          </div>
          <time dateTime={m.createdAt} className="px-1 text-[11px] text-muted">
            {timeLabel(d, lang)}
          </time>
        </li>
      )}
    </>
  );
}

function PendingRow({ e, onRetry, onDiscard }: { e: OutboxEntry; onRetry: () => void; onDiscard: () => void }) {
  return (
    <li className="flex flex-col items-end" data-pending="true">
      <div className={cn("max-w-[75%] rounded-2xl px-3 py-2 text-sm break-words whitespace-pre-wrap opacity-70", e.note ? "border border-amber-300 bg-note" : "bg-accent text-accent-fg")}>
        <MessageText text={e.content} />
      </div>
      <span className="px-1 text-[11px] text-muted">
        {e.failed ? (
          <>
            <span className="text-danger">Not sent: {e.failed}</span>{" "}
            <button type="button" className="underline" onClick={onRetry}>
              Try again
            </button>{" "}
            <button type="button" className="underline" onClick={onDiscard}>
              Discard
            </button>
          </>
        ) : e.seq === undefined ? (
          "Sending…"
        ) : (
          "Sent"
        )}
      </span>
    </li>
  );
}

function Composer({ c, sync }: { c: Conversation; sync: ConversationSync }) {
  const live = useLive();
  const { user } = useSession();
  const [text, setText] = useState("");
  const [noteOn, setNote] = useState(false);
  const typingAt = useRef(0);
  const idle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const ref = useRef<HTMLTextAreaElement>(null);
  const canReply = c.assigneeId === user.id || !c.assigneeId;
  const note = noteOn || !canReply;
  const disabled = c.status === "closed";

  const stopTyping = () => {
    clearTimeout(idle.current);
    if (!typingAt.current) return;
    typingAt.current = 0;
    live.send({ type: "typing", conversationId: c.id, state: "stop", note: note || undefined });
  };
  useEffect(() => stopTyping, []); // eslint-disable-line react-hooks/exhaustive-deps

  const onText = (v: string) => {
    setText(v);
    if (!v.trim()) return stopTyping();
    const now = Date.now();
    if (now - typingAt.current > TYPING_REPEAT) {
      typingAt.current = now;
      live.send({ type: "typing", conversationId: c.id, state: "start", note: note || undefined });
    }
    clearTimeout(idle.current);
    idle.current = setTimeout(stopTyping, TYPING_IDLE);
  };

  const submit = () => {
    const v = text.trim();
    if (!v || disabled) return;
    stopTyping();
    sync.post(v, note);
    setText("");
    ref.current?.focus();
  };

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = Math.min(el.scrollHeight, 160) + "px";
  }, [text]);

  return (
    <form
      className={cn("border-t border-line p-3", note ? "bg-note/50" : "bg-panel")}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div className="mb-2 flex items-center gap-2 text-sm">
        <Switch id="note-toggle" checked={note} disabled={!canReply} onCheckedChange={setNote} label="Private note" />
        <label htmlFor="note-toggle" className="text-muted">
          Private note {note && "(only your team sees it)"}
        </label>
        {!canReply && c.status !== "closed" && <span className="ml-auto text-xs text-muted">Someone else has this chat: you can add notes.</span>}
        {c.status === "closed" && <span className="ml-auto text-xs text-muted">This conversation is closed. Reopen it to reply.</span>}
      </div>
      <div className="flex items-end gap-2">
        <label htmlFor="composer" className="sr-only">
          {note ? "Write a private note" : "Write a reply"}
        </label>
        <Textarea
          id="composer"
          ref={ref}
          rows={1}
          value={text}
          disabled={disabled}
          maxLength={10000}
          placeholder={note ? "Write a private note…" : "Write a reply… (Enter sends, Shift+Enter for a new line)"}
          onChange={(e) => onText(e.target.value)}
          onBlur={stopTyping}
          onKeyDown={(e) => {
            if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
              e.preventDefault();
              submit();
            }
          }}
          className="max-h-40 min-h-10 flex-1 resize-none"
        />
        <Button type="submit" variant="primary" disabled={disabled || !text.trim()}>
          {note ? "Add note" : "Send"}
        </Button>
      </div>
    </form>
  );
}

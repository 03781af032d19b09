import { useEffect, useLayoutEffect, useRef, useState, type DragEvent } from "react";
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
import { Menu, MenuContent, MenuItem, MenuLabel, MenuSeparator, MenuTrigger } from "../components/ui/menu";
import { cn } from "../components/ui/cn";
import { LockIcon } from "../components/icons";
import { SidePanel } from "./SidePanel";
import { TransferDialog } from "./TransferDialog";
import { AttachmentList, PendingUploadRow } from "./Attachments";
import { Composer } from "./Composer";

const TYPING_EXPIRE = 6_000;
const lang = navigator.language || "en";

export function ChatView({ id }: { id: string }) {
  const live = useLive();
  const conv = useConversation(id);
  const [sync] = useState(() => live.open(id));
  const [history, setHistory] = useState<"loading" | "done" | "error">("loading");
  const [dropping, setDropping] = useState(false);
  const { user } = useSession();
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

  // Files dropped on the conversation are sent, when the agent may reply.
  const canSend = c.status !== "closed" && (c.assigneeId === user.id || !c.assigneeId);
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer.types).includes("Files");

  return (
    <div className="flex h-full">
      <section
        aria-label="Conversation"
        className="relative flex min-w-0 flex-1 flex-col bg-bg"
        onDragOver={(e) => {
          if (!canSend || !hasFiles(e)) return;
          e.preventDefault();
          setDropping(true);
        }}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDropping(false);
        }}
        onDrop={(e) => {
          setDropping(false);
          if (!canSend || !e.dataTransfer.files.length) return;
          e.preventDefault();
          for (const f of Array.from(e.dataTransfer.files)) void live.uploads.add(c.id, f);
        }}
      >
        {dropping && (
          <div className="pointer-events-none absolute inset-3 z-30 flex items-center justify-center rounded-xl border-2 border-dashed border-accent bg-panel/90 text-sm font-medium">Drop the files to send them to the customer</div>
        )}
        <ChatHeader c={c} />
        <Timeline id={id} sync={sync} history={history} />
        <Composer c={c} sync={sync} />
      </section>
      <SidePanel c={c} />
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
  const email = customer.data?.email || c.customerEmail;

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
        {email && (
          <a href={`mailto:${email}`} className="truncate text-sm text-accent underline" title="Write to the customer">
            {email}
          </a>
        )}
        {statusBadge(c)}
        <span className="text-sm text-muted" data-testid="assignee">
          {assignee ? (mine ? "Assigned to you" : `Assigned to ${assignee.name || assignee.email}`) : c.assigneeId ? "Assigned" : "Unassigned"}
        </span>
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
          {can("export") && <ExportMenu id={c.id} />}
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

/** The transcript as a file: the browser downloads it with the session cookie. */
function ExportMenu({ id }: { id: string }) {
  return (
    <Menu>
      <MenuTrigger asChild>
        <Button size="sm">Export…</Button>
      </MenuTrigger>
      <MenuContent label="Export">
        <MenuLabel>Download the transcript</MenuLabel>
        {(
          [
            ["pdf", "PDF (to read or print)"],
            ["csv", "CSV (for a spreadsheet)"],
            ["json", "JSON (for a program)"],
          ] as const
        ).map(([f, label]) => (
          <MenuItem
            key={f}
            onSelect={() => {
              const a = document.createElement("a");
              a.href = `/api/conversations/${id}/export?format=${f}`;
              a.download = "";
              document.body.appendChild(a);
              a.click();
              a.remove();
            }}
          >
            {label}
          </MenuItem>
        ))}
      </MenuContent>
    </Menu>
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

function Timeline({ id, sync, history }: { id: string; sync: ConversationSync; history: "loading" | "done" | "error" }) {
  const live = useLive();
  const { user } = useSession();
  const users = useUsers();
  const names = new Map((users.data?.users ?? []).map((u) => [u.id, u.name || u.email]));
  const customer = useCustomer(useConversation(id).data?.customerId);
  const msgs = sync.timeline.messages;
  const pending = sync.pending();
  const uploads = live.uploads.pending(id, (x) => sync.timeline.hasClientMessage(x));
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
  }, [msgs.length, pending.length, uploads.length, typing]);

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
    m.senderType === "customer"
      ? customerLabel(customer.data, m.senderId ?? "")
      : m.senderId === user.id
        ? "You"
        : m.senderName || (m.senderId && names.get(m.senderId)) || "Agent";

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
      {pending.length + uploads.length > 0 && (
        <ol className="mt-1 space-y-1" aria-label="Not sent yet">
          {pending.map((e) => (
            <PendingRow
              key={e.clientMessageId}
              e={e}
              onRetry={() => {
                live.outbox.retry(e.clientMessageId);
                sync.flush(true);
              }}
              onDiscard={() => live.outbox.remove(e.clientMessageId)}
            />
          ))}
          {uploads.map((u) => (
            <PendingUploadRow key={u.clientMessageId} u={u} onRetry={() => live.uploads.retry(u.clientMessageId)} onRemove={() => live.uploads.remove(u.clientMessageId)} />
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
  const note = m.kind === "note";
  const showWho = !prev || prev.senderId !== m.senderId || prev.kind !== m.kind || sep || note;
  const onDark = !note && right && own;
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
        <li className="my-2 text-center text-xs text-muted" data-seq={m.seq} data-kind="system">
          <MessageText text={m.content} /> · <time dateTime={m.createdAt}>{timeLabel(d, lang)}</time>
        </li>
      ) : (
        <li className={cn("flex flex-col", right ? "items-end" : "items-start")} data-seq={m.seq} data-kind={m.kind}>
          {showWho && (
            <span className={cn("mt-1 mb-0.5 px-1 text-xs", note ? "font-medium text-amber-800 dark:text-amber-300" : "text-muted")}>
              {note && <LockIcon />}
              {who}
              {note && " · private note, the customer does not see it"}
            </span>
          )}
          <div
            className={cn(
              "max-w-[75%] rounded-2xl px-3 py-2 text-sm break-words whitespace-pre-wrap",
              note
                ? "rounded-tr-sm border-2 border-dashed border-amber-400 bg-note text-fg"
                : right
                  ? own
                    ? "bg-accent text-accent-fg"
                    : "bg-raised text-fg"
                  : "border border-line bg-panel text-fg",
            )}
          >
            {note && <span className="sr-only">Private note: </span>}
            {m.attachments && m.attachments.length > 0 && (
              <span className={cn("block", m.content && "mb-1")}>
                <AttachmentList items={m.attachments} onDark={onDark} />
              </span>
            )}
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
      <div className={cn("max-w-[75%] rounded-2xl px-3 py-2 text-sm break-words whitespace-pre-wrap opacity-70", e.note ? "border-2 border-dashed border-amber-400 bg-note" : "bg-accent text-accent-fg")}>
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

import { useEffect, useState } from "react";
import { Link } from "wouter";
import * as Tabs from "@radix-ui/react-tabs";
import type { Conversation } from "../../shared/types";
import { age } from "../../shared/format";
import { useSession } from "../lib/session";
import { useConversations, type View } from "../lib/queries";
import { Badge } from "../components/ui/badge";
import { cn } from "../components/ui/cn";
import { ChatView } from "./Chat";

const labels: Record<View, string> = { waiting: "Waiting", mine: "Mine", all: "All", closed: "Closed" };

function savedView(): View {
  const v = sessionStorage.getItem("parley.view");
  return v === "waiting" || v === "mine" || v === "all" || v === "closed" ? v : "waiting";
}

export function InboxPage({ conversationId }: { conversationId?: string }) {
  const { can } = useSession();
  const views: View[] = can("seeAll") ? ["waiting", "mine", "all", "closed"] : ["waiting", "mine", "closed"];
  const [view, setView] = useState<View>(() => {
    const v = savedView();
    return views.includes(v) ? v : "waiting";
  });
  useEffect(() => sessionStorage.setItem("parley.view", view), [view]);
  const queries = {
    waiting: useConversations("waiting"),
    mine: useConversations("mine"),
    all: useConversations("all", can("seeAll")),
    closed: useConversations("closed"),
  };

  const waiting = queries.waiting.data?.totalCount ?? 0;
  useEffect(() => {
    document.title = waiting > 0 ? `(${waiting}) Parley` : "Parley";
  }, [waiting]);

  return (
    <div className="flex h-full">
      <section aria-label="Conversations" className={cn("flex w-full flex-col border-r border-line bg-panel md:w-80 md:shrink-0", conversationId && "hidden md:flex")}>
        <Tabs.Root value={view} onValueChange={(v) => setView(v as View)} className="flex min-h-0 flex-1 flex-col">
          <Tabs.List aria-label="Inbox views" className="flex border-b border-line">
            {views.map((v) => {
              const q = queries[v].data;
              return (
                <Tabs.Trigger
                  key={v}
                  value={v}
                  className="flex flex-1 items-center justify-center gap-1 border-b-2 border-transparent px-2 py-2 text-sm text-muted data-[state=active]:border-accent data-[state=active]:font-medium data-[state=active]:text-fg"
                >
                  {labels[v]}
                  <Badge tone={v === "waiting" && (q?.totalCount ?? 0) > 0 ? "accent" : "neutral"} label={`${q?.totalCount ?? 0} conversations`}>
                    {q?.totalCount ?? "·"}
                  </Badge>
                </Tabs.Trigger>
              );
            })}
          </Tabs.List>
          {views.map((v) => (
            <Tabs.Content key={v} value={v} className="min-h-0 flex-1 overflow-y-auto" tabIndex={-1}>
              <List items={queries[v].data?.conversations} loading={queries[v].isPending} error={queries[v].isError} selected={conversationId} view={v} />
            </Tabs.Content>
          ))}
        </Tabs.Root>
      </section>
      <div className={cn("min-w-0 flex-1", !conversationId && "hidden md:block")}>
        {conversationId ? (
          <ChatView key={conversationId} id={conversationId} />
        ) : (
          <div className="flex h-full items-center justify-center p-6 text-muted">Pick a conversation on the left.</div>
        )}
      </div>
    </div>
  );
}

function List({ items, loading, error, selected, view }: { items?: Conversation[]; loading: boolean; error: boolean; selected?: string; view: View }) {
  if (loading) return <p className="p-4 text-sm text-muted">Loading…</p>;
  if (error) return <p className="p-4 text-sm text-danger">Could not load the conversations.</p>;
  if (!items?.length)
    return <p className="p-4 text-sm text-muted">{view === "waiting" ? "Nobody is waiting. Nice work!" : view === "mine" ? "You have no open conversations." : "Nothing here yet."}</p>;
  return (
    <ul className="divide-y divide-line" data-testid={`list-${view}`}>
      {items.map((c) => (
        <Item key={c.id} c={c} selected={c.id === selected} />
      ))}
    </ul>
  );
}

function Item({ c, selected }: { c: Conversation; selected: boolean }) {
  const email = c.customerEmail ?? "";
  const name = c.customerName || email || "Visitor " + c.customerId.slice(-4);
  const unread = c.unread ?? 0;
  const [, tick] = useState(0);
  useEffect(() => {
    const t = setInterval(() => tick((n) => n + 1), 30_000);
    return () => clearInterval(t);
  }, []);
  const when = c.lastMessageAt ?? c.createdAt;
  return (
    <li>
      <Link
        href={`/chat/${c.id}`}
        aria-current={selected ? "page" : undefined}
        data-conversation={c.id}
        className={cn("block px-3 py-2.5 hover:bg-raised", selected && "bg-raised")}
      >
        <div className="flex items-center gap-2">
          <span className={cn("truncate text-sm", unread > 0 ? "font-semibold" : "font-medium")}>{name}</span>
          {email && (
            <span className="shrink-0 text-xs text-muted" title={`Left an email: ${email}`} data-testid="left-email">
              <span aria-hidden="true">✉</span>
              <span className="sr-only">left an email address, {email}</span>
            </span>
          )}
          <time dateTime={when} className="ml-auto shrink-0 text-xs text-muted" title={new Date(when).toLocaleString()}>
            {age(when)}
          </time>
        </div>
        <div className="mt-0.5 flex items-center gap-2">
          <span className="truncate text-sm text-muted">{c.lastMessagePreview || "No messages yet"}</span>
          {unread > 0 && (
            <Badge tone="danger" className="ml-auto shrink-0" label={`${unread} unread`}>
              {unread}
            </Badge>
          )}
        </div>
      </Link>
    </li>
  );
}

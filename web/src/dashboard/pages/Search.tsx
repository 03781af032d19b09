// Search over messages, customers and conversation ids (GET /api/search).
// The server sends each snippet as plain-text parts; they are drawn as
// text, the matched words in <mark>, never as HTML.

import { useEffect, useState, type FormEvent } from "react";
import { Link, useSearch, useLocation } from "wouter";
import { useInfiniteQuery } from "@tanstack/react-query";
import { ApiError } from "../../shared/api";
import { age } from "../../shared/format";
import type { SearchHit, SearchPage, SnippetPart } from "../../shared/types";
import { api, useSession } from "../lib/session";
import { useUsers } from "../lib/queries";
import { Badge } from "../components/ui/badge";
import { Button } from "../components/ui/button";
import { Input, Label, Select } from "../components/ui/input";

export function Snippet({ parts }: { parts: SnippetPart[] }) {
  return (
    <>
      {parts.map((p, i) =>
        p.highlight ? (
          <mark key={i} className="rounded-sm bg-amber-200 px-0.5 text-inherit dark:bg-amber-700">
            {p.text}
          </mark>
        ) : (
          <span key={i}>{p.text}</span>
        ),
      )}
    </>
  );
}

interface Filters {
  q: string;
  status: string;
  agent: string;
  from: string;
  to: string;
}

function readFilters(search: string): Filters {
  const p = new URLSearchParams(search);
  return { q: p.get("q") ?? "", status: p.get("status") ?? "", agent: p.get("agent") ?? "", from: p.get("from") ?? "", to: p.get("to") ?? "" };
}

function query(f: Filters, cursor = ""): string {
  const p = new URLSearchParams();
  p.set("q", f.q);
  for (const k of ["status", "agent", "from", "to"] as const) if (f[k]) p.set(k, f[k]);
  if (cursor) p.set("cursor", cursor);
  p.set("limit", "20");
  return p.toString();
}

export function SearchPage() {
  const { can } = useSession();
  const users = useUsers();
  const search = useSearch();
  const [, navigate] = useLocation();
  const applied = readFilters(search);
  const [form, setForm] = useState<Filters>(applied);
  useEffect(() => setForm(readFilters(search)), [search]);

  const results = useInfiniteQuery({
    queryKey: ["search", applied],
    queryFn: ({ pageParam }) => api<SearchPage>("GET", "/api/search?" + query(applied, pageParam)),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextCursor || undefined,
    enabled: applied.q.trim() !== "",
    staleTime: 30_000,
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!form.q.trim()) return;
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) if (v) p.set(k, v);
    navigate("/search?" + p.toString());
  };
  const set = (k: keyof Filters, v: string) => setForm({ ...form, [k]: v });
  const hits = results.data?.pages.flatMap((p) => p.results) ?? [];
  const truncated = results.data?.pages.some((p) => p.truncated);

  return (
    <div className="h-full overflow-y-auto">
      <div className="mx-auto max-w-4xl space-y-4 p-4">
        <h1 className="text-xl font-semibold">Search</h1>
        <form onSubmit={submit} role="search" className="space-y-3 rounded-lg border border-line bg-panel p-4">
          <div className="flex gap-2">
            <label htmlFor="s-q" className="sr-only">
              Search for
            </label>
            <Input id="s-q" type="search" autoFocus value={form.q} maxLength={256} onChange={(e) => set("q", e.target.value)} placeholder="Words from a message, a customer's name or email, a conversation id" />
            <Button type="submit" variant="primary" disabled={!form.q.trim()}>
              Search
            </Button>
          </div>
          <div className="flex flex-wrap gap-3">
            <div>
              <Label htmlFor="s-status">Status</Label>
              <Select id="s-status" value={form.status} onChange={(e) => set("status", e.target.value)}>
                <option value="">Any</option>
                <option value="waiting">Waiting</option>
                <option value="active">Active</option>
                <option value="closed">Closed</option>
              </Select>
            </div>
            <div>
              <Label htmlFor="s-agent">Agent</Label>
              <Select id="s-agent" value={form.agent} onChange={(e) => set("agent", e.target.value)}>
                <option value="">Anyone</option>
                <option value="me">Me</option>
                {can("seeAll") &&
                  (users.data?.users ?? []).map((u) => (
                    <option key={u.id} value={u.id}>
                      {u.name || u.email}
                    </option>
                  ))}
              </Select>
            </div>
            <div>
              <Label htmlFor="s-from">From</Label>
              <Input id="s-from" type="date" value={form.from} onChange={(e) => set("from", e.target.value)} />
            </div>
            <div>
              <Label htmlFor="s-to">To (included)</Label>
              <Input id="s-to" type="date" value={form.to} onChange={(e) => set("to", e.target.value)} />
            </div>
          </div>
        </form>

        {!applied.q.trim() ? null : results.isPending ? (
          <p className="text-muted">Searching…</p>
        ) : results.isError ? (
          <p className="text-danger">{results.error instanceof ApiError ? results.error.message : "The search failed."}</p>
        ) : hits.length === 0 ? (
          <p className="text-muted">Nothing found for “{applied.q}”.</p>
        ) : (
          <>
            <ul className="divide-y divide-line rounded-lg border border-line bg-panel" aria-label="Results" data-testid="search-results">
              {hits.map((h, i) => (
                <Hit key={`${h.conversation.id}-${h.message?.id ?? h.field}-${i}`} h={h} />
              ))}
            </ul>
            {truncated && <p className="text-sm text-muted">Only the newest matches were ranked: add a date or a status to narrow the search.</p>}
            {results.hasNextPage && (
              <Button onClick={() => void results.fetchNextPage()} disabled={results.isFetchingNextPage}>
                {results.isFetchingNextPage ? "Loading…" : "More results"}
              </Button>
            )}
          </>
        )}
      </div>
    </div>
  );
}

const fieldLabel: Record<SearchHit["field"], string> = { message: "message", customer: "customer", conversation_id: "conversation id" };

function Hit({ h }: { h: SearchHit }) {
  const who = h.customer.name || h.customer.email || "Visitor " + h.conversation.customerId.slice(-4);
  const when = h.message?.createdAt ?? h.conversation.createdAt;
  return (
    <li>
      <Link href={`/chat/${h.conversation.id}`} className="block px-4 py-3 hover:bg-raised">
        <div className="flex flex-wrap items-center gap-2 text-sm">
          <span className="font-medium">{who}</span>
          {h.customer.email && h.customer.name && <span className="text-muted">{h.customer.email}</span>}
          <Badge tone={h.conversation.status === "waiting" ? "warn" : h.conversation.status === "active" ? "ok" : "neutral"}>{h.conversation.status}</Badge>
          {h.message?.kind === "note" && <Badge tone="warn">private note</Badge>}
          <span className="text-xs text-muted">{fieldLabel[h.field]}</span>
          <time dateTime={when} className="ml-auto text-xs text-muted" title={new Date(when).toLocaleString()}>
            {age(when)}
          </time>
        </div>
        <p className="mt-1 text-sm break-words text-muted" data-testid="snippet">
          <Snippet parts={h.snippet} />
        </p>
      </Link>
    </li>
  );
}

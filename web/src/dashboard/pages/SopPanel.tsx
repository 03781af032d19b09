// The guides (SOP documents) beside a chat: search them, read one (its
// Markdown drawn by lib/markdown, which never lets HTML through), pin it to
// the conversation, and, for team leads and admins, write and change them
// with every version kept. Loaded on demand: most chats never open it.

import { useEffect, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../shared/api";
import type { Pin, SOP, SOPVersion } from "../../shared/types";
import { api, useSession } from "../lib/session";
import { useAgentName } from "../lib/queries";
import { Markdown } from "../lib/markdown";
import { Button } from "../components/ui/button";
import { Input, Label, Textarea } from "../components/ui/input";
import { cn } from "../components/ui/cn";
import { PinIcon } from "../components/icons";

type View = { kind: "list" } | { kind: "doc"; id: string } | { kind: "edit"; id: string | null } | { kind: "history"; id: string };

export default function SopPanel({ conversationId }: { conversationId: string }) {
  const [view, setView] = useState<View>({ kind: "list" });
  return (
    <div className="text-sm" data-testid="sop-panel">
      {view.kind === "list" && <SopList conversationId={conversationId} open={(id) => setView({ kind: "doc", id })} create={() => setView({ kind: "edit", id: null })} />}
      {view.kind === "doc" && <SopDoc conversationId={conversationId} id={view.id} back={() => setView({ kind: "list" })} edit={() => setView({ kind: "edit", id: view.id })} history={() => setView({ kind: "history", id: view.id })} />}
      {view.kind === "edit" && <SopEdit id={view.id} done={(id) => setView(id ? { kind: "doc", id } : { kind: "list" })} />}
      {view.kind === "history" && <SopHistory id={view.id} back={() => setView({ kind: "doc", id: view.id })} />}
    </div>
  );
}

function usePins(conversationId: string) {
  return useQuery({ queryKey: ["pins", conversationId], queryFn: () => api<{ sops: Pin[] }>("GET", `/api/conversations/${conversationId}/sops`).then((r) => r.sops) });
}

function SopList({ conversationId, open, create }: { conversationId: string; open: (id: string) => void; create: () => void }) {
  const { can } = useSession();
  const [q, setQ] = useState("");
  const [debounced, setDebounced] = useState("");
  useEffect(() => {
    const t = setTimeout(() => setDebounced(q.trim()), 200);
    return () => clearTimeout(t);
  }, [q]);
  const pins = usePins(conversationId);
  const list = useQuery({
    queryKey: ["sops", debounced],
    queryFn: () => api<{ sops: SOP[] }>("GET", "/api/sops?limit=50" + (debounced ? "&q=" + encodeURIComponent(debounced) : "")).then((r) => r.sops),
  });
  const pinned = new Set((pins.data ?? []).map((p) => p.sop.id));
  return (
    <div className="space-y-3">
      {(pins.data?.length ?? 0) > 0 && (
        <section aria-label="Pinned to this conversation">
          <h3 className="mb-1 text-xs font-semibold tracking-wide text-muted uppercase">Pinned here</h3>
          <ul className="space-y-0.5">
            {pins.data!.map((p) => (
              <li key={p.sop.id}>
                <button type="button" onClick={() => open(p.sop.id)} className="w-full truncate rounded px-2 py-1 text-left hover:bg-raised">
                  <PinIcon />
                  {p.sop.title}
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      <div>
        <Label htmlFor="sop-search">Search the guides</Label>
        <Input id="sop-search" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Refunds, shipping…" />
      </div>
      {list.isPending ? (
        <p className="text-muted">Loading…</p>
      ) : list.isError ? (
        <p className="text-danger">Could not load the guides.</p>
      ) : list.data.length === 0 ? (
        <p className="text-muted">{debounced ? "No guide matches." : "No guides yet."}</p>
      ) : (
        <ul className="space-y-0.5" aria-label="Guides">
          {list.data.map((s) => (
            <li key={s.id}>
              <button type="button" onClick={() => open(s.id)} className="w-full rounded px-2 py-1 text-left hover:bg-raised">
                <span className="block truncate font-medium">
                  {pinned.has(s.id) && (
                    <span>
                      <PinIcon />
                      <span className="sr-only">pinned: </span>
                    </span>
                  )}
                  {s.title}
                </span>
                {s.tags.length > 0 && <span className="block truncate text-xs text-muted">{s.tags.join(", ")}</span>}
              </button>
            </li>
          ))}
        </ul>
      )}
      {can("editSops") && (
        <Button size="sm" onClick={create}>
          New guide
        </Button>
      )}
    </div>
  );
}

function useSop(id: string) {
  return useQuery({ queryKey: ["sop", id], queryFn: () => api<SOP>("GET", `/api/sops/${id}`) });
}

function SopDoc({ conversationId, id, back, edit, history }: { conversationId: string; id: string; back: () => void; edit: () => void; history: () => void }) {
  const { can } = useSession();
  const name = useAgentName();
  const qc = useQueryClient();
  const doc = useSop(id);
  const pins = usePins(conversationId);
  const isPinned = (pins.data ?? []).some((p) => p.sop.id === id);
  const [error, setError] = useState("");
  const pin = useMutation({
    mutationFn: () => api(isPinned ? "DELETE" : "PUT", `/api/conversations/${conversationId}/sops/${id}`),
    onSuccess: () => {
      setError("");
      void qc.invalidateQueries({ queryKey: ["pins", conversationId] });
    },
    onError: (e) => setError(e instanceof ApiError ? e.message : "That did not work."),
  });
  return (
    <div>
      <button type="button" onClick={back} className="mb-2 text-accent underline">
        ← All guides
      </button>
      {doc.isPending ? (
        <p className="text-muted">Loading…</p>
      ) : doc.isError ? (
        <p className="text-danger">Could not load this guide.</p>
      ) : (
        <article aria-label={doc.data.title}>
          <h3 className="text-base font-semibold">{doc.data.title}</h3>
          <p className="text-xs text-muted">
            Version {doc.data.version} · {new Date(doc.data.updatedAt).toLocaleString()}
            {name(doc.data.updatedBy) && ` · ${name(doc.data.updatedBy)}`}
          </p>
          {doc.data.tags.length > 0 && (
            <p className="mt-1 flex flex-wrap gap-1">
              {doc.data.tags.map((t) => (
                <span key={t} className="rounded-full border border-line bg-raised px-2 text-xs">
                  {t}
                </span>
              ))}
            </p>
          )}
          <div className="mt-2 flex flex-wrap gap-1.5">
            <Button size="sm" variant={isPinned ? "secondary" : "primary"} disabled={pin.isPending || pins.isPending} onClick={() => pin.mutate()}>
              {isPinned ? "Unpin from this chat" : "Pin to this chat"}
            </Button>
            {can("editSops") && (
              <Button size="sm" onClick={edit}>
                Edit
              </Button>
            )}
            <Button size="sm" variant="ghost" onClick={history}>
              Versions
            </Button>
          </div>
          {error && (
            <p role="alert" className="mt-1 text-danger">
              {error}
            </p>
          )}
          <Markdown source={doc.data.body ?? ""} className="sop-body mt-2 border-t border-line pt-2 text-sm leading-relaxed break-words" />
        </article>
      )}
    </div>
  );
}

function SopEdit({ id, done }: { id: string | null; done: (id: string | null) => void }) {
  const qc = useQueryClient();
  const doc = useQuery({ queryKey: ["sop", id], queryFn: () => api<SOP>("GET", `/api/sops/${id}`), enabled: !!id });
  const [title, setTitle] = useState("");
  const [tags, setTags] = useState("");
  const [body, setBody] = useState("");
  const [base, setBase] = useState(0);
  const [preview, setPreview] = useState(false);
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (doc.data) {
      setTitle(doc.data.title);
      setTags(doc.data.tags.join(", "));
      setBody(doc.data.body ?? "");
      setBase(doc.data.version);
    }
  }, [doc.data]);
  if (id && !doc.data) return <p className="text-muted">{doc.isError ? "Could not load this guide." : "Loading…"}</p>;
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    const t = tags
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
    try {
      const saved = id
        ? await api<SOP>("PATCH", `/api/sops/${id}`, { title, body, tags: t, expectVersion: base })
        : await api<SOP>("POST", "/api/sops", { title, body, tags: t });
      qc.setQueryData(["sop", saved.id], saved);
      void qc.invalidateQueries({ queryKey: ["sops"] });
      void qc.invalidateQueries({ queryKey: ["sop-versions", saved.id] });
      done(saved.id);
    } catch (err) {
      setError(err instanceof ApiError ? (err.status === 409 ? `${err.message} Someone changed it meanwhile: copy your text, go back and edit the new version.` : err.message) : "Not saved.");
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={save} className="space-y-2">
      <h3 className="font-semibold">{id ? `Edit “${doc.data?.title}” (version ${base})` : "New guide"}</h3>
      <div>
        <Label htmlFor="sop-title">Title</Label>
        <Input id="sop-title" required maxLength={200} value={title} onChange={(e) => setTitle(e.target.value)} />
      </div>
      <div>
        <Label htmlFor="sop-tags">Tags (separated by commas)</Label>
        <Input id="sop-tags" value={tags} onChange={(e) => setTags(e.target.value)} />
      </div>
      <div>
        <div className="flex items-center justify-between">
          <Label htmlFor="sop-body">Text (Markdown)</Label>
          <button type="button" className="text-xs text-accent underline" onClick={() => setPreview(!preview)}>
            {preview ? "Write" : "Preview"}
          </button>
        </div>
        {preview ? (
          <Markdown source={body} className={cn("min-h-40 rounded-md border border-line p-2 text-sm")} />
        ) : (
          <Textarea id="sop-body" rows={12} value={body} onChange={(e) => setBody(e.target.value)} className="font-mono text-xs" />
        )}
      </div>
      {error && (
        <p role="alert" className="text-danger">
          {error}
        </p>
      )}
      <div className="flex gap-2">
        <Button type="submit" variant="primary" disabled={busy || !title.trim()}>
          {busy ? "Saving…" : "Save"}
        </Button>
        <Button onClick={() => done(id)}>Cancel</Button>
      </div>
    </form>
  );
}

function SopHistory({ id, back }: { id: string; back: () => void }) {
  const name = useAgentName();
  const versions = useQuery({ queryKey: ["sop-versions", id], queryFn: () => api<{ versions: SOPVersion[] }>("GET", `/api/sops/${id}/versions`).then((r) => r.versions) });
  const [shown, setShown] = useState<number | null>(null);
  return (
    <div>
      <button type="button" onClick={back} className="mb-2 text-accent underline">
        ← Back to the guide
      </button>
      <h3 className="font-semibold">Versions</h3>
      {versions.isPending ? (
        <p className="text-muted">Loading…</p>
      ) : versions.isError ? (
        <p className="text-danger">Could not load the versions.</p>
      ) : (
        <ol className="mt-1 space-y-1" aria-label="Versions, newest first">
          {versions.data.map((v) => (
            <li key={v.version} className="rounded border border-line">
              <button type="button" className="w-full px-2 py-1 text-left hover:bg-raised" aria-expanded={shown === v.version} onClick={() => setShown(shown === v.version ? null : v.version)}>
                <span className="font-medium">Version {v.version}</span> · {new Date(v.changedAt).toLocaleString()}
                {name(v.changedBy) && ` · ${name(v.changedBy)}`}
                <span className="block truncate text-xs text-muted">{v.title}</span>
              </button>
              {shown === v.version && <Markdown source={v.body} className="border-t border-line p-2 text-sm" />}
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}

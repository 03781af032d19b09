// Quick replies: every agent manages their own; team leads and admins the
// shared ones everybody can use. In a chat, "/" and the shortcut insert one.

import { useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../shared/api";
import type { QuickReply } from "../../shared/types";
import { api, useSession } from "../lib/session";
import { useQuickReplies } from "../lib/queries";
import { bareShortcut } from "../lib/slash";
import { Button } from "../components/ui/button";
import { Input, Label, Textarea } from "../components/ui/input";

const VARIABLES = ["{{customer.name}}", "{{customer.email}}", "{{agent.name}}", "{{conversation.id}}"];

export function QuickRepliesPage() {
  const { user, can } = useSession();
  const q = useQuickReplies();
  const all = q.data ?? [];
  const mine = all.filter((r) => !r.shared && r.ownerId === user.id);
  const shared = all.filter((r) => r.shared);
  return (
    <div className="h-full overflow-y-auto">
      <div className="mx-auto max-w-3xl space-y-6 p-4">
        <div>
          <h1 className="text-xl font-semibold">Quick replies</h1>
          <p className="mt-1 text-sm text-muted">
            In a chat, type <kbd className="rounded border border-line px-1">/</kbd> and the start of a shortcut to insert the reply. These are filled in for each chat:{" "}
            {VARIABLES.map((v, i) => (
              <span key={v}>
                {i > 0 && ", "}
                <code className="rounded bg-raised px-1">{v}</code>
              </span>
            ))}
            .
          </p>
        </div>
        <NewReply canShare={can("sharedReplies")} />
        {q.isPending ? (
          <p className="text-muted">Loading…</p>
        ) : q.isError ? (
          <p className="text-danger">Could not load the quick replies.</p>
        ) : (
          <>
            <ReplyList title="Yours" items={mine} editable empty="You have none yet." />
            <ReplyList title="Shared with everyone" items={shared} editable={can("sharedReplies")} empty="There are no shared replies yet." />
          </>
        )}
      </div>
    </div>
  );
}

function NewReply({ canShare }: { canShare: boolean }) {
  const qc = useQueryClient();
  const [shortcut, setShortcut] = useState("");
  const [text, setText] = useState("");
  const [shared, setShared] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setMsg(null);
    try {
      await api<QuickReply>("POST", "/api/quick-replies", { shortcut: bareShortcut(shortcut.trim()), text, shared });
      setShortcut("");
      setText("");
      setMsg({ ok: true, text: "Added." });
      void qc.invalidateQueries({ queryKey: ["quick-replies"] });
    } catch (err) {
      setMsg({ ok: false, text: err instanceof ApiError ? err.message : "Not added." });
    }
  };
  return (
    <form onSubmit={submit} className="space-y-3 rounded-lg border border-line bg-panel p-4" aria-labelledby="qr-new">
      <h2 id="qr-new" className="font-semibold">
        Add a quick reply
      </h2>
      <div className="grid gap-3 sm:grid-cols-[12rem_1fr]">
        <div>
          <Label htmlFor="qr-shortcut">Shortcut</Label>
          <div className="flex items-center gap-1">
            <span aria-hidden="true" className="text-muted">
              /
            </span>
            <Input id="qr-shortcut" required maxLength={50} pattern="[A-Za-z0-9_.\-/]+" title="Letters, digits and - _ . /" value={shortcut} onChange={(e) => setShortcut(e.target.value)} placeholder="thanks" />
          </div>
        </div>
        <div>
          <Label htmlFor="qr-text">Text</Label>
          <Textarea id="qr-text" required rows={3} maxLength={10000} value={text} onChange={(e) => setText(e.target.value)} placeholder="Thanks {{customer.name}}, glad I could help!" />
        </div>
      </div>
      {canShare && (
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} />
          Share it with the whole team
        </label>
      )}
      <div className="flex items-center gap-3">
        <Button type="submit" variant="primary">
          Add
        </Button>
        {msg && (
          <span role="status" className={msg.ok ? "text-sm text-emerald-600" : "text-sm text-danger"}>
            {msg.text}
          </span>
        )}
      </div>
    </form>
  );
}

function ReplyList({ title, items, editable, empty }: { title: string; items: QuickReply[]; editable: boolean; empty: string }) {
  return (
    <section aria-label={title}>
      <h2 className="mb-2 font-semibold">{title}</h2>
      {items.length === 0 ? (
        <p className="text-sm text-muted">{empty}</p>
      ) : (
        <ul className="divide-y divide-line rounded-lg border border-line bg-panel">
          {items.map((r) => (
            <ReplyItem key={r.id} r={r} editable={editable} />
          ))}
        </ul>
      )}
    </section>
  );
}

function ReplyItem({ r, editable }: { r: QuickReply; editable: boolean }) {
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [shortcut, setShortcut] = useState(r.shortcut);
  const [text, setText] = useState(r.text);
  const [error, setError] = useState("");
  const save = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api("PATCH", `/api/quick-replies/${r.id}`, { shortcut: bareShortcut(shortcut.trim()), text });
      setEditing(false);
      setError("");
      void qc.invalidateQueries({ queryKey: ["quick-replies"] });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Not saved.");
    }
  };
  const remove = async () => {
    try {
      await api("DELETE", `/api/quick-replies/${r.id}`);
      void qc.invalidateQueries({ queryKey: ["quick-replies"] });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Not deleted.");
    }
  };
  if (editing)
    return (
      <li className="p-3">
        <form onSubmit={save} className="space-y-2">
          <Input aria-label="Shortcut" required maxLength={50} value={shortcut} onChange={(e) => setShortcut(e.target.value)} />
          <Textarea aria-label="Text" required rows={3} value={text} onChange={(e) => setText(e.target.value)} />
          {error && (
            <p role="alert" className="text-sm text-danger">
              {error}
            </p>
          )}
          <div className="flex gap-2">
            <Button type="submit" size="sm" variant="primary">
              Save
            </Button>
            <Button size="sm" onClick={() => setEditing(false)}>
              Cancel
            </Button>
          </div>
        </form>
      </li>
    );
  return (
    <li className="flex items-start gap-3 p-3" data-shortcut={r.shortcut}>
      <div className="min-w-0 flex-1">
        <span className="font-mono text-sm font-medium">/{bareShortcut(r.shortcut)}</span>
        <p className="text-sm whitespace-pre-wrap text-muted">{r.text}</p>
        {error && (
          <p role="alert" className="text-sm text-danger">
            {error}
          </p>
        )}
      </div>
      {editable && (
        <div className="flex shrink-0 gap-1">
          <Button size="sm" variant="ghost" onClick={() => setEditing(true)} aria-label={`Edit /${bareShortcut(r.shortcut)}`}>
            Edit
          </Button>
          <Button size="sm" variant="danger" onClick={() => void remove()} aria-label={`Delete /${bareShortcut(r.shortcut)}`}>
            Delete
          </Button>
        </div>
      )}
    </li>
  );
}

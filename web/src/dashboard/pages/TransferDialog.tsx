import { useEffect, useState, type FormEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../shared/api";
import type { Availability, Conversation, User } from "../../shared/types";
import { api, useSession } from "../lib/session";
import { Button } from "../components/ui/button";
import { Dialog } from "../components/ui/dialog";
import { Label, Textarea } from "../components/ui/input";
import { cn } from "../components/ui/cn";

const dot: Record<Availability, string> = { online: "bg-emerald-500", away: "bg-amber-500", offline: "bg-slate-400" };
const order: Record<Availability, number> = { online: 0, away: 1, offline: 2 };

/** Hands the conversation to another agent: who (with their availability), why, and, for leads, even if they are not available. */
export function TransferDialog({ open, onOpenChange, c, users, onDone }: { open: boolean; onOpenChange: (v: boolean) => void; c: Conversation; users: User[]; onDone: (c: Conversation) => void }) {
  const { can } = useSession();
  const [to, setTo] = useState("");
  const [reason, setReason] = useState("");
  const [force, setForce] = useState(false);
  const [error, setError] = useState<{ text: string; forceable: boolean } | null>(null);
  const [busy, setBusy] = useState(false);
  const qc = useQueryClient();
  useEffect(() => {
    if (open) {
      setTo("");
      setReason("");
      setForce(false);
      setError(null);
    }
  }, [open]);
  const choices = users.filter((u) => !u.disabled && u.id !== c.assigneeId).sort((a, b) => order[a.availability] - order[b.availability] || (a.name || a.email).localeCompare(b.name || b.email));
  const chosen = choices.find((u) => u.id === to);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!to) return;
    setBusy(true);
    setError(null);
    try {
      const body: Record<string, unknown> = { toAgentId: to, reason: reason.trim() };
      if (force) body.force = true;
      const next = await api<Conversation>("POST", `/api/conversations/${c.id}/transfer`, body);
      onDone(next);
      void qc.invalidateQueries({ queryKey: ["conversations"] });
      void qc.invalidateQueries({ queryKey: ["transfers", c.id] });
      onOpenChange(false);
    } catch (err) {
      const conflict = err instanceof ApiError && err.status === 409;
      setError({ text: err instanceof ApiError ? err.message : "The transfer failed.", forceable: conflict && can("forceTransfer") });
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="Transfer the conversation" description="The other agent takes it over; the customer sees who they are talking to now.">
      <form onSubmit={submit} className="space-y-3">
        <fieldset>
          <legend className="mb-1 text-sm font-medium">To</legend>
          {choices.length === 0 ? (
            <p className="text-sm text-muted">There is nobody else to hand it to.</p>
          ) : (
            <div role="radiogroup" aria-label="Agent" className="max-h-56 space-y-0.5 overflow-y-auto rounded-md border border-line p-1">
              {choices.map((u) => (
                <label key={u.id} className={cn("flex cursor-pointer items-center gap-2 rounded px-2 py-1.5 text-sm hover:bg-raised", to === u.id && "bg-raised")}>
                  <input type="radio" name="transfer-to" value={u.id} checked={to === u.id} onChange={() => setTo(u.id)} />
                  <span className={cn("h-2.5 w-2.5 shrink-0 rounded-full", dot[u.availability])} aria-hidden="true" />
                  <span className="min-w-0 flex-1 truncate">{u.name || u.email}</span>
                  <span className="text-xs text-muted">
                    {u.availability}
                    {u.maxChats > 0 ? ` · up to ${u.maxChats} chats` : ""}
                  </span>
                </label>
              ))}
            </div>
          )}
          {chosen && chosen.availability !== "online" && (
            <p className="mt-1 text-xs text-muted">
              {chosen.name || chosen.email} is {chosen.availability}: {can("forceTransfer") ? "tick “Transfer anyway” to hand it over all the same." : "only team leads can hand chats to someone who is not online."}
            </p>
          )}
        </fieldset>
        <div>
          <Label htmlFor="transfer-reason">Reason (optional, only your team sees it)</Label>
          <Textarea id="transfer-reason" rows={2} value={reason} maxLength={500} onChange={(e) => setReason(e.target.value)} />
        </div>
        {can("forceTransfer") && (
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={force} onChange={(e) => setForce(e.target.checked)} />
            Transfer anyway, even if they are away, offline or at their limit
          </label>
        )}
        {error && (
          <p role="alert" className="text-sm text-danger">
            {error.text}
            {error.forceable && !force && " Tick “Transfer anyway” to hand it over all the same."}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary" disabled={!to || busy}>
            {busy ? "Transferring…" : "Transfer"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

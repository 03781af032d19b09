// The chat's composer: replies and private notes, files by button or paste,
// and quick replies: typing "/" opens a list filtered by what follows,
// driven by the keyboard (↑ ↓ to move, Enter or Tab to insert, Esc to
// close); the chosen reply is expanded by the server (its {{variables}}
// filled for this conversation) and takes the place of the "/word".

import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { ApiError } from "../../shared/api";
import type { ConversationSync } from "../../shared/sync";
import type { Conversation, QuickReply } from "../../shared/types";
import { api, useSession } from "../lib/session";
import { useLive } from "../lib/live";
import { useQuickReplies } from "../lib/queries";
import { bareShortcut, matchReplies, replaceQuery, slashQuery, type SlashQuery } from "../lib/slash";
import { Button } from "../components/ui/button";
import { Textarea } from "../components/ui/input";
import { Switch } from "../components/ui/switch";
import { cn } from "../components/ui/cn";
import { LockIcon } from "../components/icons";

const TYPING_REPEAT = 3_000;
const TYPING_IDLE = 5_000;

export function Composer({ c, sync }: { c: Conversation; sync: ConversationSync }) {
  const live = useLive();
  const { user } = useSession();
  const [text, setText] = useState("");
  const [noteOn, setNote] = useState(false);
  const [slash, setSlash] = useState<SlashQuery | null>(null);
  const [active, setActive] = useState(0);
  const [expandError, setExpandError] = useState("");
  const typingAt = useRef(0);
  const idle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const ref = useRef<HTMLTextAreaElement>(null);
  const file = useRef<HTMLInputElement>(null);
  const replies = useQuickReplies();
  const canReply = c.assigneeId === user.id || !c.assigneeId;
  const note = noteOn || !canReply;
  const disabled = c.status === "closed";
  const canAttach = !disabled && canReply && !note;
  const matches = slash ? matchReplies(replies.data ?? [], slash.query) : [];
  const open = slash !== null;

  const stopTyping = () => {
    clearTimeout(idle.current);
    if (!typingAt.current) return;
    typingAt.current = 0;
    live.send({ type: "typing", conversationId: c.id, state: "stop", note: note || undefined });
  };
  useEffect(() => stopTyping, []); // eslint-disable-line react-hooks/exhaustive-deps

  const onText = (v: string, caret: number) => {
    setText(v);
    const q = slashQuery(v, caret);
    setSlash(q);
    if (q && (!slash || q.query !== slash.query)) setActive(0);
    setExpandError("");
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
    setSlash(null);
    ref.current?.focus();
  };

  const pick = async (r: QuickReply) => {
    const q = slash;
    if (!q) return;
    setSlash(null);
    let insert = r.text;
    try {
      insert = (await api<{ text: string }>("POST", `/api/quick-replies/${r.id}/expand`, { conversationId: c.id })).text;
    } catch (e) {
      setExpandError(`Could not fill in the reply's details (${e instanceof ApiError ? e.message : "no connection"}): check the text before sending.`);
    }
    // The text may have changed while the expansion was on its way.
    const el = ref.current;
    const current = el?.value ?? text;
    const still = slashQuery(current, Math.min(q.end, current.length));
    const at = still && still.start === q.start ? still : q.end <= current.length && current.slice(q.start, q.end).startsWith("/") ? q : null;
    const next = at ? replaceQuery(current, at, insert) : { text: current + insert, caret: current.length + insert.length };
    setText(next.text);
    requestAnimationFrame(() => {
      ref.current?.focus();
      ref.current?.setSelectionRange(next.caret, next.caret);
    });
  };

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = Math.min(el.scrollHeight, 160) + "px";
  }, [text]);

  const listId = `qr-list-${c.id}`;
  const optionId = (i: number) => `${listId}-${i}`;

  return (
    <form
      className={cn("relative border-t border-line p-3", note ? "bg-note/60" : "bg-panel")}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      {open && (
        <div className="absolute right-3 bottom-full left-3 z-20 mb-1 rounded-md border border-line bg-panel shadow-lg">
          <p className="border-b border-line px-3 py-1 text-xs text-muted">Quick replies · ↑ ↓ to choose, Enter to insert, Esc to close</p>
          {replies.isPending ? (
            <p className="px-3 py-2 text-sm text-muted">Loading…</p>
          ) : matches.length === 0 ? (
            <p className="px-3 py-2 text-sm text-muted">{(replies.data?.length ?? 0) === 0 ? "No quick replies yet: add some on the Quick replies page." : "No quick reply matches."}</p>
          ) : (
            <ul id={listId} role="listbox" aria-label="Quick replies" className="max-h-60 overflow-y-auto py-1">
              {matches.map((r, i) => (
                <li
                  key={r.id}
                  id={optionId(i)}
                  role="option"
                  aria-selected={i === active}
                  onMouseDown={(e) => {
                    e.preventDefault();
                    void pick(r);
                  }}
                  onMouseEnter={() => setActive(i)}
                  className={cn("cursor-pointer px-3 py-1.5 text-sm", i === active && "bg-raised")}
                >
                  <span className="font-mono font-medium">/{bareShortcut(r.shortcut)}</span>
                  {r.shared && <span className="ml-2 rounded bg-raised px-1 text-xs text-muted">shared</span>}
                  <span className="block truncate text-muted">{r.text}</span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <div className="mb-2 flex items-center gap-2 text-sm">
        <Switch id="note-toggle" checked={note} disabled={!canReply} onCheckedChange={setNote} label="Private note" />
        <label htmlFor="note-toggle" className={note ? "font-medium text-amber-800 dark:text-amber-300" : "text-muted"}>
          {note ? (
            <>
              <LockIcon />
              Private note: only your team sees it
            </>
          ) : (
            "Private note"
          )}
        </label>
        {!canReply && c.status !== "closed" && <span className="ml-auto text-xs text-muted">Someone else has this chat: you can add notes.</span>}
        {c.status === "closed" && <span className="ml-auto text-xs text-muted">This conversation is closed. Reopen it to reply.</span>}
        {canReply && c.status !== "closed" && <span className="ml-auto text-xs text-muted">Type / for quick replies</span>}
      </div>
      {expandError && (
        <p role="alert" className="mb-1 text-xs text-danger">
          {expandError}
        </p>
      )}
      <div className="flex items-end gap-2">
        <input
          ref={file}
          type="file"
          multiple
          hidden
          data-testid="agent-file-input"
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = "";
            for (const f of files) void live.uploads.add(c.id, f);
          }}
        />
        <Button variant="ghost" aria-label="Attach files" title="Attach files (or drop or paste them)" disabled={!canAttach} onClick={() => file.current?.click()} className="h-10 w-10 shrink-0 px-0">
          <svg width="18" height="18" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
            <path d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9" />
          </svg>
        </Button>
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
          role="combobox"
          aria-autocomplete="list"
          aria-expanded={open && matches.length > 0}
          aria-controls={open && matches.length > 0 ? listId : undefined}
          aria-activedescendant={open && matches.length > 0 ? optionId(active) : undefined}
          placeholder={note ? "Write a private note…" : "Write a reply… (Enter sends, Shift+Enter for a new line, / for quick replies)"}
          onChange={(e) => onText(e.target.value, e.target.selectionStart ?? e.target.value.length)}
          onSelect={(e) => {
            const el = e.currentTarget;
            if (slash) setSlash(slashQuery(el.value, el.selectionStart ?? el.value.length));
          }}
          onBlur={() => {
            stopTyping();
            setSlash(null);
          }}
          onPaste={(e) => {
            const files = Array.from(e.clipboardData.files);
            if (!files.length || !canAttach) return;
            e.preventDefault();
            for (const f of files) void live.uploads.add(c.id, f);
          }}
          onKeyDown={(e) => {
            if (open) {
              if (e.key === "Escape") {
                e.preventDefault();
                setSlash(null);
                return;
              }
              if (matches.length > 0) {
                if (e.key === "ArrowDown") {
                  e.preventDefault();
                  setActive((active + 1) % matches.length);
                  return;
                }
                if (e.key === "ArrowUp") {
                  e.preventDefault();
                  setActive((active - 1 + matches.length) % matches.length);
                  return;
                }
                if ((e.key === "Enter" && !e.shiftKey) || e.key === "Tab") {
                  e.preventDefault();
                  void pick(matches[Math.min(active, matches.length - 1)]);
                  return;
                }
              }
            }
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

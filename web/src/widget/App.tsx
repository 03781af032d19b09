import { useEffect, useLayoutEffect, useRef, useState, useSyncExternalStore, type FormEvent, type KeyboardEvent, type ReactNode } from "react";
import { dayLabel, sameDay, textOn, timeLabel } from "../shared/format";
import { formatHours } from "../shared/hours";
import type { OutboxEntry } from "../shared/outbox";
import { MessageText } from "../shared/text";
import { defaultWidgetConfig, type Message } from "../shared/types";
import type { WidgetController } from "./controller";
import { fill, pickLanguage, strings, type Strings } from "./i18n";
import { Attachments, PendingUploads } from "./Files";

const lang = pickLanguage(typeof navigator === "undefined" ? ["en"] : navigator.languages?.length ? navigator.languages : [navigator.language]);
const t: Strings = strings(lang);

// The server's defaults are English; a site that kept them gets them in the
// visitor's language.
function title(c: WidgetController) {
  return c.config.title === defaultWidgetConfig.title ? t.defaultTitle : c.config.title;
}
function greeting(c: WidgetController) {
  return c.config.greeting === defaultWidgetConfig.greeting ? t.defaultGreeting : c.config.greeting;
}

export function App({ c }: { c: WidgetController }) {
  useSyncExternalStore(c.subscribe, c.getVersion);
  const cfg = c.config;

  useEffect(() => {
    document.documentElement.lang = lang;
    document.documentElement.style.setProperty("--pc", cfg.color);
    document.documentElement.style.setProperty("--pc-text", textOn(cfg.color));
    document.title = title(c);
  }, [cfg.color, cfg.title]);

  const onKey = (e: KeyboardEvent) => {
    if (e.key === "Escape" && c.framed) c.minimize();
  };

  // Files dropped anywhere on the widget are sent.
  const [dropping, setDropping] = useState(false);
  const canAttach = c.phase !== "loading" && c.conversation?.status !== "closed" && !(c.phase === "intro" && c.config.preChatForm === "required" && !c.visitor);
  const hasFiles = (e: DragEvent) => Array.from(e.dataTransfer?.types ?? []).includes("Files");

  return (
    <div
      className="relative flex h-full flex-col bg-white text-gray-900"
      onKeyDown={onKey}
      onDragOver={(e) => {
        if (!canAttach || !hasFiles(e as unknown as DragEvent)) return;
        e.preventDefault();
        setDropping(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDropping(false);
      }}
      onDrop={(e) => {
        setDropping(false);
        const files = Array.from((e as unknown as DragEvent).dataTransfer?.files ?? []);
        if (!canAttach || !files.length) return;
        e.preventDefault();
        void c.attach(files);
      }}
    >
      {dropping && (
        <div className="pointer-events-none absolute inset-2 z-40 flex items-center justify-center rounded-xl border-2 border-dashed border-gray-400 bg-white/90 p-4 text-center text-sm font-medium">
          {t.dropHere}
        </div>
      )}
      <Header c={c} />
      <Notices c={c} />
      {c.phase === "loading" ? (
        <div className="flex-1" aria-busy="true" />
      ) : c.phase === "intro" ? (
        <Intro c={c} />
      ) : c.sync ? (
        <Timeline c={c} />
      ) : null}
      {c.phase !== "loading" && <Composer c={c} />}
    </div>
  );
}

function Header({ c }: { c: WidgetController }) {
  const name = c.agentName();
  const sub = c.phase !== "chat" ? "" : name ? fill(t.agentJoined, { name }) : c.conversation?.status === "waiting" ? t.waiting : "";
  return (
    <header className="bg-brand flex items-center gap-3 px-4 py-3">
      <div className="min-w-0 flex-1">
        <h1 className="truncate text-base font-semibold">{title(c)}</h1>
        {sub && <p className="truncate text-sm opacity-90">{sub}</p>}
      </div>
      {c.phase === "chat" && c.conversation && (c.sync?.timeline.messages.length ?? 0) > 0 && <TranscriptButton c={c} />}
      {c.framed && (
        <button
          type="button"
          onClick={() => c.minimize()}
          aria-label={t.minimize}
          className="rounded p-1 hover:bg-black/10 focus-visible:outline-2 focus-visible:outline-current"
        >
          <svg width="22" height="22" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
            <path d="M6 9l6 6 6-6" />
          </svg>
        </button>
      )}
    </header>
  );
}

function TranscriptButton({ c }: { c: WidgetController }) {
  const [failed, setFailed] = useState(false);
  return (
    <>
      <button
        type="button"
        onClick={() => void c.downloadTranscript().then((ok) => setFailed(!ok))}
        aria-label={t.transcript}
        title={t.transcript}
        className="rounded p-1 hover:bg-black/10 focus-visible:outline-2 focus-visible:outline-current"
      >
        <svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
          <path d="M12 3v12m0 0l-4-4m4 4l4-4M5 21h14" />
        </svg>
      </button>
      {failed && (
        <span role="alert" className="sr-only">
          {t.transcriptFailed}
        </span>
      )}
    </>
  );
}

function Notice({ children, tone = "info" }: { children: ReactNode; tone?: "info" | "warn" }) {
  return (
    <div role="status" className={"border-b px-4 py-2 text-sm " + (tone === "warn" ? "border-amber-200 bg-amber-50 text-amber-900" : "border-gray-200 bg-gray-50 text-gray-700")}>
      {children}
    </div>
  );
}

function Notices({ c }: { c: WidgetController }) {
  const cfg = c.config;
  const out = [];
  if (!c.online) out.push(<Notice key="net" tone="warn">{t.offlineNet}</Notice>);
  else if (c.phase === "chat" && c.connection === "reconnecting") out.push(<Notice key="re" tone="warn">{t.reconnecting}</Notice>);
  if (!cfg.online) out.push(<Away key="away" c={c} />);
  if (c.error) out.push(<Notice key="err" tone="warn">{c.error === "error" ? t.error : c.error}</Notice>);
  return <>{out}</>;
}

function Away({ c }: { c: WidgetController }) {
  const cfg = c.config;
  const [email, setEmail] = useState("");
  const [bad, setBad] = useState(false);
  const hours = formatHours(cfg.businessHours, t.days.split(","));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const v = email.trim();
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v)) return setBad(true);
    setBad(false);
    void c.leaveEmail(v);
  };
  return (
    <div role="status" className="border-b border-gray-200 bg-gray-50 px-4 py-3 text-sm text-gray-800">
      <p className="font-medium">{t.awayTitle}</p>
      {cfg.offlineMessage && <p className="mt-1">{cfg.offlineMessage}</p>}
      {hours && <p className="mt-1">{fill(t.awayHours, { hours })}</p>}
      {c.emailSaved ? (
        <p className="mt-2">{fill(t.emailSaved, { email: c.emailSaved })}</p>
      ) : (
        <form onSubmit={submit} className="mt-2" noValidate>
          <label htmlFor="away-email" className="block">
            {t.awayEmail}
          </label>
          <div className="mt-1 flex gap-2">
            <input
              id="away-email"
              type="email"
              autoComplete="email"
              value={email}
              onChange={(e) => setEmail((e.target as HTMLInputElement).value)}
              aria-invalid={bad}
              className="min-w-0 flex-1 rounded border border-gray-300 px-2 py-1 ring-brand"
            />
            <button type="submit" className="bg-brand rounded px-3 py-1 font-medium ring-brand">
              {t.saveEmail}
            </button>
          </div>
          {bad && <p className="mt-1 text-red-700">{t.badEmail}</p>}
        </form>
      )}
    </div>
  );
}

let introName = "";
let introEmail = "";

function Intro({ c }: { c: WidgetController }) {
  const mode = c.config.preChatForm;
  const [name, setName] = useState(introName);
  const [email, setEmail] = useState(introEmail);
  const [problem, setProblem] = useState("");
  introName = name;
  introEmail = email;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (mode === "required" && (!name.trim() || !email.trim())) return setProblem(t.fillIn);
    if (email.trim() && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email.trim())) return setProblem(t.badEmail);
    setProblem("");
    void c.ensureChat({ name: name.trim(), email: email.trim() });
  };
  const hint = mode === "required" ? t.required : t.optional;
  return (
    <div className="flex-1 overflow-y-auto px-4 py-4">
      <div className="max-w-[85%] rounded-2xl rounded-tl-sm bg-gray-100 px-3 py-2 text-[15px] whitespace-pre-wrap">{greeting(c)}</div>
      {mode !== "off" && !c.visitor && (
        <form onSubmit={submit} className="mt-4 space-y-3" noValidate aria-label={t.startTitle}>
          <div>
            <label htmlFor="pc-name" className="block text-sm font-medium">
              {t.nameLabel} <span className="font-normal text-gray-600">({hint})</span>
            </label>
            <input
              id="pc-name"
              autoComplete="name"
              value={name}
              maxLength={200}
              required={mode === "required"}
              onChange={(e) => setName((e.target as HTMLInputElement).value)}
              className="mt-1 w-full rounded border border-gray-300 px-2 py-1.5 ring-brand"
            />
          </div>
          <div>
            <label htmlFor="pc-email" className="block text-sm font-medium">
              {t.emailLabel} <span className="font-normal text-gray-600">({hint})</span>
            </label>
            <input
              id="pc-email"
              type="email"
              autoComplete="email"
              value={email}
              maxLength={320}
              required={mode === "required"}
              onChange={(e) => setEmail((e.target as HTMLInputElement).value)}
              className="mt-1 w-full rounded border border-gray-300 px-2 py-1.5 ring-brand"
            />
          </div>
          {problem && (
            <p role="alert" className="text-sm text-red-700">
              {problem}
            </p>
          )}
          <button type="submit" className="bg-brand w-full rounded px-3 py-2 font-medium ring-brand">
            {t.start}
          </button>
        </form>
      )}
      <PendingList c={c} entries={c.outbox.all().filter((e) => !e.conversationId)} />
    </div>
  );
}

function Timeline({ c }: { c: WidgetController }) {
  const sync = c.sync!;
  const msgs = sync.timeline.messages;
  const pending = sync.pending();
  const uploads = c.uploads.pending(sync.conversationId, (id) => sync.timeline.hasClientMessage(id));
  const ref = useRef<HTMLDivElement>(null);
  const count = msgs.length + pending.length + uploads.length;
  const closed = c.conversation?.status === "closed";
  useLayoutEffect(() => {
    const el = ref.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [count, c.agentTyping !== null, c.open, closed, c.rating.state]);
  let lastOwn = -1;
  for (let i = msgs.length - 1; i >= 0; i--) if (msgs[i].senderType === "customer") {
      lastOwn = i;
      break;
    }
  return (
    <div ref={ref} className="flex-1 overflow-y-auto px-3 py-3">
      <div className="mb-3 max-w-[85%] rounded-2xl rounded-tl-sm bg-gray-100 px-3 py-2 text-[15px] whitespace-pre-wrap">{greeting(c)}</div>
      <div role="log" aria-live="polite" aria-label={t.messages} className="space-y-1">
        {msgs.map((m, i) => (
          <Row key={m.seq} c={c} m={m} prev={msgs[i - 1]} showStatus={i === lastOwn && pending.length === 0} />
        ))}
      </div>
      <PendingList c={c} entries={pending} />
      <PendingUploads c={c} t={t} items={uploads} />
      {c.agentTyping && (
        <div className="mt-2 flex items-center gap-2 text-sm text-gray-600" aria-live="polite">
          <span className="inline-flex gap-0.5" aria-hidden="true">
            <span className="dot">•</span>
            <span className="dot">•</span>
            <span className="dot">•</span>
          </span>
          {fill(t.typing, { name: c.agentTyping.name || t.agent })}
        </div>
      )}
      {closed && (
        <div className="mt-4 rounded-lg border border-gray-200 bg-gray-50 p-3 text-center text-sm" role="status">
          <p>{t.closed}</p>
          <RatingForm c={c} />
          <button type="button" onClick={() => void c.newChat()} className="bg-brand mt-2 rounded px-3 py-1.5 font-medium ring-brand">
            {t.newChat}
          </button>
        </div>
      )}
    </div>
  );
}

function Row({ c, m, prev, showStatus }: { c: WidgetController; m: Message; prev?: Message; showStatus: boolean }) {
  const d = new Date(m.createdAt);
  const sep = !prev || !sameDay(new Date(prev.createdAt), d);
  const own = m.senderType === "customer";
  let status = t.sent;
  if (c.agentReadSeq >= m.seq) status = t.seen;
  else if (c.agentPresent) status = t.delivered;
  const name = m.senderType === "agent" ? m.senderName || (m.senderId && c.agentNames.get(m.senderId)) || t.agent : "";
  const showName = m.senderType === "agent" && (!prev || prev.senderId !== m.senderId || sep);
  return (
    <>
      {sep && (
        <div className="my-2 text-center text-xs text-gray-500" role="separator">
          {dayLabel(d, lang, t.today, t.yesterday)}
        </div>
      )}
      {m.senderType === "system" ? (
        <p className="my-2 text-center text-xs text-gray-600">
          <MessageText text={m.content} />
        </p>
      ) : (
        <div className={"flex flex-col " + (own ? "items-end" : "items-start")}>
          {showName && <span className="mt-1 mb-0.5 px-1 text-xs text-gray-600">{name}</span>}
          <div
            className={
              "max-w-[85%] rounded-2xl px-3 py-2 text-[15px] break-words whitespace-pre-wrap " +
              (own ? "bg-brand rounded-br-sm" : "rounded-tl-sm bg-gray-100 text-gray-900")
            }
          >
            <span className="sr-only">{own ? t.you : name}: </span>
            {m.attachments && m.attachments.length > 0 && (
              <span className={"block space-y-1 " + (m.content ? "mb-1" : "")}>
                <Attachments c={c} t={t} items={m.attachments} own={own} />
              </span>
            )}
            <MessageText text={m.content} />
          </div>
          <span className="px-1 text-[11px] text-gray-500">
            <time dateTime={m.createdAt}>{timeLabel(d, lang)}</time>
            {own && (showStatus ? <> · {status}</> : <span className="sr-only">, {status}</span>)}
          </span>
        </div>
      )}
    </>
  );
}

function PendingList({ c, entries }: { c: WidgetController; entries: OutboxEntry[] }) {
  if (!entries.length) return null;
  return (
    <div className="mt-1 space-y-1">
      {entries.map((e) => (
        <div key={e.clientMessageId} className="flex flex-col items-end" data-pending={e.seq === undefined ? "true" : "acked"}>
          <div className={"bg-brand max-w-[85%] rounded-2xl rounded-br-sm px-3 py-2 text-[15px] break-words whitespace-pre-wrap " + (e.seq === undefined ? "opacity-70" : "")}>
            <MessageText text={e.content} />
          </div>
          <span className="px-1 text-[11px] text-gray-500">
            {e.failed ? (
              <>
                <span className="text-red-700">
                  {t.notSent} {e.failed}
                </span>{" "}
                <button type="button" className="underline" onClick={() => c.retry(e.clientMessageId)}>
                  {t.tryAgain}
                </button>
              </>
            ) : e.seq === undefined ? (
              t.sending
            ) : (
              t.sent
            )}
          </span>
        </div>
      ))}
    </div>
  );
}

function Composer({ c }: { c: WidgetController }) {
  const [text, setText] = useState("");
  const ref = useRef<HTMLTextAreaElement>(null);
  const closed = c.conversation?.status === "closed";
  const blocked = c.phase === "intro" && c.config.preChatForm === "required" && !c.visitor;
  const disabled = closed || blocked;
  // Opening the chat puts the cursor in the composer (state, not an event, so
  // an "open" that arrives before this effect runs is not missed).
  useEffect(() => {
    if (c.open) ref.current?.focus();
  }, [c.open]);
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = "auto";
    el.style.height = Math.min(el.scrollHeight, 120) + "px";
  }, [text]);
  const submit = () => {
    if (!text.trim() || disabled) return;
    c.send(text);
    setText("");
  };
  const file = useRef<HTMLInputElement>(null);
  return (
    <form
      className="flex items-end gap-2 border-t border-gray-200 p-2"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <input
        ref={file}
        type="file"
        multiple
        hidden
        tabIndex={-1}
        aria-hidden="true"
        data-testid="file-input"
        onChange={(e) => {
          const el = e.target as HTMLInputElement;
          const files = Array.from(el.files ?? []);
          el.value = "";
          void c.attach(files);
        }}
      />
      <button
        type="button"
        disabled={disabled}
        onClick={() => file.current?.click()}
        aria-label={t.attach}
        title={t.attach}
        className="h-10 w-10 shrink-0 rounded-full text-gray-600 hover:bg-gray-100 ring-brand disabled:opacity-50"
      >
        <svg className="mx-auto" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
          <path d="M21 11.5l-8.6 8.6a5 5 0 0 1-7.1-7.1l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9" />
        </svg>
      </button>
      <label htmlFor="pc-composer" className="sr-only">
        {t.composer}
      </label>
      <textarea
        id="pc-composer"
        ref={ref}
        rows={1}
        value={text}
        disabled={disabled}
        maxLength={10000}
        placeholder={t.composer}
        aria-describedby="pc-hint"
        onChange={(e) => {
          const v = (e.target as HTMLTextAreaElement).value;
          setText(v);
          c.typing(v.trim() !== "");
        }}
        onBlur={() => c.stopTyping()}
        onPaste={(e) => {
          const files = Array.from((e as unknown as ClipboardEvent).clipboardData?.files ?? []);
          if (!files.length) return;
          e.preventDefault();
          void c.attach(files);
        }}
        onKeyDown={(e) => {
          if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
            e.preventDefault();
            submit();
          }
        }}
        className="max-h-[120px] min-h-[40px] flex-1 resize-none rounded-lg border border-gray-300 px-3 py-2 text-[15px] ring-brand disabled:bg-gray-100"
      />
      <span id="pc-hint" className="sr-only">
        {t.composerHint}
      </span>
      <button type="submit" disabled={disabled || !text.trim()} aria-label={t.send} className="bg-brand h-10 w-10 shrink-0 rounded-full ring-brand disabled:opacity-50">
        <svg className="mx-auto" width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true">
          <path d="M5 12h14M13 6l6 6-6 6" />
        </svg>
      </button>
    </form>
  );
}

function RatingForm({ c }: { c: WidgetController }) {
  const r = c.rating;
  const [score, setScore] = useState(0);
  const [comment, setComment] = useState("");
  if (r.state === "done")
    return (
      <p className="mt-2" data-testid="rated">
        {t.rateThanks} {fill(t.rated, { n: String(r.rating.score) })}
      </p>
    );
  if (r.state !== "ask" && r.state !== "sending") return null;
  return (
    <form
      className="mt-3 text-left"
      aria-label={t.rateTitle}
      onSubmit={(e) => {
        e.preventDefault();
        if (score) void c.rate(score, comment);
      }}
    >
      <fieldset>
        <legend className="mb-1 text-center font-medium">{t.rateTitle}</legend>
        <div className="flex justify-center gap-1" role="radiogroup" aria-label={t.rateTitle}>
          {[1, 2, 3, 4, 5].map((n) => (
            <button
              key={n}
              type="button"
              role="radio"
              aria-checked={score === n}
              aria-label={fill(t.rateStar, { n: String(n) })}
              onClick={() => setScore(n)}
              onKeyDown={(e) => {
                if (e.key === "ArrowRight" || e.key === "ArrowUp") setScore(Math.min(5, (score || 0) + 1));
                if (e.key === "ArrowLeft" || e.key === "ArrowDown") setScore(Math.max(1, (score || 2) - 1));
              }}
              className={"h-9 w-9 rounded text-2xl leading-none ring-brand " + (n <= score ? "text-amber-500" : "text-gray-400")}
            >
              <span aria-hidden="true">{n <= score ? "★" : "☆"}</span>
            </button>
          ))}
        </div>
      </fieldset>
      {score > 0 && (
        <>
          <label htmlFor="pc-rate-comment" className="mt-2 block text-sm">
            {t.rateComment}
          </label>
          <textarea
            id="pc-rate-comment"
            rows={2}
            maxLength={2000}
            value={comment}
            onChange={(e) => setComment((e.target as HTMLTextAreaElement).value)}
            className="mt-1 w-full rounded border border-gray-300 px-2 py-1 ring-brand"
          />
          <button type="submit" disabled={r.state === "sending"} className="bg-brand mt-2 w-full rounded px-3 py-1.5 font-medium ring-brand disabled:opacity-60">
            {t.rateSend}
          </button>
        </>
      )}
      {c.ratingError && (
        <p role="alert" className="mt-1 text-red-700">
          {c.ratingError === "error" ? t.error : c.ratingError}
        </p>
      )}
    </form>
  );
}

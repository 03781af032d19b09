// Files in the widget: pictures shown from blob: URLs fetched with the
// visitor's Authorization header (never a token in a URL), other files saved
// the same way, files on their way with their progress, and a plain-words
// reason when the server refused one.

import { useEffect, useState } from "react";
import { blobURL, download } from "../shared/files";
import type { Attachment } from "../shared/types";
import { formatSize, refusal, type PendingUpload } from "../shared/upload";
import type { WidgetController } from "./controller";
import { fill, type Strings } from "./i18n";

function useBlobURL(path: string | undefined, token: string | null): string | null | "error" {
  const [url, setURL] = useState<string | null | "error">(null);
  useEffect(() => {
    if (!path) return;
    let live = true;
    blobURL(path, token).then(
      (u) => live && setURL(u),
      () => live && setURL("error"),
    );
    return () => {
      live = false;
    };
  }, [path, token]);
  return url;
}

export function Attachments({ c, t, items, own }: { c: WidgetController; t: Strings; items: Attachment[]; own: boolean }) {
  const [open, setOpen] = useState<Attachment | null>(null);
  return (
    <>
      {items.map((a) =>
        a.type === "image" ? (
          <Picture key={a.id} c={c} t={t} a={a} onOpen={() => setOpen(a)} />
        ) : (
          <FileButton key={a.id} c={c} t={t} a={a} own={own} />
        ),
      )}
      {open && <Viewer c={c} t={t} a={open} onClose={() => setOpen(null)} />}
    </>
  );
}

function Picture({ c, t, a, onOpen }: { c: WidgetController; t: Strings; a: Attachment; onOpen: () => void }) {
  const url = useBlobURL(a.thumbnailUrl ?? a.url, c.visitor?.token ?? null);
  return (
    <button type="button" onClick={onOpen} aria-label={fill(t.openPicture, { name: a.name })} className="block overflow-hidden rounded-xl ring-brand" data-attachment={a.id}>
      {url && url !== "error" ? (
        <img src={url} alt={fill(t.picture, { name: a.name })} className="block max-h-48 max-w-full object-cover" />
      ) : (
        <span className="flex h-24 w-32 items-center justify-center bg-gray-200 text-xs text-gray-600">{url === "error" ? a.name : "…"}</span>
      )}
    </button>
  );
}

function Viewer({ c, t, a, onClose }: { c: WidgetController; t: Strings; a: Attachment; onClose: () => void }) {
  const url = useBlobURL(a.url, c.visitor?.token ?? null);
  useEffect(() => {
    const k = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        onClose();
      }
    };
    window.addEventListener("keydown", k, true);
    return () => window.removeEventListener("keydown", k, true);
  }, [onClose]);
  return (
    <div role="dialog" aria-modal="true" aria-label={fill(t.picture, { name: a.name })} className="fixed inset-0 z-50 flex flex-col bg-black/85 p-3">
      <div className="flex justify-end gap-2">
        <button type="button" className="rounded bg-white/90 px-3 py-1 text-sm text-gray-900" onClick={() => void download(a.url, c.visitor?.token ?? null, a.name)}>
          {fill(t.download, { name: "" }).trim()}
        </button>
        <button type="button" autoFocus className="rounded bg-white/90 px-3 py-1 text-sm text-gray-900" onClick={onClose}>
          {t.closePicture}
        </button>
      </div>
      <div className="flex min-h-0 flex-1 items-center justify-center">
        {url && url !== "error" && <img src={url} alt={a.name} className="max-h-full max-w-full object-contain" />}
      </div>
    </div>
  );
}

function FileButton({ c, t, a, own }: { c: WidgetController; t: Strings; a: Attachment; own: boolean }) {
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState(false);
  const save = async () => {
    setBusy(true);
    setFailed(false);
    try {
      await download(a.url, c.visitor?.token ?? null, a.name);
    } catch {
      setFailed(true);
    } finally {
      setBusy(false);
    }
  };
  return (
    <span className="block">
      <button
        type="button"
        onClick={() => void save()}
        disabled={busy}
        aria-label={fill(t.download, { name: a.name })}
        data-attachment={a.id}
        className={"flex max-w-full items-center gap-2 rounded-xl border px-3 py-2 text-left text-sm ring-brand " + (own ? "border-white/40" : "border-gray-300 bg-white")}
      >
        <svg width="20" height="20" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" aria-hidden="true" className="shrink-0">
          <path d="M12 3v12m0 0l-4-4m4 4l4-4M5 21h14" />
        </svg>
        <span className="min-w-0">
          <span className="block truncate font-medium">{a.name}</span>
          <span className="block text-xs opacity-80">{formatSize(a.size)}</span>
        </span>
      </button>
      {failed && <span className="mt-1 block text-xs text-red-700">{t.fileNetwork}</span>}
    </span>
  );
}

export function refusalText(t: Strings, e: PendingUpload["error"]): string {
  switch (refusal(e)) {
    case "too_large":
      return t.fileTooBig;
    case "quota":
      return t.fileQuota;
    case "type":
      return t.fileType;
    case "closed":
      return t.fileClosed;
    case "network":
      return t.fileNetwork;
  }
  return e?.message ? `${t.fileFailed} ${e.message}` : t.fileFailed;
}

export function PendingUploads({ c, t, items }: { c: WidgetController; t: Strings; items: PendingUpload[] }) {
  if (!items.length) return null;
  return (
    <div className="mt-1 space-y-1">
      {items.map((u) => {
        const pct = u.size ? Math.min(100, Math.round((u.sent / u.size) * 100)) : 0;
        return (
          <div key={u.clientMessageId} className="flex flex-col items-end" data-upload={u.error ? "failed" : u.seq !== undefined ? "done" : "sending"}>
            <div className={"bg-brand max-w-[85%] rounded-2xl rounded-br-sm px-3 py-2 text-sm " + (u.error ? "" : "opacity-80")}>
              {u.preview && <img src={u.preview} alt="" className="mb-1 block max-h-32 max-w-full rounded" />}
              <span className="block truncate">{u.name}</span>
              {!u.error && u.seq === undefined && (
                <span className="mt-1 block h-1.5 w-40 max-w-full overflow-hidden rounded bg-white/40" role="progressbar" aria-label={u.name} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}>
                  <span className="block h-full bg-white" style={{ width: pct + "%" }} />
                </span>
              )}
            </div>
            <span className="max-w-[85%] px-1 text-right text-[11px] text-gray-600">
              {u.error ? (
                <>
                  <span role="alert" className="text-red-700">
                    {refusalText(t, u.error)}
                  </span>{" "}
                  {(refusal(u.error) === "network" || refusal(u.error) === "other") && (
                    <button type="button" className="underline" onClick={() => c.uploads.retry(u.clientMessageId)}>
                      {t.tryAgain}
                    </button>
                  )}{" "}
                  <button type="button" className="underline" onClick={() => c.uploads.remove(u.clientMessageId)}>
                    {t.remove}
                  </button>
                </>
              ) : u.seq !== undefined ? (
                t.sent
              ) : (
                fill(t.uploading, { percent: String(pct) })
              )}
            </span>
          </div>
        );
      })}
    </div>
  );
}

// Files in the dashboard's timeline. Agents' session cookie works on the
// file URLs, so pictures are plain <img> of their thumbnails linking to the
// full file, and other files plain download links.

import type { Attachment } from "../../shared/types";
import { formatSize, refusal, type PendingUpload } from "../../shared/upload";
import { cn } from "../components/ui/cn";

export function AttachmentList({ items, onDark }: { items: Attachment[]; onDark: boolean }) {
  return (
    <span className="block space-y-1">
      {items.map((a) =>
        a.type === "image" ? (
          <a key={a.id} href={a.url} target="_blank" rel="noopener noreferrer" className="block w-fit overflow-hidden rounded-lg" data-attachment={a.id} title={`Open ${a.name}`}>
            <img src={a.thumbnailUrl ?? a.url} alt={a.name} loading="lazy" className="block max-h-56 max-w-full object-cover" />
          </a>
        ) : (
          <a
            key={a.id}
            href={a.url}
            download={a.name}
            data-attachment={a.id}
            className={cn("flex w-fit max-w-full items-center gap-2 rounded-lg border px-3 py-2 no-underline", onDark ? "border-white/40" : "border-line bg-panel")}
          >
            <span aria-hidden="true">⤓</span>
            <span className="min-w-0">
              <span className="block truncate font-medium">{a.name}</span>
              <span className="block text-xs opacity-80">
                {formatSize(a.size)} · {a.contentType}
              </span>
            </span>
            <span className="sr-only">(download)</span>
          </a>
        ),
      )}
    </span>
  );
}

/** Why the server refused a file, in plain words. */
export function refusalMessage(u: PendingUpload): string {
  const e = u.error;
  switch (refusal(e)) {
    case "too_large":
      return `Too big to send. ${e?.message ?? ""}`.trim();
    case "quota":
      return e?.message ?? "The upload quota is used up.";
    case "type":
      return `This kind of file is not accepted. ${e?.message ?? ""}`.trim();
    case "closed":
      return "The conversation is closed, so the file was not sent.";
    case "network":
      return "The upload was cut off. Check the connection and try again.";
  }
  return e?.message ?? "The file was not sent.";
}

export function PendingUploadRow({ u, onRetry, onRemove }: { u: PendingUpload; onRetry: () => void; onRemove: () => void }) {
  const pct = u.size ? Math.min(100, Math.round((u.sent / u.size) * 100)) : 0;
  const kind = refusal(u.error);
  return (
    <li className="flex flex-col items-end" data-upload={u.error ? "failed" : u.seq !== undefined ? "done" : "sending"}>
      <div className={cn("max-w-[75%] rounded-2xl bg-accent px-3 py-2 text-sm text-accent-fg", !u.error && "opacity-80")}>
        {u.preview && <img src={u.preview} alt="" className="mb-1 block max-h-40 max-w-full rounded" />}
        <span className="block truncate">
          {u.name} <span className="opacity-80">({formatSize(u.size)})</span>
        </span>
        {!u.error && u.seq === undefined && (
          <span role="progressbar" aria-label={`Sending ${u.name}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} className="mt-1 block h-1.5 w-48 max-w-full overflow-hidden rounded bg-white/40">
            <span className="block h-full bg-white" style={{ width: pct + "%" }} />
          </span>
        )}
      </div>
      <span className="px-1 text-[11px] text-muted">
        {u.error ? (
          <>
            <span role="alert" className="text-danger">
              Not sent: {refusalMessage(u)}
            </span>{" "}
            {(kind === "network" || kind === "other") && (
              <button type="button" className="underline" onClick={onRetry}>
                Try again
              </button>
            )}{" "}
            <button type="button" className="underline" onClick={onRemove}>
              Discard
            </button>
          </>
        ) : u.seq !== undefined ? (
          "Sent"
        ) : (
          <>
            Sending… {pct}%{" "}
            <button type="button" className="underline" onClick={onRemove}>
              Cancel
            </button>
          </>
        )}
      </span>
    </li>
  );
}

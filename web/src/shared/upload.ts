// Files sent in a chat (docs/api.md, Files): one multipart POST per file to
// /api/files/upload with the fields first and the file LAST (the server reads
// and authorizes the fields before it stores a byte), sent by XMLHttpRequest
// so that its upload events can draw progress. A retry reuses the
// clientMessageId, so the server stores the file once whatever happens.
// Uploads keeps the files of a conversation that are on their way, like the
// outbox does for text, until the timeline shows their message.

import { ApiError, uuid } from "./api";
import type { Attachment } from "./types";

export interface UploadResult {
  fileUrl: string;
  fileSize: number;
  uploadStatus: string;
  messageId: string;
  seq: number;
  attachment: Attachment;
}

export interface UploadRequest {
  file: Blob;
  name: string;
  conversationId: string;
  clientMessageId: string;
  fileType: "image" | "document";
  caption?: string;
  /** A visitor's bearer token (never put in a URL). */
  token?: string | null;
  /** An agent's CSRF token. */
  csrf?: string | null;
  onProgress?: (sent: number, total: number) => void;
}

export interface UploadHandle {
  done: Promise<UploadResult>;
  abort: () => void;
}

/** The form, in the order the server requires: fields, then the file. */
export function uploadForm(r: Pick<UploadRequest, "file" | "name" | "conversationId" | "clientMessageId" | "fileType" | "caption">): FormData {
  const f = new FormData();
  f.append("conversationId", r.conversationId);
  f.append("fileType", r.fileType);
  f.append("clientMessageId", r.clientMessageId);
  if (r.caption) f.append("caption", r.caption);
  f.append("file", r.file, r.name);
  return f;
}

type XHRLike = Pick<XMLHttpRequest, "open" | "setRequestHeader" | "send" | "abort" | "status" | "responseText" | "upload" | "onload" | "onerror" | "onabort" | "withCredentials">;

/** Sends one file. Errors are ApiError: the server's code and message, or "network"/"aborted". */
export function sendFile(r: UploadRequest, XHR: new () => XHRLike = XMLHttpRequest): UploadHandle {
  const xhr = new XHR();
  const done = new Promise<UploadResult>((resolve, reject) => {
    xhr.open("POST", "/api/files/upload");
    xhr.withCredentials = true;
    xhr.setRequestHeader("Accept", "application/json");
    if (r.token) xhr.setRequestHeader("Authorization", "Bearer " + r.token);
    if (r.csrf) xhr.setRequestHeader("X-CSRF-Token", r.csrf);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable) r.onProgress?.(e.loaded, e.total);
    };
    xhr.onload = () => {
      let data: unknown = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status === 200 || xhr.status === 201) return resolve(data as UploadResult);
      const e = (data as { error?: { code?: string; message?: string } } | null)?.error;
      reject(new ApiError(xhr.status, e?.code ?? "http_" + xhr.status, e?.message ?? "The upload failed."));
    };
    xhr.onerror = () => reject(new ApiError(0, "network", "The upload was interrupted."));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "The upload was stopped."));
    xhr.send(uploadForm(r));
  });
  return { done, abort: () => xhr.abort() };
}

const IMAGE_MAGIC: [number, number[]][] = [
  [0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]], // PNG
  [0, [0xff, 0xd8, 0xff]], // JPEG
  [0, [0x47, 0x49, 0x46, 0x38]], // GIF8
];

/**
 * "image" when the first bytes are a PNG, JPEG, GIF or WebP (what the server
 * accepts as an image, by the same test it makes), else "document": the
 * server refuses a fileType that disagrees with the bytes, so the name and
 * the browser's guess of the type are not enough.
 */
export function fileTypeOf(head: Uint8Array): "image" | "document" {
  for (const [at, sig] of IMAGE_MAGIC) if (sig.every((b, i) => head[at + i] === b)) return "image";
  const riff = [0x52, 0x49, 0x46, 0x46].every((b, i) => head[i] === b);
  const webp = [0x57, 0x45, 0x42, 0x50].every((b, i) => head[8 + i] === b);
  return riff && webp ? "image" : "document";
}

export async function detectFileType(file: Blob): Promise<"image" | "document"> {
  try {
    return fileTypeOf(new Uint8Array(await file.slice(0, 16).arrayBuffer()));
  } catch {
    return "document";
  }
}

/** "2.4 MB", "512 KB", "12 bytes". */
export function formatSize(n: number): string {
  if (n < 1024) return `${n} bytes`;
  if (n < 1024 * 1024) return `${Math.round(n / 1024)} KB`;
  return `${(n / (1024 * 1024)).toFixed(n < 10 * 1024 * 1024 ? 1 : 0)} MB`;
}

export type Refusal = "too_large" | "quota" | "type" | "closed" | "network" | "other";

/** Why an upload failed, in the categories the UIs explain in plain words. */
export function refusal(e: unknown): Refusal {
  if (!(e instanceof ApiError)) return "other";
  if (e.code === "network" || e.code === "aborted") return "network";
  if (e.status === 413 || e.code === "too_large") return /quota/i.test(e.message) ? "quota" : "too_large";
  if (e.status === 415) return "type";
  if (e.status === 409) return "closed";
  return "other";
}

// --- files on their way ---

export interface PendingUpload {
  clientMessageId: string;
  conversationId: string;
  name: string;
  size: number;
  /** A local object URL of the file, for an image's preview while it goes. */
  preview?: string;
  sent: number;
  /** Set when it failed: the server's (or the network's) error. */
  error?: ApiError;
  /** Set once stored, until the timeline shows its message. */
  seq?: number;
}

interface Entry extends PendingUpload {
  file: Blob;
  fileType: "image" | "document";
  handle?: UploadHandle;
}

export interface UploadsOptions {
  token?: () => string | null;
  csrf?: () => string | null;
  onChange: () => void;
  /** For tests. */
  send?: typeof sendFile;
  createURL?: (b: Blob) => string;
  revokeURL?: (u: string) => void;
}

export class Uploads {
  private entries: Entry[] = [];

  constructor(private opts: UploadsOptions) {}

  /** The files of a conversation not yet shown in its timeline, oldest first. */
  pending(conversationId: string, shown: (clientMessageId: string) => boolean = () => false): PendingUpload[] {
    return this.entries.filter((e) => e.conversationId === conversationId && !shown(e.clientMessageId));
  }

  /** Starts sending a file; it shows as pending at once. */
  async add(conversationId: string, file: File | Blob, name = (file as File).name || "file"): Promise<void> {
    const fileType = await detectFileType(file);
    const e: Entry = { clientMessageId: uuid(), conversationId, name, size: file.size, sent: 0, file, fileType };
    if (fileType === "image") {
      try {
        e.preview = (this.opts.createURL ?? URL.createObjectURL)(file);
      } catch {
        /* no preview */
      }
    }
    this.entries = [...this.entries, e];
    this.start(e);
  }

  private start(e: Entry) {
    e.error = undefined;
    e.sent = 0;
    const send = this.opts.send ?? sendFile;
    const h = send({
      file: e.file,
      name: e.name,
      conversationId: e.conversationId,
      clientMessageId: e.clientMessageId,
      fileType: e.fileType,
      token: this.opts.token?.(),
      csrf: this.opts.csrf?.(),
      onProgress: (sent) => {
        e.sent = sent;
        this.changed();
      },
    });
    e.handle = h;
    this.changed();
    h.done.then(
      (r) => {
        e.handle = undefined;
        e.sent = e.size;
        e.seq = r.seq;
        this.changed();
      },
      (err: ApiError) => {
        e.handle = undefined;
        if (err.code === "aborted") return this.remove(e.clientMessageId);
        e.error = err;
        this.changed();
      },
    );
  }

  /** Sends a failed file again, with the same clientMessageId. */
  retry(clientMessageId: string) {
    const e = this.entries.find((x) => x.clientMessageId === clientMessageId);
    if (e && e.error) this.start(e);
  }

  /** Stops a file on its way, or forgets a failed one. */
  remove(clientMessageId: string) {
    const e = this.entries.find((x) => x.clientMessageId === clientMessageId);
    if (!e) return;
    this.entries = this.entries.filter((x) => x !== e);
    e.handle?.abort();
    if (e.preview) (this.opts.revokeURL ?? URL.revokeObjectURL)(e.preview);
    this.changed();
  }

  /** Forgets the files the timeline now shows. */
  settle(shown: (clientMessageId: string) => boolean) {
    for (const e of this.entries.filter((x) => x.seq !== undefined && shown(x.clientMessageId))) this.remove(e.clientMessageId);
  }

  private changed() {
    this.opts.onChange();
  }
}

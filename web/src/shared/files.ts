// Reading attachments as a visitor: the widget has no cookie, only its bearer
// token, which never goes in a URL. So a file is fetched with the
// Authorization header and shown (or saved) through a blob: URL made here.
// Agents do not need this: their session cookie works on the file URLs.

import { ApiError } from "./api";

const cache = new Map<string, Promise<string>>();

/** Fetches path with the token and returns the bytes. ApiError on failure. */
export async function fetchBlob(path: string, token: string | null): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(path, { headers: token ? { Authorization: "Bearer " + token } : {}, credentials: "omit" });
  } catch {
    throw new ApiError(0, "network", "No connection.");
  }
  if (!res.ok) throw new ApiError(res.status, "http_" + res.status, res.statusText || "Could not load the file.");
  return res.blob();
}

/**
 * A blob: URL for path, fetched once per page and kept (thumbnails are
 * small; a failed fetch is forgotten so that it can be tried again).
 */
export function blobURL(path: string, token: string | null): Promise<string> {
  let p = cache.get(path);
  if (!p) {
    p = fetchBlob(path, token).then((b) => URL.createObjectURL(b));
    p.catch(() => cache.delete(path));
    cache.set(path, p);
  }
  return p;
}

/** Saves a blob as a download named name. */
export function saveBlob(b: Blob, name: string) {
  const url = URL.createObjectURL(b);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  a.rel = "noopener";
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** The name a Content-Disposition header gives (RFC 6266: filename* first), or fallback. */
export function dispositionName(header: string | null, fallback: string): string {
  if (!header) return fallback;
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)''([^;]+)/.exec(header);
  if (star) {
    try {
      return decodeURIComponent(star[1].trim());
    } catch {
      /* fall through */
    }
  }
  const plain = /filename\s*=\s*"([^"]*)"/.exec(header) ?? /filename\s*=\s*([^;]+)/.exec(header);
  return plain ? plain[1].trim() : fallback;
}

/** Downloads path with the token and saves it under the server's name. */
export async function download(path: string, token: string | null, fallback: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch(path, { headers: token ? { Authorization: "Bearer " + token } : {}, credentials: token ? "omit" : "same-origin" });
  } catch {
    throw new ApiError(0, "network", "No connection.");
  }
  if (!res.ok) throw new ApiError(res.status, "http_" + res.status, res.statusText || "Could not download the file.");
  saveBlob(await res.blob(), dispositionName(res.headers.get("Content-Disposition"), fallback));
}

// A small fetch wrapper for Parley's REST API: JSON in and out, errors as
// ApiError with the server's code and message (safe to show).

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export interface ApiOptions {
  /** Bearer token (visitors). Never put in a URL. */
  token?: () => string | null;
  /** CSRF token for cookie-authenticated writes (agents). */
  csrf?: () => string | null;
  /** Called on 401, e.g. to send an agent back to the sign-in page. */
  onUnauthorized?: () => void;
}

export type Api = <T>(method: string, path: string, body?: unknown) => Promise<T>;

export function makeApi(opts: ApiOptions = {}): Api {
  return async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { Accept: "application/json" };
    const token = opts.token?.();
    if (token) headers.Authorization = "Bearer " + token;
    if (method !== "GET" && method !== "HEAD") {
      const csrf = opts.csrf?.();
      if (csrf) headers["X-CSRF-Token"] = csrf;
    }
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let res: Response;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
      });
    } catch {
      throw new ApiError(0, "network", "No connection.");
    }
    if (res.status === 204) return undefined as T;
    let data: unknown = null;
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!res.ok) {
      const e = (data as { error?: { code?: string; message?: string } } | null)?.error;
      if (res.status === 401) opts.onUnauthorized?.();
      throw new ApiError(res.status, e?.code ?? "http_" + res.status, e?.message ?? res.statusText ?? "Request failed.");
    }
    return data as T;
  };
}

/** A random UUID v4, for clientMessageId. */
export function uuid(): string {
  const c = globalThis.crypto as Crypto & { randomUUID?: () => string };
  if (typeof c.randomUUID === "function") return c.randomUUID();
  const b = new Uint8Array(16);
  c.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

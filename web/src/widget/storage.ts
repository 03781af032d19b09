// Where the widget keeps the visitor's identity. Normally this origin's
// localStorage. On a host page of another site, browsers that block
// third-party storage refuse the frame's localStorage altogether (Chromium
// does when third-party cookies are blocked), and the visitor would be new on
// every reload. They still allow a partitioned cookie (CHIPS): one kept for
// this frame under this host site only, invisible to any other site. So the
// fallback is such a cookie, set and read here by script.
//
// The server never reads it: it is named apart from the session cookie, its
// Path is /widget (the page, never /api or /ws, so no API request carries
// it), and the token in it still travels only in the Authorization header
// and the socket's auth frame.

import type { StorageLike } from "../shared/outbox";

export const COOKIE_NAME = "parley_widget";
const COOKIE_PATH = "/widget";
// Browsers keep a cookie at most 400 days; every write renews it.
const MAX_AGE = 400 * 24 * 3600;
// Under the 4 KB a browser keeps per cookie, with room for the attributes.
const MAX_BYTES = 3500;

/** Keys worth a cookie: the identity and read marks; the outbox stays in memory. */
function persisted(key: string) {
  return key === "parley.visitor" || key.startsWith("parley.read.");
}

export interface CookieJar {
  get(): string;
  set(cookie: string): void;
}

const documentJar: CookieJar = {
  get: () => document.cookie,
  set: (c) => {
    document.cookie = c;
  },
};

/** Reads the widget's cookie from a document.cookie string. */
export function readCookie(all: string): Record<string, string> {
  for (const part of all.split(/;\s*/)) {
    const i = part.indexOf("=");
    if (i < 0 || part.slice(0, i) !== COOKIE_NAME) continue;
    try {
      const v = JSON.parse(decodeURIComponent(part.slice(i + 1)));
      if (v && typeof v === "object" && !Array.isArray(v)) {
        const out: Record<string, string> = {};
        for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
        return out;
      }
    } catch {
      /* damaged: start afresh */
    }
  }
  return {};
}

/** The Set-Cookie-like string that stores values (or deletes the cookie when empty). */
export function cookieString(values: Record<string, string>, secure: boolean): string {
  const keys = Object.keys(values);
  const attrs = `; Path=${COOKIE_PATH}` + (secure ? "; Secure; SameSite=None; Partitioned" : "; SameSite=Lax");
  if (!keys.length) return `${COOKIE_NAME}=; Max-Age=0${attrs}`;
  return `${COOKIE_NAME}=${encodeURIComponent(JSON.stringify(values))}; Max-Age=${MAX_AGE}${attrs}`;
}

/**
 * A StorageLike on a partitioned cookie for the keys that matter across
 * reloads, and memory for the rest. Read marks of old conversations are
 * dropped first when the cookie would grow too big.
 */
export class CookieStorage implements StorageLike {
  private memory = new Map<string, string>();

  constructor(
    private jar: CookieJar = documentJar,
    private secure = typeof isSecureContext === "undefined" ? true : isSecureContext,
  ) {}

  getItem(key: string): string | null {
    if (persisted(key)) return readCookie(this.jar.get())[key] ?? null;
    return this.memory.get(key) ?? null;
  }

  setItem(key: string, value: string) {
    if (!persisted(key)) return void this.memory.set(key, value);
    const v = readCookie(this.jar.get());
    delete v[key];
    v[key] = value; // newest last
    this.write(v);
  }

  removeItem(key: string) {
    if (!persisted(key)) return void this.memory.delete(key);
    const v = readCookie(this.jar.get());
    if (!(key in v)) return;
    delete v[key];
    this.write(v);
  }

  private write(v: Record<string, string>) {
    let s = cookieString(v, this.secure);
    while (s.length > MAX_BYTES) {
      const old = Object.keys(v).find((k) => k !== "parley.visitor");
      if (!old) break;
      delete v[old];
      s = cookieString(v, this.secure);
    }
    this.jar.set(s);
  }

  /** True when the browser kept what was written (some refuse every cookie too). */
  works(): boolean {
    try {
      this.jar.set(`${COOKIE_NAME}_test=1; Max-Age=60; Path=${COOKIE_PATH}` + (this.secure ? "; Secure; SameSite=None; Partitioned" : "; SameSite=Lax"));
      const ok = this.jar.get().split(/;\s*/).includes(`${COOKIE_NAME}_test=1`);
      this.jar.set(`${COOKIE_NAME}_test=; Max-Age=0; Path=${COOKIE_PATH}` + (this.secure ? "; Secure; SameSite=None; Partitioned" : "; SameSite=Lax"));
      return ok;
    } catch {
      return false;
    }
  }
}

/** A StorageLike held in memory only: this page, until it closes. */
export class MemoryStorage implements StorageLike {
  private m = new Map<string, string>();
  getItem(k: string) {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string) {
    this.m.set(k, v);
  }
  removeItem(k: string) {
    this.m.delete(k);
  }
}

/** localStorage when the browser gives it to this frame, else the cookie, else memory. */
export function widgetStorage(): { storage: StorageLike; kind: "local" | "cookie" | "memory" } {
  try {
    const s = window.localStorage;
    s.setItem("parley.test", "1");
    s.removeItem("parley.test");
    return { storage: s, kind: "local" };
  } catch {
    /* refused: a frame on another site */
  }
  const c = new CookieStorage();
  if (c.works()) return { storage: c, kind: "cookie" };
  return { storage: new MemoryStorage(), kind: "memory" };
}

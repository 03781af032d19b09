import { describe, expect, it } from "vitest";
import { COOKIE_NAME, CookieStorage, cookieString, readCookie, type CookieJar } from "./storage";

/** A cookie jar that behaves like document.cookie for one path. */
function jar(): CookieJar & { raw: Map<string, string>; last: string } {
  const raw = new Map<string, string>();
  const j = {
    raw,
    last: "",
    get: () => [...raw].map(([k, v]) => `${k}=${v}`).join("; "),
    set: (c: string) => {
      j.last = c;
      const [pair, ...attrs] = c.split(/;\s*/);
      const i = pair.indexOf("=");
      const k = pair.slice(0, i);
      if (attrs.some((a) => a === "Max-Age=0")) raw.delete(k);
      else raw.set(k, pair.slice(i + 1));
    },
  };
  return j;
}

describe("the widget's cookie", () => {
  it("is partitioned, cross-site, secure and kept to the widget page", () => {
    const s = cookieString({ "parley.visitor": '{"token":"pv_x"}' }, true);
    expect(s.startsWith(COOKIE_NAME + "=")).toBe(true);
    for (const a of ["Secure", "SameSite=None", "Partitioned", "Path=/widget", "Max-Age=34560000"]) expect(s.split("; ")).toContain(a);
    expect(readCookie("a=1; " + s.split("; ")[0] + "; b=2")).toEqual({ "parley.visitor": '{"token":"pv_x"}' });
  });

  it("ignores a damaged cookie", () => {
    expect(readCookie(`${COOKIE_NAME}=%7Bnot json`)).toEqual({});
    expect(readCookie(`${COOKIE_NAME}=%5B1%5D`)).toEqual({});
  });
});

describe("CookieStorage", () => {
  it("keeps the identity and read marks in the cookie, and the rest in memory", () => {
    const j = jar();
    const s = new CookieStorage(j, true);
    s.setItem("parley.visitor", '{"visitorId":"v","token":"pv_t"}');
    s.setItem("parley.read.c1", "4");
    s.setItem("parley.outbox", "[big]");
    expect(s.getItem("parley.outbox")).toBe("[big]");
    // A reload: a new storage on the same jar.
    const again = new CookieStorage(j, true);
    expect(again.getItem("parley.visitor")).toBe('{"visitorId":"v","token":"pv_t"}');
    expect(again.getItem("parley.read.c1")).toBe("4");
    expect(again.getItem("parley.outbox")).toBeNull();
    again.removeItem("parley.visitor");
    again.removeItem("parley.read.c1");
    expect(j.raw.has(COOKIE_NAME)).toBe(false);
  });

  it("drops old read marks before the identity when the cookie would grow too big", () => {
    const j = jar();
    const s = new CookieStorage(j, true);
    s.setItem("parley.visitor", "identity");
    for (let i = 0; i < 200; i++) s.setItem(`parley.read.${"c".repeat(30)}${i}`, String(i));
    expect(j.last.length).toBeLessThanOrEqual(3500);
    expect(s.getItem("parley.visitor")).toBe("identity");
    expect(s.getItem(`parley.read.${"c".repeat(30)}199`)).toBe("199");
    expect(s.getItem(`parley.read.${"c".repeat(30)}0`)).toBeNull();
  });

  it("says whether the browser keeps cookies", () => {
    expect(new CookieStorage(jar(), true).works()).toBe(true);
    expect(new CookieStorage({ get: () => "", set: () => {} }, true).works()).toBe(false);
  });
});

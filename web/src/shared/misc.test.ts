import { describe, expect, it } from "vitest";
import { backoffDelay } from "./socket";
import { formatHours } from "./hours";
import { age, textOn } from "./format";
import { pickLanguage, strings } from "../widget/i18n";

describe("backoffDelay", () => {
  it("doubles from 1 s up to 30 s, with jitter around it", () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((n) => backoffDelay(n, 1000, mid))).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect(backoffDelay(0, 1000, () => 0)).toBe(750);
    expect(backoffDelay(0, 1000, () => 0.999)).toBeLessThanOrEqual(1250);
  });
});

describe("formatHours", () => {
  const names = "Mon,Tue,Wed,Thu,Fri,Sat,Sun".split(",");
  it("groups days with the same hours", () => {
    const nine = [{ from: "09:00", to: "17:00" }];
    expect(formatHours({ timeZone: "Europe/Paris", days: { mon: nine, tue: nine, wed: nine, thu: nine, fri: nine, sat: [{ from: "10:00", to: "12:00" }] } }, names)).toBe(
      "Mon–Fri 09:00–17:00, Sat 10:00–12:00 (Europe/Paris)",
    );
    expect(formatHours(null, names)).toBe("");
    expect(formatHours({ timeZone: "UTC", days: {} }, names)).toBe("");
  });
});

describe("format", () => {
  it("ages", () => {
    const now = Date.parse("2026-01-02T12:00:00Z");
    expect(age("2026-01-02T11:59:30Z", now)).toBe("now");
    expect(age("2026-01-02T11:55:00Z", now)).toBe("5m");
    expect(age("2026-01-02T09:00:00Z", now)).toBe("3h");
    expect(age("2025-12-30T12:00:00Z", now)).toBe("3d");
  });
  it("picks readable text on a colour", () => {
    expect(textOn("#2563eb")).toBe("#ffffff");
    expect(textOn("#fde047")).toBe("#111827");
  });
});

describe("widget language", () => {
  it("follows the browser, falling back to English", () => {
    expect(pickLanguage(["fr-CA", "en"])).toBe("fr");
    expect(pickLanguage(["de-DE", "en-GB"])).toBe("en");
    expect(pickLanguage(["ja"])).toBe("en");
  });
  it("has every English text in French", () => {
    const en = strings("en");
    const fr = strings("fr");
    for (const k of Object.keys(en) as (keyof typeof en)[]) expect(fr[k], k).toBeTruthy();
  });
});

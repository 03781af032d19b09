// Business hours as a short line: "Mon–Fri 09:00–17:00, Sat 10:00–12:00 (Europe/Paris)".

import type { BusinessHours } from "./types";

export const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;

export function formatHours(bh: BusinessHours | null, dayNames: string[]): string {
  if (!bh) return "";
  const spans = DAYS.map((d) => (bh.days[d] ?? []).map((r) => `${r.from}–${r.to}`).join(", "));
  const parts: string[] = [];
  let i = 0;
  while (i < 7) {
    if (!spans[i]) {
      i++;
      continue;
    }
    let j = i;
    while (j + 1 < 7 && spans[j + 1] === spans[i]) j++;
    parts.push((j > i ? `${dayNames[i]}–${dayNames[j]}` : dayNames[i]) + " " + spans[i]);
    i = j + 1;
  }
  if (!parts.length) return "";
  return parts.join(", ") + (bh.timeZone ? ` (${bh.timeZone})` : "");
}

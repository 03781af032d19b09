// Message text is shown as text, never parsed as HTML: React (and Preact)
// put strings in text nodes. Web addresses starting with http:// or https://
// become links that open in a new tab without giving it our window.

export type Segment = { text: string; href?: string };

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING = /[.,;:!?'")\]}]+$/;

/** Splits text into plain runs and http(s) links. */
export function segments(text: string): Segment[] {
  const out: Segment[] = [];
  if (!text) return out;
  let last = 0;
  for (const m of text.matchAll(URL_RE)) {
    let raw = m[0];
    const start = m.index ?? 0;
    // Leave closing punctuation to the sentence, except a ")" that closes a
    // "(" inside the address (Wikipedia-style links).
    const trail = raw.match(TRAILING);
    if (trail) {
      let cut = trail[0];
      if (cut.startsWith(")") && count(raw, "(") > count(raw.slice(0, -cut.length), ")")) cut = cut.slice(1);
      raw = raw.slice(0, raw.length - cut.length);
    }
    const href = safeHref(raw);
    if (!href) continue;
    if (start > last) out.push({ text: text.slice(last, start) });
    out.push({ text: raw, href });
    last = start + raw.length;
  }
  if (last < text.length) out.push({ text: text.slice(last) });
  return out;
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** The address if it is a valid http or https URL, else null. */
export function safeHref(raw: string): string | null {
  try {
    const u = new URL(raw);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return u.href;
  } catch {
    return null;
  }
}

export function MessageText({ text, linkClass }: { text: string; linkClass?: string }) {
  return (
    <>
      {segments(text).map((s, i) =>
        s.href ? (
          <a key={i} href={s.href} target="_blank" rel="noopener noreferrer nofollow" className={linkClass ?? "underline break-all"}>
            {s.text}
          </a>
        ) : (
          s.text
        ),
      )}
    </>
  );
}

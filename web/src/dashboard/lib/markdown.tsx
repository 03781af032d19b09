// A small Markdown renderer for SOP documents, safe by construction: it
// parses the text into a tree and draws it with React elements, so every
// character of the document ends up in a text node or an attribute React
// escapes. Raw HTML is never interpreted (it shows as the text it is), and a
// link becomes a link only when its address is http(s) or mailto.
//
// What it understands: ATX headings (#..######), paragraphs, line breaks
// (two spaces or a backslash at the end of a line), **bold**, *italic* and
// _italic_, `code`, fenced code blocks (``` or ~~~), block quotes, bulleted
// and numbered lists (nested by indentation), horizontal rules, [links](url)
// and bare http(s) addresses. Anything else is text.

import { Fragment, type ReactNode } from "react";

export type Inline =
  | { t: "text"; v: string }
  | { t: "code"; v: string }
  | { t: "strong"; c: Inline[] }
  | { t: "em"; c: Inline[] }
  | { t: "link"; href: string; c: Inline[] }
  | { t: "br" };

export type Block =
  | { t: "h"; level: number; c: Inline[] }
  | { t: "p"; c: Inline[] }
  | { t: "pre"; v: string; lang: string }
  | { t: "quote"; c: Block[] }
  | { t: "list"; ordered: boolean; start: number; items: Block[][] }
  | { t: "hr" };

/** The address if it is an http(s) or mailto URL, else null. */
export function safeLink(raw: string): string | null {
  const s = raw.trim();
  if (/^mailto:/i.test(s)) {
    const addr = s.slice(7);
    return /^[^\s@<>"]+@[^\s@<>"]+$/.test(addr) ? "mailto:" + addr : null;
  }
  try {
    const u = new URL(s);
    return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
  } catch {
    return null;
  }
}

// --- blocks ---

const FENCE = /^ {0,3}(`{3,}|~{3,})\s*([\w+-]*)\s*$/;
const HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const HR = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const ITEM = /^( *)([-*+]|(\d{1,9})[.)])[ \t]+(.*)$/;

export function parse(src: string): Block[] {
  return blocks(src.replace(/\r\n?/g, "\n").split("\n"));
}

function blocks(lines: string[]): Block[] {
  const out: Block[] = [];
  let i = 0;
  let para: string[] = [];
  const flush = () => {
    if (para.length) out.push({ t: "p", c: inline(para.join("\n")) });
    para = [];
  };
  while (i < lines.length) {
    const line = lines[i];
    let m: RegExpExecArray | null;
    if (!line.trim()) {
      flush();
      i++;
    } else if ((m = FENCE.exec(line))) {
      flush();
      const close = m[1];
      const body: string[] = [];
      i++;
      const closing = (l: string) => {
        const tt = l.trim();
        return tt.length >= close.length && [...tt].every((x) => x === close[0]);
      };
      while (i < lines.length && !closing(lines[i])) body.push(lines[i++]);
      i++; // the closing fence (or the end)
      out.push({ t: "pre", v: body.join("\n"), lang: m[2] });
    } else if ((m = HEADING.exec(line))) {
      flush();
      out.push({ t: "h", level: m[1].length, c: inline(m[2] ?? "") });
      i++;
    } else if (HR.test(line)) {
      flush();
      out.push({ t: "hr" });
      i++;
    } else if (QUOTE.test(line)) {
      flush();
      const body: string[] = [];
      while (i < lines.length && (m = QUOTE.exec(lines[i]))) {
        body.push(m[1]);
        i++;
      }
      out.push({ t: "quote", c: blocks(body) });
    } else if ((m = ITEM.exec(line))) {
      flush();
      const indent = m[1].length;
      const ordered = m[3] !== undefined;
      const start = ordered ? Number(m[3]) : 1;
      const items: string[][] = [];
      const same = (m: RegExpExecArray | null) => !!m && m[1].length <= indent + 1 && (m[3] !== undefined) === ordered;
      while (i < lines.length) {
        const l = lines[i];
        const im = ITEM.exec(l);
        if (same(im)) {
          items.push([im![4]]);
          i++;
        } else if (l.trim() && (/^\s/.test(l) || !startsBlock(l))) {
          // A continuation: indented (a nested list, more text) or lazy.
          items[items.length - 1].push(dedent(l, indent + 2));
          i++;
        } else if (!l.trim() && i + 1 < lines.length && (/^\s+\S/.test(lines[i + 1]) || same(ITEM.exec(lines[i + 1])))) {
          items[items.length - 1].push("");
          i++;
        } else break;
      }
      out.push({ t: "list", ordered, start, items: items.map((it) => blocks(it)) });
    } else {
      para.push(line);
      i++;
    }
  }
  flush();
  return out;
}

function dedent(l: string, n: number) {
  let k = 0;
  while (k < n && l[k] === " ") k++;
  return l.slice(k);
}

function startsBlock(l: string) {
  return FENCE.test(l) || HEADING.test(l) || HR.test(l) || QUOTE.test(l) || ITEM.test(l);
}

// --- inline ---

const URL_RE = /^https?:\/\/[^\s<>"'`]+/i;

export function inline(src: string): Inline[] {
  const out: Inline[] = [];
  let text = "";
  const push = (n: Inline) => {
    if (text) out.push({ t: "text", v: text });
    text = "";
    out.push(n);
  };
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    const rest = src.slice(i);
    if (ch === "\\" && i + 1 < src.length) {
      if (src[i + 1] === "\n") {
        push({ t: "br" });
        i += 2;
        continue;
      }
      if (/[\\`*_[\]()#+\-.!>~|{}]/.test(src[i + 1])) {
        text += src[i + 1];
        i += 2;
        continue;
      }
    }
    if (ch === "\n") {
      if (text.endsWith("  ")) {
        text = text.replace(/ +$/, "");
        push({ t: "br" });
      } else text = text.replace(/ +$/, "") + " ";
      i++;
      continue;
    }
    if (ch === "`") {
      const run = /^`+/.exec(rest)![0];
      const end = src.indexOf(run, i + run.length);
      if (end > 0) {
        push({ t: "code", v: src.slice(i + run.length, end).replace(/\n/g, " ") });
        i = end + run.length;
        continue;
      }
      text += run;
      i += run.length;
      continue;
    }
    // "_" inside a word (snake_case, window.__x) is a letter, not emphasis.
    const intraword = ch === "_" && /[\p{L}\p{N}]/u.test(src[i - 1] ?? "");
    if ((ch === "*" || ch === "_") && src[i + 1] === ch && !intraword) {
      const end = findClose(src, ch + ch, i + 2);
      if (end > i + 2 && !(ch === "_" && /[\p{L}\p{N}]/u.test(src[end + 2] ?? ""))) {
        push({ t: "strong", c: inline(src.slice(i + 2, end)) });
        i = end + 2;
        continue;
      }
    }
    if (ch === "*" || ch === "_") {
      const end = intraword ? -1 : findClose(src, ch, i + 1);
      if (end > i + 1 && !/\s/.test(src[i + 1]) && !(ch === "_" && /[\p{L}\p{N}]/u.test(src[end + 1] ?? ""))) {
        push({ t: "em", c: inline(src.slice(i + 1, end)) });
        i = end + 1;
        continue;
      }
    }
    if (ch === "[") {
      const close = matchBracket(src, i);
      if (close > 0 && src[close + 1] === "(") {
        const end = src.indexOf(")", close + 2);
        if (end > 0) {
          const target = src.slice(close + 2, end).trim().split(/\s+/)[0].replace(/^<|>$/g, "");
          const href = safeLink(target);
          const label = inline(src.slice(i + 1, close));
          if (href) push({ t: "link", href, c: label });
          else {
            // Not a safe address: the label as text, the address dropped.
            if (text) out.push({ t: "text", v: text });
            text = "";
            out.push(...label);
          }
          i = end + 1;
          continue;
        }
      }
    }
    if ((ch === "h" || ch === "H") && (i === 0 || /[\s(]/.test(src[i - 1]))) {
      const m = URL_RE.exec(rest);
      if (m) {
        let raw = m[0].replace(/[.,;:!?'")\]}]+$/, "");
        const href = safeLink(raw);
        if (href) {
          push({ t: "link", href, c: [{ t: "text", v: raw }] });
          i += raw.length;
          continue;
        }
        raw = "";
      }
    }
    text += ch;
    i++;
  }
  if (text) out.push({ t: "text", v: text.replace(/ +$/, "") });
  return out;
}

function findClose(src: string, marker: string, from: number): number {
  let i = from;
  while (i < src.length) {
    if (src[i] === "\\") {
      i += 2;
      continue;
    }
    if (src[i] === "`") {
      const run = /^`+/.exec(src.slice(i))![0];
      const end = src.indexOf(run, i + run.length);
      i = end > 0 ? end + run.length : i + run.length;
      continue;
    }
    if (src.startsWith(marker, i) && !/\s/.test(src[i - 1] ?? " ")) {
      if (marker.length === 1 && src[i + 1] === marker) {
        // part of a ** / __ run: skip it whole
        i += 2;
        continue;
      }
      return i;
    }
    i++;
  }
  return -1;
}

function matchBracket(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === "\\") {
      i++;
      continue;
    }
    if (src[i] === "[") depth++;
    else if (src[i] === "]" && --depth === 0) return i;
  }
  return -1;
}

// --- drawing ---

function drawInline(n: Inline[]): ReactNode[] {
  return n.map((x, k) => {
    switch (x.t) {
      case "text":
        return <Fragment key={k}>{x.v}</Fragment>;
      case "code":
        return (
          <code key={k} className="rounded bg-raised px-1 py-0.5 font-mono text-[0.9em]">
            {x.v}
          </code>
        );
      case "strong":
        return <strong key={k}>{drawInline(x.c)}</strong>;
      case "em":
        return <em key={k}>{drawInline(x.c)}</em>;
      case "br":
        return <br key={k} />;
      case "link":
        return (
          <a key={k} href={x.href} target="_blank" rel="noopener noreferrer nofollow" className="text-accent underline">
            {drawInline(x.c)}
          </a>
        );
    }
  });
}

const headingClass = ["text-lg font-semibold", "text-base font-semibold", "text-sm font-semibold", "text-sm font-semibold", "text-sm font-medium", "text-sm font-medium"];

function drawBlocks(bs: Block[]): ReactNode[] {
  return bs.map((b, k) => {
    switch (b.t) {
      case "h": {
        const H = `h${Math.min(6, b.level + 2)}` as "h3";
        return (
          <H key={k} className={headingClass[b.level - 1] + " mt-3 mb-1"}>
            {drawInline(b.c)}
          </H>
        );
      }
      case "p":
        return (
          <p key={k} className="my-2">
            {drawInline(b.c)}
          </p>
        );
      case "pre":
        return (
          <pre key={k} className="my-2 overflow-x-auto rounded bg-raised p-2 font-mono text-xs">
            <code>{b.v}</code>
          </pre>
        );
      case "quote":
        return (
          <blockquote key={k} className="my-2 border-l-4 border-line pl-3 text-muted">
            {drawBlocks(b.c)}
          </blockquote>
        );
      case "hr":
        return <hr key={k} className="my-3 border-line" />;
      case "list": {
        const items = b.items.map((it, j) => (
          <li key={j} className="my-0.5">
            {it.length === 1 && it[0].t === "p" ? drawInline(it[0].c) : drawBlocks(it)}
          </li>
        ));
        return b.ordered ? (
          <ol key={k} start={b.start} className="my-2 list-decimal pl-6">
            {items}
          </ol>
        ) : (
          <ul key={k} className="my-2 list-disc pl-6">
            {items}
          </ul>
        );
      }
    }
  });
}

export function Markdown({ source, className }: { source: string; className?: string }) {
  return <div className={className ?? "text-sm leading-relaxed"}>{drawBlocks(parse(source))}</div>;
}

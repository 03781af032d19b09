// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { render } from "@testing-library/react";
import { Markdown, inline, parse, safeLink } from "./markdown";

const html = (src: string) => render(<Markdown source={src} />).container.innerHTML;

describe("safeLink", () => {
  it.each([
    ["https://example.com/a?b=1", "https://example.com/a?b=1"],
    ["http://example.com", "http://example.com/"],
    ["mailto:help@example.com", "mailto:help@example.com"],
    ["MAILTO:help@example.com", "mailto:help@example.com"],
    ["javascript:alert(1)", null],
    ["JaVaScRiPt:alert(1)", null],
    [" javascript:alert(1)", null],
    ["data:text/html,<script>alert(1)</script>", null],
    ["vbscript:msgbox", null],
    ["file:///etc/passwd", null],
    ["/relative/path", null],
    ["mailto:a@b.c?body=<x>", null],
    ["//evil.example/x", null],
  ])("%s", (raw, want) => expect(safeLink(raw)).toBe(want));
});

describe("parse", () => {
  it("reads headings, paragraphs, lists, quotes, code and rules", () => {
    const b = parse("# Refunds\n\nCheck the **order** first.\n\n1. Ask for the number\n2. Look it up\n   - in the shop\n\n> Be kind\n\n```\ncode <b>\n```\n\n---");
    expect(b.map((x) => x.t)).toEqual(["h", "p", "list", "quote", "pre", "hr"]);
    const list = b[2] as Extract<(typeof b)[number], { t: "list" }>;
    expect(list.ordered).toBe(true);
    expect(list.items).toHaveLength(2);
    expect(list.items[1].map((x) => x.t)).toEqual(["p", "list"]);
    expect((b[4] as { v: string }).v).toBe("code <b>");
  });

  it("reads emphasis, code spans, escapes and line breaks", () => {
    expect(inline("a **b** *c* _d_ `e*f` \\*g\\* snake_case_name")).toEqual([
      { t: "text", v: "a " },
      { t: "strong", c: [{ t: "text", v: "b" }] },
      { t: "text", v: " " },
      { t: "em", c: [{ t: "text", v: "c" }] },
      { t: "text", v: " " },
      { t: "em", c: [{ t: "text", v: "d" }] },
      { t: "text", v: " " },
      { t: "code", v: "e*f" },
      { t: "text", v: " *g* snake_case_name" },
    ]);
    expect(inline("window.__sop=1 and window.__sop=3")).toEqual([{ t: "text", v: "window.__sop=1 and window.__sop=3" }]);
    expect(inline("__bold__ and foo__bar__")).toEqual([{ t: "strong", c: [{ t: "text", v: "bold" }] }, { t: "text", v: " and foo__bar__" }]);
    expect(inline("one  \ntwo\nthree")).toEqual([{ t: "text", v: "one" }, { t: "br" }, { t: "text", v: "two three" }]);
  });
});

describe("Markdown", () => {
  it("draws the document", () => {
    const out = html("## Steps\n\n- **Greet** the customer\n- See [the guide](https://docs.example.com/g) or https://example.com/x.\n\nWrite to [us](mailto:help@example.com).");
    expect(out).toContain("<h4");
    expect(out).toContain("<strong>Greet</strong>");
    expect(out).toContain('href="https://docs.example.com/g"');
    expect(out).toContain('href="https://example.com/x"');
    expect(out).toContain('href="mailto:help@example.com"');
    expect(out).toContain('rel="noopener noreferrer nofollow"');
  });

  it.each([
    ["<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"],
    ['<img src=x onerror="alert(1)">', "&lt;img src=x onerror=\"alert(1)\"&gt;"],
    ["<a href='javascript:alert(1)'>x</a>", "&lt;a href='javascript:alert(1)'&gt;x&lt;/a&gt;"],
    ["**<iframe src=//evil>**", "<strong>&lt;iframe src=//evil&gt;</strong>"],
  ])("shows raw HTML as text: %s", (src, want) => {
    const out = html(src);
    expect(out).toContain(want);
    const c = render(<Markdown source={src} />).container;
    expect(c.querySelectorAll("script, img, iframe, a").length).toBe(0);
  });

  it.each([
    "[click](javascript:alert(1))",
    "[click](JAVASCRIPT:alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD4=)",
    "[click](vbscript:x)",
    "[click]( javascript:alert(1) )",
    "[click](<javascript:alert(1)>)",
    "javascript:alert(1)",
  ])("never links an unsafe address: %s", (src) => {
    const c = render(<Markdown source={src} />).container;
    expect(c.querySelectorAll("a").length).toBe(0);
    expect(c.textContent).toContain(src.startsWith("[") ? "click" : "javascript:alert(1)");
  });

  it("keeps attribute-looking text out of attributes", () => {
    const c = render(<Markdown source={'[x](https://a.example/"onmouseover="alert(1))'} />).container;
    const a = c.querySelector("a");
    expect(a?.getAttribute("onmouseover")).toBeNull();
    expect(a?.getAttributeNames().sort()).toEqual(["class", "href", "rel", "target"]);
  });

  it("survives unbalanced and odd input", () => {
    for (const src of ["**open", "`tick", "[no close", "[a](b", "> \n>", "```\nnever closed", "- \n-", "#", "\\", "*", "_a_b_", "1) x\n2) y"]) {
      expect(() => html(src)).not.toThrow();
    }
  });
});

// @vitest-environment jsdom
import { describe, expect, it } from "vitest";
import { render } from "@testing-library/react";
import { MessageText, safeHref, segments } from "./text";

describe("segments", () => {
  it.each([
    ["plain text", [{ text: "plain text" }]],
    ["see https://example.com/a?b=1.", [{ text: "see " }, { text: "https://example.com/a?b=1", href: "https://example.com/a?b=1" }, { text: "." }]],
    ["(http://x.io/p)", [{ text: "(" }, { text: "http://x.io/p", href: "http://x.io/p" }, { text: ")" }]],
    [
      "https://en.wikipedia.org/wiki/Tea_(drink)!",
      [{ text: "https://en.wikipedia.org/wiki/Tea_(drink)", href: "https://en.wikipedia.org/wiki/Tea_(drink)" }, { text: "!" }],
    ],
    ["javascript:alert(1) and data:text/html,x", [{ text: "javascript:alert(1) and data:text/html,x" }]],
    ["ftp://files.example.com", [{ text: "ftp://files.example.com" }]],
    ['go to https://a.example/"onmouseover="x', [{ text: "go to " }, { text: "https://a.example/", href: "https://a.example/" }, { text: '"onmouseover="x' }]],
  ])("%s", (input, want) => {
    expect(segments(input)).toEqual(want);
  });

  it("keeps every character of the text", () => {
    const s = "a https://x.org/1, b http://y.org c";
    expect(
      segments(s)
        .map((x) => x.text)
        .join(""),
    ).toBe(s);
  });
});

describe("safeHref", () => {
  it("allows only http and https", () => {
    expect(safeHref("https://ok.example/")).toBe("https://ok.example/");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("JaVaScRiPt:alert(1)")).toBeNull();
    expect(safeHref("not a url")).toBeNull();
  });
});

describe("MessageText", () => {
  it("renders HTML as text: no element is created and nothing runs", () => {
    const evil = `<img src=x onerror="window.__x=1"><script>window.__x=2</script><b>bold</b>`;
    const { container } = render(<MessageText text={evil} />);
    expect(container.textContent).toBe(evil);
    expect(container.querySelector("img, script, b")).toBeNull();
    expect((window as unknown as { __x?: number }).__x).toBeUndefined();
  });

  it("makes http(s) addresses links that open safely", () => {
    const { container } = render(<MessageText text="Read https://docs.example.com/faq now" />);
    const a = container.querySelectorAll("a");
    expect(a.length).toBe(1);
    expect(a[0].getAttribute("href")).toBe("https://docs.example.com/faq");
    expect(a[0].getAttribute("rel")).toBe("noopener noreferrer nofollow");
    expect(a[0].getAttribute("target")).toBe("_blank");
    expect(container.textContent).toBe("Read https://docs.example.com/faq now");
  });

  it("never links a javascript: address", () => {
    const { container } = render(<MessageText text="click javascript:alert(document.cookie)" />);
    expect(container.querySelector("a")).toBeNull();
  });
});

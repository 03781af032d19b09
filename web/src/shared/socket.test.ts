import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ParleySocket, type SocketState } from "./socket";

// A stand-in for the browser's WebSocket that records what the client does;
// the real one is driven by the browser tests (e2e/).
class FakeWS {
  static all: FakeWS[] = [];
  readyState = 0;
  sent: string[] = [];
  closed: number | null = null;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  onerror: (() => void) | null = null;
  constructor(
    public url: string,
    public protocols: string[],
  ) {
    FakeWS.all.push(this);
  }
  send(s: string) {
    this.sent.push(s);
  }
  close(code = 1000) {
    this.closed = code;
  }
  // What the server does:
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  frame(f: object) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  drop(code: number) {
    this.readyState = 3;
    this.onclose?.({ code });
  }
}

describe("ParleySocket", () => {
  beforeEach(() => {
    FakeWS.all = [];
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  function start(token: string | null = "pv_secret") {
    const states: SocketState[] = [];
    const frames: string[] = [];
    let readies = 0;
    const s = new ParleySocket({
      url: "ws://parley.test/ws",
      token: () => token,
      WebSocket: FakeWS as unknown as typeof WebSocket,
      onFrame: (f) => frames.push(f.type),
      onReady: () => readies++,
      onState: (st) => states.push(st),
    });
    s.start();
    return { s, states, frames, readies: () => readies };
  }

  it("offers parley.v1, puts no token in the URL and sends it in the first frame", () => {
    const { s } = start();
    const ws = FakeWS.all[0];
    expect(ws.protocols).toEqual(["parley.v1"]);
    expect(ws.url).not.toContain("pv_");
    ws.open();
    expect(JSON.parse(ws.sent[0])).toEqual({ type: "auth", token: "pv_secret" });
    expect(s.send({ type: "ping" })).toBe(false); // not before ready
    ws.frame({ type: "ready", version: "parley.v1", principal: { type: "customer", id: "v", name: "" } });
    expect(s.send({ type: "ping" })).toBe(true);
  });

  it("reconnects with backoff after a drop and calls onReady again", () => {
    const { states, readies } = start(null);
    const a = FakeWS.all[0];
    a.open();
    expect(a.sent).toEqual([]); // agents: the cookie, no auth frame
    a.frame({ type: "ready", version: "parley.v1", principal: { type: "agent", id: "u", name: "A" } });
    a.drop(1006);
    expect(states.at(-1)).toBe("reconnecting");
    expect(FakeWS.all.length).toBe(1);
    vi.advanceTimersByTime(1300);
    expect(FakeWS.all.length).toBe(2);
    FakeWS.all[1].open();
    FakeWS.all[1].frame({ type: "ready", version: "parley.v1", principal: { type: "agent", id: "u", name: "A" } });
    expect(readies()).toBe(2);
    expect(states.at(-1)).toBe("open");
  });

  it("stops for good on 4401 and 4403", () => {
    for (const code of [4401, 4403]) {
      FakeWS.all = [];
      const { states } = start();
      FakeWS.all[0].open();
      FakeWS.all[0].drop(code);
      vi.advanceTimersByTime(60_000);
      expect(FakeWS.all.length).toBe(1);
      expect(states.at(-1)).toBe("closed");
    }
  });

  it("passes other frames on, and notices a dead connection by its missing pong", () => {
    const { frames } = start();
    const ws = FakeWS.all[0];
    ws.open();
    ws.frame({ type: "ready", version: "parley.v1", principal: { type: "customer", id: "v", name: "" } });
    ws.frame({ type: "message", seq: 1 });
    expect(frames).toEqual(["message"]);
    vi.advanceTimersByTime(25_000);
    expect(JSON.parse(ws.sent.at(-1)!)).toMatchObject({ type: "ping" });
    vi.advanceTimersByTime(10_000);
    expect(ws.closed).toBe(4000);
  });
});

// The socket client of docs/protocol.md: connect with the parley.v1
// subprotocol, authenticate (visitors by their token in the first frame),
// reconnect with backoff and jitter unless the server refused the
// credentials (4401/4403), and tell the owner when it is ready so that it can
// resume what it shows. What to resume and how to merge is the owner's job
// (timeline.ts, outbox.ts).

import type { Party, ServerFrame } from "./types";

export type SocketState = "connecting" | "open" | "reconnecting" | "offline" | "closed";

export interface SocketOptions {
  url: string;
  /** A visitor token, sent in the first frame; agents use their cookie. */
  token?: () => string | null;
  onFrame: (f: ServerFrame) => void;
  /** Called after every `ready`: resume and resend from here. */
  onReady: (principal: Party) => void;
  onState?: (s: SocketState, closeCode?: number) => void;
  /** For tests. */
  WebSocket?: typeof WebSocket;
  /** Backoff base in ms (1 s by default). */
  backoff?: number;
}

/** The delay before reconnect attempt n (0-based): 1 s, 2 s, 4 s ... 30 s, each with up to 50% jitter. */
export function backoffDelay(n: number, base = 1000, random = Math.random): number {
  const d = Math.min(30_000, base * 2 ** Math.min(n, 5));
  return Math.round(d * (0.75 + random() * 0.5));
}

export function socketURL(path = "/ws"): string {
  const l = window.location;
  return (l.protocol === "https:" ? "wss://" : "ws://") + l.host + path;
}

const PING_EVERY = 25_000;
const PONG_WITHIN = 10_000;

export class ParleySocket {
  state: SocketState = "closed";
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pingTimer: ReturnType<typeof setInterval> | null = null;
  private pongTimer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private ready = false;
  private everOpen = false;
  private readonly WS: typeof WebSocket;

  constructor(private opts: SocketOptions) {
    this.WS = opts.WebSocket ?? WebSocket;
  }

  private onOnline = () => {
    if (this.stopped) return;
    this.attempt = 0;
    if (!this.ws) this.open();
  };

  private onOffline = () => {
    if (this.stopped) return;
    // The connection cannot work; drop it now rather than wait for a timeout.
    this.drop();
    this.setState("offline");
  };

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    if (typeof window !== "undefined") {
      window.addEventListener("online", this.onOnline);
      window.addEventListener("offline", this.onOffline);
    }
    this.open();
  }

  stop() {
    this.stopped = true;
    if (typeof window !== "undefined") {
      window.removeEventListener("online", this.onOnline);
      window.removeEventListener("offline", this.onOffline);
    }
    this.drop();
    this.setState("closed");
  }

  /** Sends a frame when the socket is authenticated; false otherwise. */
  send(frame: Record<string, unknown>): boolean {
    if (!this.ws || !this.ready || this.ws.readyState !== 1) return false;
    this.ws.send(JSON.stringify(frame));
    return true;
  }

  get isReady() {
    return this.ready;
  }

  /** Closes the current connection as if the network dropped it; it reconnects. */
  interrupt() {
    this.ws?.close(4000, "client interrupt");
  }

  private setState(s: SocketState, code?: number) {
    if (this.state === s) return;
    this.state = s;
    this.opts.onState?.(s, code);
  }

  private drop() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.stopPing();
    this.ready = false;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
  }

  private open() {
    if (this.stopped) return;
    if (typeof navigator !== "undefined" && navigator.onLine === false) {
      this.setState("offline");
      return;
    }
    this.setState(this.everOpen ? "reconnecting" : "connecting");
    let ws: WebSocket;
    try {
      ws = new this.WS(this.opts.url, ["parley.v1"]);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      const token = this.opts.token?.();
      if (token) ws.send(JSON.stringify({ type: "auth", token }));
    };
    ws.onmessage = (ev) => {
      let f: ServerFrame;
      try {
        f = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (f.type === "ready") {
        this.ready = true;
        this.everOpen = true;
        this.attempt = 0;
        this.startPing();
        this.setState("open");
        this.opts.onReady(f.principal);
        return;
      }
      if (f.type === "pong" && this.pongTimer) {
        clearTimeout(this.pongTimer);
        this.pongTimer = null;
      }
      this.opts.onFrame(f);
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.ready = false;
      this.stopPing();
      if (ev.code === 4401 || ev.code === 4403) {
        this.stopped = true;
        this.setState("closed", ev.code);
        return;
      }
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect() {
    if (this.stopped) return;
    this.setState("reconnecting");
    const d = backoffDelay(this.attempt++, this.opts.backoff);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.open();
    }, d);
  }

  // The server pings too, but a browser cannot see those: our own ping
  // notices a connection that died without a close (a lost network).
  private startPing() {
    this.stopPing();
    this.pingTimer = setInterval(() => {
      if (!this.send({ type: "ping", ref: "keepalive" })) return;
      if (this.pongTimer) return;
      this.pongTimer = setTimeout(() => {
        this.pongTimer = null;
        this.ws?.close(4000, "no pong");
      }, PONG_WITHIN);
    }, PING_EVERY);
  }

  private stopPing() {
    if (this.pingTimer) clearInterval(this.pingTimer);
    if (this.pongTimer) clearTimeout(this.pongTimer);
    this.pingTimer = null;
    this.pongTimer = null;
  }
}

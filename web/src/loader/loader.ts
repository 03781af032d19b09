// widget.js: the one script a site pastes. It draws the launcher button and
// opens the chat in an iframe on Parley's own origin, so the visitor's token
// and conversation stay there: nothing but display state (open, unread
// count, colour) and the page's address and title cross to this page, by
// postMessage with exact origins both ways. It loads async and waits for the
// page's load event before adding the iframe, so it never holds the page up.

interface Msg {
  parley?: number;
  type?: string;
  count?: number;
  color?: string;
  position?: string;
  title?: string;
}

(() => {
  const w = window as Window & { ParleyWidget?: unknown };
  if (w.ParleyWidget) return;
  const started = performance.now();
  const script =
    (document.currentScript as HTMLScriptElement | null) ||
    (Array.from(document.scripts).find((s) => /\/widget\.js(\?|$)/.test(s.src)) as HTMLScriptElement | undefined);
  if (!script) return;
  const origin = new URL(script.src, location.href).origin;
  const fr = /^fr\b/i.test(navigator.language);
  const label = { open: fr ? "Ouvrir le chat" : "Open chat", close: fr ? "Fermer le chat" : "Close chat" };
  const BUBBLE =
    '<svg width="28" height="28" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><path d="M21 12a8 8 0 0 1-11.6 7.1L4 21l1.9-5.4A8 8 0 1 1 21 12z"/></svg>';
  const CROSS =
    '<svg width="26" height="26" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" aria-hidden="true"><path d="M6 6l12 12M18 6L6 18"/></svg>';

  let open = false;
  let unread = 0;
  let side = "right";
  let color = "#2563eb";
  let frame: HTMLIFrameElement | null = null;
  let ready = false;
  const api = { open: () => setOpen(true), close: () => setOpen(false), toggle: () => setOpen(!open), startedAt: started, readyAt: 0 };
  w.ParleyWidget = api;

  const css = (el: HTMLElement, s: string) => el.setAttribute("style", s);
  const host = document.createElement("div");
  host.id = "parley-widget";
  const btn = document.createElement("button");
  btn.type = "button";
  const badge = document.createElement("span");
  badge.setAttribute("aria-hidden", "true");
  css(
    badge,
    "position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;padding:0 5px;border-radius:10px;background:#dc2626;color:#fff;font:600 12px/20px system-ui,sans-serif;text-align:center;display:none;box-sizing:border-box",
  );
  host.appendChild(btn);

  function place() {
    const s = side === "left" ? "left" : "right";
    css(
      btn,
      `position:fixed;bottom:20px;${s}:20px;z-index:2147483000;width:56px;height:56px;border-radius:28px;border:0;cursor:pointer;background:${color};color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25);display:flex;align-items:center;justify-content:center;padding:0`,
    );
    if (frame) {
      const small = innerWidth < 480;
      css(
        frame,
        (small
          ? "inset:0;width:100%;height:100%;border-radius:0;"
          : `bottom:88px;${s}:20px;width:370px;height:min(600px,calc(100vh - 108px));border-radius:12px;`) +
          `position:fixed;z-index:2147483001;border:0;background:#fff;box-shadow:0 8px 30px rgba(0,0,0,.25);color-scheme:normal;display:${open ? "block" : "none"}`,
      );
    }
  }

  function draw() {
    btn.innerHTML = open ? CROSS : BUBBLE;
    btn.appendChild(badge);
    const n = open ? 0 : unread;
    badge.textContent = n > 99 ? "99+" : String(n);
    badge.style.display = n > 0 ? "block" : "none";
    btn.setAttribute("aria-label", n > 0 && !open ? `${label.open} (${n})` : open ? label.close : label.open);
    btn.setAttribute("aria-expanded", String(open));
    place();
  }

  function post(msg: Record<string, unknown>) {
    if (frame?.contentWindow && ready) frame.contentWindow.postMessage({ parley: 1, ...msg }, origin);
  }

  function hostInfo() {
    post({ type: "host", pageUrl: location.href, pageTitle: document.title, referrer: document.referrer, open });
  }

  function setOpen(v: boolean) {
    open = v;
    try {
      sessionStorage.setItem("parley.open", v ? "1" : "");
    } catch {
      /* storage blocked */
    }
    if (v && !frame) makeFrame();
    draw();
    post({ type: open ? "open" : "closed" });
    if (open) frame?.focus();
    else if (document.activeElement === frame) btn.focus();
  }

  function makeFrame() {
    frame = document.createElement("iframe");
    frame.title = label.open;
    frame.setAttribute("allow", "autoplay");
    frame.src = origin + "/widget#host=" + encodeURIComponent(location.origin);
    host.appendChild(frame);
    place();
  }

  // A short two-note chime for a reply that arrives while the chat is closed.
  let audio: AudioContext | null = null;
  function chime() {
    try {
      audio = audio || new AudioContext();
      const t = audio.currentTime;
      [660, 880].forEach((f, i) => {
        const o = audio!.createOscillator();
        const g = audio!.createGain();
        o.frequency.value = f;
        g.gain.setValueAtTime(0.0001, t + i * 0.12);
        g.gain.exponentialRampToValueAtTime(0.15, t + i * 0.12 + 0.02);
        g.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.12 + 0.25);
        o.connect(g).connect(audio!.destination);
        o.start(t + i * 0.12);
        o.stop(t + i * 0.12 + 0.3);
      });
    } catch {
      /* no sound: fine */
    }
  }

  addEventListener("message", (ev: MessageEvent) => {
    if (ev.origin !== origin || !frame || ev.source !== frame.contentWindow) return;
    const m = ev.data as Msg;
    if (!m || m.parley !== 1) return;
    switch (m.type) {
      case "ready":
        ready = true;
        api.readyAt = performance.now();
        if (m.color && /^#[0-9a-f]{6}$/i.test(m.color)) color = m.color;
        if (m.position === "left" || m.position === "right") side = m.position;
        if (m.title) frame.title = m.title;
        hostInfo();
        post({ type: open ? "open" : "closed" });
        draw();
        dispatchEvent(new CustomEvent("parley:ready"));
        break;
      case "unread": {
        const n = Math.max(0, Math.floor(Number(m.count) || 0));
        if (n > unread && !open) chime();
        unread = n;
        draw();
        break;
      }
      case "close":
        setOpen(false);
        btn.focus();
        break;
    }
  });
  btn.addEventListener("click", () => setOpen(!open));
  addEventListener("resize", place);

  function mount() {
    document.body.appendChild(host);
    let wasOpen = false;
    try {
      wasOpen = sessionStorage.getItem("parley.open") === "1";
    } catch {
      /* storage blocked */
    }
    draw();
    const later = () => {
      if (!frame) makeFrame();
      if (wasOpen) setOpen(true);
    };
    if (document.readyState === "complete") later();
    else addEventListener("load", later);
  }
  if (document.body) mount();
  else addEventListener("DOMContentLoaded", mount);
})();

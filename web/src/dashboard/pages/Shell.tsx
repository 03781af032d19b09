import { useEffect, useRef, useState, type ReactNode } from "react";
import { Link, useLocation } from "wouter";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import type { Availability, User } from "../../shared/types";
import { api, setCsrf, useSession } from "../lib/session";
import { useLive } from "../lib/live";
import { saveTheme, savedTheme, type Theme } from "../lib/theme";
import { Button } from "../components/ui/button";
import { Menu, MenuContent, MenuItem, MenuLabel, MenuSeparator, MenuTrigger } from "../components/ui/menu";
import { cn } from "../components/ui/cn";

const dot: Record<Availability, string> = { online: "bg-emerald-500", away: "bg-amber-500", offline: "bg-slate-400" };
const availabilityLabel: Record<Availability, string> = { online: "Online", away: "Away", offline: "Offline" };

export function Shell({ children }: { children: ReactNode }) {
  const { user, can } = useSession();
  const [loc] = useLocation();
  const [theme, setTheme] = useState<Theme>(savedTheme());
  const [sound, setSound] = useState(() => localStorage.getItem("parley.sound") !== "off");
  const qc = useQueryClient();

  const availability = useMutation({
    mutationFn: (a: Availability) => api<{ user: User }>("PATCH", "/api/auth/me", { availability: a }),
    onSuccess: (r) => qc.setQueryData(["me"], r.user),
  });
  const logout = useMutation({
    mutationFn: () => api("POST", "/api/auth/logout"),
    onSettled: () => {
      setCsrf(null);
      qc.clear();
      qc.setQueryData(["me"], null);
    },
  });

  const nav = [
    { to: "/", label: "Inbox", show: true, active: loc === "/" || loc.startsWith("/chat") },
    { to: "/search", label: "Search", show: true, active: loc.startsWith("/search") },
    { to: "/quick-replies", label: "Quick replies", show: true, active: loc === "/quick-replies" },
    { to: "/reports", label: "Reports", show: can("reports"), active: loc === "/reports" },
    { to: "/users", label: "Users", show: can("manageUsers"), active: loc === "/users" },
    { to: "/settings", label: "Settings", show: can("readSettings"), active: loc === "/settings" },
  ];

  return (
    <div className="flex h-full flex-col">
      <a href="#main" className="sr-only focus:not-sr-only focus:absolute focus:top-2 focus:left-2 focus:z-50 focus:rounded focus:bg-panel focus:px-3 focus:py-2">
        Skip to content
      </a>
      <header className="flex h-12 shrink-0 items-center gap-2 border-b border-line bg-panel px-3">
        <span className="mr-2 font-semibold">Parley</span>
        <nav aria-label="Main" className="flex gap-1">
          {nav
            .filter((n) => n.show)
            .map((n) => (
              <Link key={n.to} href={n.to} aria-current={n.active ? "page" : undefined} className={cn("rounded px-2.5 py-1 text-sm", n.active ? "bg-raised font-medium" : "text-muted hover:bg-raised")}>
                {n.label}
              </Link>
            ))}
        </nav>
        <div className="ml-auto flex items-center gap-1">
          <NotifyButton />
          <Button
            variant="ghost"
            size="sm"
            aria-label={theme === "dark" ? "Use the light theme" : "Use the dark theme"}
            onClick={() => {
              const t = theme === "dark" ? "light" : "dark";
              saveTheme(t);
              setTheme(t);
            }}
          >
            {theme === "dark" ? "☀" : "☾"}
          </Button>
          <Menu>
            <MenuTrigger asChild>
              <Button variant="ghost" size="sm" aria-label={`${user.name || user.email}, ${availabilityLabel[user.availability]}: change availability or sign out`}>
                <span className={cn("h-2.5 w-2.5 rounded-full", dot[user.availability])} aria-hidden="true" />
                <span className="max-w-40 truncate">{user.name || user.email}</span>
              </Button>
            </MenuTrigger>
            <MenuContent label="Account">
              <MenuLabel>Availability</MenuLabel>
              {(["online", "away", "offline"] as Availability[]).map((a) => (
                <MenuItem key={a} onSelect={() => availability.mutate(a)}>
                  <span className={cn("h-2.5 w-2.5 rounded-full", dot[a])} aria-hidden="true" />
                  {availabilityLabel[a]}
                  {user.availability === a && <span className="ml-auto text-muted">✓</span>}
                </MenuItem>
              ))}
              <MenuSeparator />
              <MenuItem
                onSelect={() => {
                  const next = !sound;
                  localStorage.setItem("parley.sound", next ? "on" : "off");
                  setSound(next);
                }}
              >
                {sound ? "Turn off the sound for new chats" : "Turn on the sound for new chats"}
              </MenuItem>
              <MenuItem onSelect={() => logout.mutate()}>Sign out</MenuItem>
            </MenuContent>
          </Menu>
        </div>
      </header>
      <ConnectionBanner />
      <main id="main" className="min-h-0 flex-1">
        {children}
      </main>
    </div>
  );
}

function NotifyButton() {
  const [perm, setPerm] = useState(typeof Notification === "undefined" ? "denied" : Notification.permission);
  if (perm !== "default") return null;
  return (
    <Button variant="ghost" size="sm" onClick={() => void Notification.requestPermission().then(setPerm)}>
      Turn on notifications
    </Button>
  );
}

/** Says when the live connection is lost, then that it is back. */
function ConnectionBanner() {
  const live = useLive();
  const down = live.everOpen && live.state !== "open";
  const [back, setBack] = useState(false);
  const wasDown = useRef(false);
  useEffect(() => {
    if (down) wasDown.current = true;
    else if (wasDown.current && live.state === "open") {
      wasDown.current = false;
      setBack(true);
      const t = setTimeout(() => setBack(false), 3000);
      return () => clearTimeout(t);
    }
  }, [down, live.state]);
  if (down)
    return (
      <div role="status" data-testid="connection-banner" className="border-b border-amber-300 bg-amber-100 px-4 py-1.5 text-sm text-amber-950">
        {live.state === "offline" ? "You are offline. Messages will be sent when the connection is back." : "Connection lost. Reconnecting…"}
      </div>
    );
  if (back)
    return (
      <div role="status" data-testid="connection-banner" className="border-b border-emerald-300 bg-emerald-100 px-4 py-1.5 text-sm text-emerald-950">
        Reconnected.
      </div>
    );
  return null;
}

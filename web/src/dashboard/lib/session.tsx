// The signed-in agent: GET /api/auth/me on start, the CSRF token kept in
// memory and sent on every non-GET, and a 401 anywhere sends us to sign in.

import { createContext, useContext, useMemo, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, makeApi, type Api } from "../../shared/api";
import type { Role, User } from "../../shared/types";

let csrfToken: string | null = null;
export function setCsrf(t: string | null) {
  csrfToken = t;
}
export const csrf = () => csrfToken;

let onUnauthorized: () => void = () => {};
export const api: Api = makeApi({ csrf: () => csrfToken, onUnauthorized: () => onUnauthorized() });

export interface Session {
  user: User;
  can: (what: Capability) => boolean;
}

export type Capability =
  | "seeAll"
  | "assign"
  | "transferAny"
  | "forceTransfer"
  | "sharedReplies"
  | "editSops"
  | "reports"
  | "export"
  | "manageUsers"
  | "readSettings"
  | "editSettings"
  | "delete";

const rank: Record<Role, number> = { agent: 0, senior_agent: 1, team_lead: 2, admin: 3 };
// Mirrors docs/roles.md; the server decides, this only hides what would be refused.
const needs: Record<Capability, Role> = {
  seeAll: "senior_agent",
  transferAny: "senior_agent",
  assign: "team_lead",
  forceTransfer: "team_lead",
  sharedReplies: "team_lead",
  editSops: "team_lead",
  reports: "team_lead",
  export: "team_lead",
  readSettings: "team_lead",
  editSettings: "admin",
  manageUsers: "admin",
  delete: "admin",
};

export function capable(role: Role, what: Capability) {
  return rank[role] >= rank[needs[what]];
}

const Ctx = createContext<Session | null>(null);

export function useMe() {
  return useQuery({
    queryKey: ["me"],
    queryFn: async () => {
      try {
        const r = await api<{ user: User; csrfToken?: string }>("GET", "/api/auth/me");
        if (r.csrfToken) setCsrf(r.csrfToken);
        return r.user;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null;
        throw e;
      }
    },
    staleTime: Infinity,
    retry: (n, e) => !(e instanceof ApiError && e.status < 500) && n < 3,
  });
}

export function SessionProvider({ user, children }: { user: User; children: ReactNode }) {
  const qc = useQueryClient();
  onUnauthorized = () => qc.setQueryData(["me"], null);
  const value = useMemo<Session>(() => ({ user, can: (w) => capable(user.role, w) }), [user]);
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  const s = useContext(Ctx);
  if (!s) throw new Error("useSession outside SessionProvider");
  return s;
}

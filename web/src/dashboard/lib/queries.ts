import { useQuery } from "@tanstack/react-query";
import type { Conversation, ConversationPage, Customer, QuickReply, Rating, Transfer, User } from "../../shared/types";
import { api } from "./session";

export type View = "waiting" | "mine" | "all" | "closed";

export const viewQuery: Record<View, string> = {
  waiting: "status=waiting&limit=100",
  mine: "assignee=me&status=waiting,active&limit=100",
  all: "status=waiting,active&limit=100",
  closed: "status=closed&limit=50",
};

export function useConversations(view: View, enabled = true) {
  return useQuery({
    queryKey: ["conversations", view],
    queryFn: () => api<ConversationPage>("GET", "/api/conversations?" + viewQuery[view]),
    enabled,
    refetchInterval: 60_000,
  });
}

export function useConversation(id: string) {
  return useQuery({ queryKey: ["conversation", id], queryFn: () => api<Conversation>("GET", `/api/conversations/${id}`) });
}

export function useCustomer(id: string | undefined) {
  return useQuery({
    queryKey: ["customer", id],
    queryFn: () => api<Customer>("GET", `/api/customers/${id}`),
    enabled: !!id,
    staleTime: 60_000,
  });
}

export function useUsers() {
  return useQuery({ queryKey: ["users"], queryFn: () => api<{ users: User[] }>("GET", "/api/users"), staleTime: 30_000 });
}

/** A short name for a customer: their name, email, or "Visitor 1a2b". */
export function customerLabel(c: Customer | undefined, id: string): string {
  return c?.name || c?.email || "Visitor " + id.slice(-4);
}

export function useTransfers(id: string) {
  return useQuery({ queryKey: ["transfers", id], queryFn: () => api<{ transfers: Transfer[] }>("GET", `/api/conversations/${id}/transfers`).then((r) => r.transfers) });
}

export function useRating(id: string, enabled: boolean) {
  return useQuery({ queryKey: ["rating", id], queryFn: () => api<{ rating: Rating | null }>("GET", `/api/conversations/${id}/rating`).then((r) => r.rating), enabled });
}

export function useQuickReplies() {
  return useQuery({ queryKey: ["quick-replies"], queryFn: () => api<{ quickReplies: QuickReply[] }>("GET", "/api/quick-replies").then((r) => r.quickReplies), staleTime: 60_000 });
}

/** The name of an agent by id, from the users list ("" when unknown). */
export function useAgentName() {
  const users = useUsers();
  const m = new Map((users.data?.users ?? []).map((u) => [u.id, u.name || u.email]));
  return (id: string | null | undefined) => (id ? (m.get(id) ?? "") : "");
}

import { useQuery } from "@tanstack/react-query";
import type { Conversation, ConversationPage, Customer, User } from "../../shared/types";
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
  return c?.name || c?.email || "Visitor " + id.slice(0, 4);
}

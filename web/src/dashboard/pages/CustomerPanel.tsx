import type { ReactNode } from "react";
import { Link } from "wouter";
import { useQuery } from "@tanstack/react-query";
import { age } from "../../shared/format";
import type { Conversation, ConversationPage, Customer } from "../../shared/types";
import { api } from "../lib/session";
import { useCustomer } from "../lib/queries";

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="py-1.5">
      <dt className="text-xs text-muted">{label}</dt>
      <dd className="text-sm break-words">{children || <span className="text-muted">—</span>}</dd>
    </div>
  );
}

function device(c: Customer): string {
  const d = c.device;
  if (!d) return "";
  const browser = [d.browser, d.browserVersion].filter(Boolean).join(" ");
  const os = [d.os, d.osVersion].filter(Boolean).join(" ");
  return [browser, os, d.type && d.type !== "unknown" ? d.type : ""].filter(Boolean).join(" · ");
}

function location(c: Customer): string {
  const l = c.location as { country?: string; countryCode?: string } | null;
  if (!l) return "";
  return l.country || l.countryCode || "";
}

export function CustomerPanel({ c }: { c: Conversation }) {
  const q = useCustomer(c.customerId);
  const earlier = useQuery({
    queryKey: ["conversations", "customer", c.customerId],
    queryFn: () => api<ConversationPage>("GET", `/api/conversations?customer=${encodeURIComponent(c.customerId)}&limit=20`),
    staleTime: 30_000,
  });
  const cu = q.data;
  const others = (earlier.data?.conversations ?? []).filter((x) => x.id !== c.id);
  return (
    <div>
      <h2 className="font-semibold">Customer</h2>
      {q.isPending ? (
        <p className="mt-2 text-sm text-muted">Loading…</p>
      ) : q.isError || !cu ? (
        <p className="mt-2 text-sm text-danger">Could not load the customer.</p>
      ) : (
        <dl className="mt-2 divide-y divide-line">
          <Field label="Name">{cu.name}</Field>
          <Field label="Email">{cu.email}</Field>
          <Field label="IP address">{cu.ip || c.customerIp}</Field>
          <Field label="Location">{location(cu)}</Field>
          <Field label="Device">{device(cu)}</Field>
          <Field label="Browser (user agent)">
            <span className="text-xs text-muted">{cu.userAgent}</span>
          </Field>
          {cu.context?.pageUrl && (
            <Field label="Page">
              <span title={cu.context.pageUrl}>{cu.context.pageTitle || cu.context.pageUrl}</span>
            </Field>
          )}
          {cu.context?.language && <Field label="Language, time zone">{[cu.context.language, cu.context.timeZone].filter(Boolean).join(", ")}</Field>}
          <Field label="First seen">
            <time dateTime={cu.firstSeen}>{new Date(cu.firstSeen).toLocaleString()}</time>
          </Field>
          <Field label="Last seen">
            <time dateTime={cu.lastSeen}>{new Date(cu.lastSeen).toLocaleString()}</time>
          </Field>
        </dl>
      )}
      <h3 className="mt-5 text-sm font-semibold">Earlier conversations</h3>
      {earlier.isPending ? (
        <p className="mt-1 text-sm text-muted">Loading…</p>
      ) : earlier.isError ? (
        <p className="mt-1 text-sm text-danger">Could not load them.</p>
      ) : others.length === 0 ? (
        <p className="mt-1 text-sm text-muted">None.</p>
      ) : (
        <ul className="mt-1 space-y-1">
          {others.map((o) => (
            <li key={o.id}>
              <Link href={`/chat/${o.id}`} className="block rounded px-2 py-1 text-sm hover:bg-raised">
                <span className="block truncate">{o.lastMessagePreview || "No messages"}</span>
                <span className="text-xs text-muted">
                  {o.status} · {age(o.lastMessageAt ?? o.createdAt)}
                </span>
              </Link>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

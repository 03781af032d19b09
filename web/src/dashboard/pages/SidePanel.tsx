// Beside a chat: the customer and this conversation's history (transfers,
// rating), and the guides (SOP documents), loaded the first time they are
// opened.

import { lazy, Suspense, useState } from "react";
import * as Tabs from "@radix-ui/react-tabs";
import type { Conversation } from "../../shared/types";
import { useRating, useTransfers } from "../lib/queries";
import { CustomerPanel } from "./CustomerPanel";

const SopPanel = lazy(() => import("./SopPanel"));

export function SidePanel({ c }: { c: Conversation }) {
  const [tab, setTab] = useState("customer");
  return (
    <aside aria-label="Details" className="hidden w-80 shrink-0 flex-col border-l border-line bg-panel lg:flex">
      <Tabs.Root value={tab} onValueChange={setTab} className="flex min-h-0 flex-1 flex-col">
        <Tabs.List aria-label="Side panel" className="flex border-b border-line">
          {[
            ["customer", "Customer"],
            ["guides", "Guides"],
          ].map(([v, label]) => (
            <Tabs.Trigger
              key={v}
              value={v}
              className="flex-1 border-b-2 border-transparent px-2 py-2 text-sm text-muted data-[state=active]:border-accent data-[state=active]:font-medium data-[state=active]:text-fg"
            >
              {label}
            </Tabs.Trigger>
          ))}
        </Tabs.List>
        <Tabs.Content value="customer" className="min-h-0 flex-1 overflow-y-auto p-4" tabIndex={-1}>
          <CustomerPanel c={c} />
          <ConversationHistory c={c} />
        </Tabs.Content>
        <Tabs.Content value="guides" className="min-h-0 flex-1 overflow-y-auto p-4" tabIndex={-1}>
          <Suspense fallback={<p className="text-sm text-muted">Loading…</p>}>
            <SopPanel conversationId={c.id} />
          </Suspense>
        </Tabs.Content>
      </Tabs.Root>
    </aside>
  );
}

function ConversationHistory({ c }: { c: Conversation }) {
  const transfers = useTransfers(c.id);
  const rating = useRating(c.id, c.status === "closed");
  return (
    <>
      {c.status === "closed" && (
        <section className="mt-5" aria-labelledby="h-rating">
          <h3 id="h-rating" className="text-sm font-semibold">
            Rating
          </h3>
          {rating.isPending ? (
            <p className="mt-1 text-sm text-muted">Loading…</p>
          ) : rating.data ? (
            <div className="mt-1 text-sm" data-testid="rating">
              <span aria-label={`${rating.data.score} out of 5`}>
                <span aria-hidden="true" className="text-amber-500">
                  {"★".repeat(rating.data.score)}
                  <span className="text-muted">{"☆".repeat(5 - rating.data.score)}</span>
                </span>{" "}
                {rating.data.score}/5
              </span>
              {rating.data.comment && <p className="mt-1 whitespace-pre-wrap text-muted">“{rating.data.comment}”</p>}
            </div>
          ) : (
            <p className="mt-1 text-sm text-muted">Not rated.</p>
          )}
        </section>
      )}
      <section className="mt-5" aria-labelledby="h-transfers">
        <h3 id="h-transfers" className="text-sm font-semibold">
          Transfers
        </h3>
        {transfers.isPending ? (
          <p className="mt-1 text-sm text-muted">Loading…</p>
        ) : transfers.isError ? (
          <p className="mt-1 text-sm text-danger">Could not load the transfers.</p>
        ) : transfers.data.length === 0 ? (
          <p className="mt-1 text-sm text-muted">None.</p>
        ) : (
          <ol className="mt-1 space-y-2" data-testid="transfers">
            {transfers.data.map((t) => (
              <li key={t.id} className="text-sm">
                <span className="font-medium">{t.fromAgent ? t.fromAgent.name || "A former agent" : "The queue"}</span> → <span className="font-medium">{t.toAgent.name || "a former agent"}</span>
                <span className="block text-xs text-muted">
                  {new Date(t.createdAt).toLocaleString()}
                  {t.by && t.by.id !== t.fromAgent?.id ? ` · by ${t.by.name || "a former agent"}` : ""}
                </span>
                {t.reason && <span className="block text-xs whitespace-pre-wrap">“{t.reason}”</span>}
              </li>
            ))}
          </ol>
        )}
      </section>
    </>
  );
}

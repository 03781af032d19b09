// The reports page (team leads and admins): GET /api/reports/summary drawn
// as charts, and the export of every conversation in a date range. Loaded
// on demand.

import { useMemo, useState } from "react";
import { useQuery } from "@tanstack/react-query";
import { ApiError } from "../../shared/api";
import type { Report, Stats, Timing } from "../../shared/types";
import { api, useSession } from "../lib/session";
import { BarChart, Columns, LineChart } from "../components/charts";
import { Button } from "../components/ui/button";
import { Input, Label, Select } from "../components/ui/input";

type Preset = "24h" | "7d" | "30d" | "custom";

/** "45 s", "12 min", "1 h 20 min", "2 d 3 h"; "—" when nothing was measured. */
export function duration(seconds: number, count = 1): string {
  if (!count) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  const h = Math.floor(s / 3600);
  if (h < 24) {
    const rm = Math.round((s - h * 3600) / 60);
    return rm ? `${h} h ${rm} min` : `${h} h`;
  }
  const d = Math.floor(s / 86400);
  const rh = Math.round((s - d * 86400) / 3600);
  return rh ? `${d} d ${rh} h` : `${d} d`;
}

function day(d: Date) {
  return d.toISOString().slice(0, 10);
}

function range(p: Preset, from: string, to: string): { from: Date; to: Date; bucket: "hour" | "day" } | null {
  const now = new Date();
  if (p === "24h") return { from: new Date(now.getTime() - 24 * 3600e3), to: now, bucket: "hour" };
  if (p === "7d") return { from: new Date(now.getTime() - 7 * 86400e3), to: now, bucket: "day" };
  if (p === "30d") return { from: new Date(now.getTime() - 30 * 86400e3), to: now, bucket: "day" };
  const f = new Date(from + "T00:00:00");
  const t = new Date(to + "T00:00:00");
  if (isNaN(f.getTime()) || isNaN(t.getTime())) return null;
  t.setDate(t.getDate() + 1); // the "to" day counts whole
  if (t <= f) return null;
  return { from: f, to: t, bucket: t.getTime() - f.getTime() <= 2 * 86400e3 ? "hour" : "day" };
}

export default function ReportsPage() {
  const { can } = useSession();
  const [preset, setPreset] = useState<Preset>("7d");
  const [from, setFrom] = useState(day(new Date(Date.now() - 7 * 86400e3)));
  const [to, setTo] = useState(day(new Date()));
  // A preset's range is fixed when chosen, so the query key stays still.
  const [stamp, setStamp] = useState(() => Date.now());
  const r = useMemo(() => range(preset, from, to), [preset, from, to, stamp]); // eslint-disable-line react-hooks/exhaustive-deps
  const q = useQuery({
    queryKey: ["report", r?.from.toISOString(), r?.to.toISOString(), r?.bucket],
    queryFn: () => api<Report>("GET", `/api/reports/summary?from=${encodeURIComponent(r!.from.toISOString())}&to=${encodeURIComponent(r!.to.toISOString())}&bucket=${r!.bucket}`),
    enabled: !!r && can("reports"),
  });
  if (!can("reports")) return <p className="p-6">Team leads and admins see the reports.</p>;
  const rep = q.data;
  const fmt = (iso: string) => {
    const d = new Date(iso);
    return rep?.bucket === "hour" ? d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" }) : d.toLocaleDateString(undefined, { day: "numeric", month: "short" });
  };
  return (
    <div className="h-full overflow-y-auto">
      <div className="mx-auto max-w-5xl space-y-5 p-4">
        <div className="flex flex-wrap items-end gap-3">
          <h1 className="mr-auto text-xl font-semibold">Reports</h1>
          <div>
            <Label htmlFor="r-range">Period</Label>
            <Select
              id="r-range"
              value={preset}
              onChange={(e) => {
                setPreset(e.target.value as Preset);
                setStamp(Date.now());
              }}
            >
              <option value="24h">Last 24 hours</option>
              <option value="7d">Last 7 days</option>
              <option value="30d">Last 30 days</option>
              <option value="custom">Dates…</option>
            </Select>
          </div>
          {preset === "custom" && (
            <>
              <div>
                <Label htmlFor="r-from">From</Label>
                <Input id="r-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
              </div>
              <div>
                <Label htmlFor="r-to">To (included)</Label>
                <Input id="r-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
              </div>
            </>
          )}
          <Button onClick={() => setStamp(Date.now())} aria-label="Refresh the report">
            Refresh
          </Button>
        </div>
        {!r ? (
          <p className="text-danger">Choose a start date before the end date.</p>
        ) : q.isPending ? (
          <p className="text-muted">Loading…</p>
        ) : q.isError ? (
          <p className="text-danger">Could not load the report{q.error instanceof ApiError ? `: ${q.error.message}` : "."}</p>
        ) : (
          rep && <ReportView rep={rep} fmt={fmt} />
        )}
        {can("export") && <RangeExport />}
      </div>
    </div>
  );
}

function Card({ title, value, sub }: { title: string; value: string; sub?: string }) {
  return (
    <div className="rounded-lg border border-line bg-panel p-3">
      <p className="text-xs text-muted">{title}</p>
      <p className="text-2xl font-semibold">{value}</p>
      {sub && <p className="text-xs text-muted">{sub}</p>}
    </div>
  );
}

const timing = (t: Timing) => (t.count ? `median ${duration(t.medianSeconds)}, 90% within ${duration(t.p90Seconds)}` : "nothing measured");

function ReportView({ rep, fmt }: { rep: Report; fmt: (iso: string) => string }) {
  const o: Stats = rep.overall;
  const agents = rep.agents;
  return (
    <div className="space-y-5" data-testid="report">
      <div className="grid grid-cols-2 gap-3 md:grid-cols-5">
        <Card title="Conversations started" value={String(o.started)} />
        <Card title="Closed" value={String(o.closed)} />
        <Card title="First response (median)" value={duration(o.firstResponse.medianSeconds, o.firstResponse.count)} sub={o.firstResponse.count ? `90% within ${duration(o.firstResponse.p90Seconds)}` : undefined} />
        <Card title="Resolution (median)" value={duration(o.resolution.medianSeconds, o.resolution.count)} sub={o.resolution.count ? `90% within ${duration(o.resolution.p90Seconds)}` : undefined} />
        <Card title="Satisfaction" value={o.satisfaction.count ? `${o.satisfaction.average.toFixed(1)} / 5` : "—"} sub={`${o.satisfaction.count} rating${o.satisfaction.count === 1 ? "" : "s"}`} />
      </div>

      <section className="rounded-lg border border-line bg-panel p-4" aria-labelledby="r-queue">
        <h2 id="r-queue" className="font-semibold">
          People waiting for an answer
        </h2>
        <LineChart points={rep.queue.map((p) => ({ at: p.at, value: p.waiting }))} label={`Waiting queue over time, at most ${Math.max(0, ...rep.queue.map((p) => p.waiting))}`} format={fmt} />
      </section>

      <div className="grid gap-5 md:grid-cols-2">
        <section className="rounded-lg border border-line bg-panel p-4" aria-labelledby="r-agents">
          <h2 id="r-agents" className="font-semibold">
            Conversations per agent
          </h2>
          {agents.length === 0 ? (
            <p className="mt-2 text-sm text-muted">No agent handled a conversation in this period.</p>
          ) : (
            <BarChart
              label="Conversations started and closed per agent"
              series={[
                { name: "started", color: "#3b82f6" },
                { name: "closed", color: "#10b981" },
              ]}
              rows={agents.map((a) => ({ label: a.name || "Former agent", values: [a.started, a.closed] }))}
            />
          )}
        </section>
        <section className="rounded-lg border border-line bg-panel p-4" aria-labelledby="r-sat">
          <h2 id="r-sat" className="font-semibold">
            Ratings
          </h2>
          <Columns values={o.satisfaction.distribution} labels={["1★", "2★", "3★", "4★", "5★"]} label={`Ratings from 1 to 5: ${o.satisfaction.distribution.join(", ")}`} />
        </section>
      </div>

      <section className="rounded-lg border border-line bg-panel p-4" aria-labelledby="r-table">
        <h2 id="r-table" className="font-semibold">
          By agent
        </h2>
        <div className="mt-2 overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-muted">
              <tr>
                <th className="py-1 pr-3 font-medium">Agent</th>
                <th className="py-1 pr-3 font-medium">Started</th>
                <th className="py-1 pr-3 font-medium">Closed</th>
                <th className="py-1 pr-3 font-medium">First response</th>
                <th className="py-1 pr-3 font-medium">Resolution</th>
                <th className="py-1 font-medium">Satisfaction</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-line">
              {[{ ...o, agentId: "all", name: "Everyone" }, ...agents].map((a) => (
                <tr key={a.agentId}>
                  <td className="py-1.5 pr-3 font-medium">{a.name || "Former agent"}</td>
                  <td className="py-1.5 pr-3">{a.started}</td>
                  <td className="py-1.5 pr-3">{a.closed}</td>
                  <td className="py-1.5 pr-3">{timing(a.firstResponse)}</td>
                  <td className="py-1.5 pr-3">{timing(a.resolution)}</td>
                  <td className="py-1.5">{a.satisfaction.count ? `${a.satisfaction.average.toFixed(1)} (${a.satisfaction.count})` : "—"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </div>
  );
}

/** Every conversation created in a range, with its messages, as one file (streamed by the server). */
function RangeExport() {
  const [from, setFrom] = useState(day(new Date(Date.now() - 30 * 86400e3)));
  const [to, setTo] = useState(day(new Date()));
  const [format, setFormat] = useState<"csv" | "json">("csv");
  const href = `/api/exports/conversations?from=${from}&to=${to}&format=${format}`;
  return (
    <section className="rounded-lg border border-line bg-panel p-4" aria-labelledby="r-export">
      <h2 id="r-export" className="font-semibold">
        Export conversations
      </h2>
      <p className="mt-1 text-sm text-muted">Every conversation started in these days, with all its messages and private notes.</p>
      <div className="mt-2 flex flex-wrap items-end gap-3">
        <div>
          <Label htmlFor="x-from">From</Label>
          <Input id="x-from" type="date" value={from} onChange={(e) => setFrom(e.target.value)} />
        </div>
        <div>
          <Label htmlFor="x-to">To (included)</Label>
          <Input id="x-to" type="date" value={to} onChange={(e) => setTo(e.target.value)} />
        </div>
        <div>
          <Label htmlFor="x-format">Format</Label>
          <Select id="x-format" value={format} onChange={(e) => setFormat(e.target.value as "csv" | "json")}>
            <option value="csv">CSV (spreadsheet)</option>
            <option value="json">JSON</option>
          </Select>
        </div>
        <a href={href} download className="inline-flex h-9 items-center rounded-md bg-accent px-3.5 text-sm font-medium text-accent-fg hover:opacity-90">
          Download
        </a>
      </div>
    </section>
  );
}

import { useEffect, useState, type FormEvent } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../shared/api";
import { DAYS } from "../../shared/hours";
import type { BusinessHours, Settings } from "../../shared/types";
import { api, useSession } from "../lib/session";
import { Button } from "../components/ui/button";
import { Input, Label, Select, Textarea } from "../components/ui/input";

const dayNames: Record<(typeof DAYS)[number], string> = { mon: "Monday", tue: "Tuesday", wed: "Wednesday", thu: "Thursday", fri: "Friday", sat: "Saturday", sun: "Sunday" };

export function SettingsPage() {
  const { can } = useSession();
  const editable = can("editSettings");
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: ["settings"],
    queryFn: () => api<Settings>("GET", "/api/settings"),
  });
  const [s, setS] = useState<Settings | null>(null);
  const [origins, setOrigins] = useState("");
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  useEffect(() => {
    if (q.data) {
      setS(q.data);
      setOrigins(q.data.allowedOrigins.join("\n"));
    }
  }, [q.data]);

  if (!can("readSettings")) return <p className="p-6">Team leads and admins see the settings.</p>;
  if (q.isError) return <p className="p-6 text-danger">Could not load the settings.</p>;
  if (!s) return <p className="p-6 text-muted">Loading…</p>;
  const ro = !editable;

  const setWidget = (k: keyof Settings["widget"], v: string) => setS({ ...s, widget: { ...s.widget, [k]: v } });
  const hours = s.businessHours;
  const setHours = (h: BusinessHours | null) => setS({ ...s, businessHours: h });

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setMsg(null);
    const body = {
      widget: s.widget,
      allowedOrigins: origins.split(/\s+/).map((o) => o.trim()).filter(Boolean),
      businessHours: s.businessHours,
      offlineMessage: s.offlineMessage,
    };
    try {
      const next = await api<Settings>("PATCH", "/api/settings", body);
      qc.setQueryData(["settings"], next);
      setMsg({ ok: true, text: "Saved." });
    } catch (err) {
      setMsg({ ok: false, text: err instanceof ApiError ? err.message : "Not saved." });
    }
  };

  return (
    <div className="h-full overflow-y-auto">
      <form onSubmit={save} className="mx-auto max-w-3xl space-y-6 p-4">
        <h1 className="text-xl font-semibold">Settings</h1>
        {!editable && <p className="text-sm text-muted">Only admins can change these settings.</p>}

        <section className="rounded-lg border border-line bg-panel p-4" aria-labelledby="s-snippet">
          <h2 id="s-snippet" className="font-semibold">
            Add the chat to your site
          </h2>
          <p className="mt-1 text-sm text-muted">Paste this line before the closing &lt;/body&gt; tag of every page that shows the chat.</p>
          <div className="mt-2 flex gap-2">
            <code className="block flex-1 overflow-x-auto rounded bg-raised p-2 text-xs whitespace-pre" data-testid="snippet">
              {s.snippet}
            </code>
            <Button onClick={() => void navigator.clipboard?.writeText(s.snippet)}>Copy</Button>
          </div>
        </section>

        <fieldset disabled={ro} className="space-y-3 rounded-lg border border-line bg-panel p-4">
          <legend className="px-1 font-semibold">Widget look</legend>
          <div className="grid gap-3 sm:grid-cols-2">
            <div>
              <Label htmlFor="s-title">Title</Label>
              <Input id="s-title" maxLength={100} value={s.widget.title} onChange={(e) => setWidget("title", e.target.value)} />
            </div>
            <div>
              <Label htmlFor="s-color">Colour</Label>
              <div className="flex gap-2">
                <input id="s-color" type="color" value={s.widget.color} onChange={(e) => setWidget("color", e.target.value)} className="h-9 w-12 rounded border border-line bg-panel" />
                <Input aria-label="Colour as #rrggbb" value={s.widget.color} pattern="#[0-9a-fA-F]{6}" onChange={(e) => setWidget("color", e.target.value)} />
              </div>
            </div>
          </div>
          <div>
            <Label htmlFor="s-greeting">Greeting</Label>
            <Textarea id="s-greeting" rows={2} maxLength={500} value={s.widget.greeting} onChange={(e) => setWidget("greeting", e.target.value)} />
          </div>
          <div className="grid gap-3 sm:grid-cols-2">
            <div>
              <Label htmlFor="s-position">Position</Label>
              <Select id="s-position" value={s.widget.position} onChange={(e) => setWidget("position", e.target.value)}>
                <option value="right">Bottom right</option>
                <option value="left">Bottom left</option>
              </Select>
            </div>
            <div>
              <Label htmlFor="s-prechat">Ask for name and email first</Label>
              <Select id="s-prechat" value={s.widget.preChatForm} onChange={(e) => setWidget("preChatForm", e.target.value)}>
                <option value="off">No</option>
                <option value="optional">Yes, optional</option>
                <option value="required">Yes, required</option>
              </Select>
            </div>
          </div>
        </fieldset>

        <fieldset disabled={ro} className="rounded-lg border border-line bg-panel p-4">
          <legend className="px-1 font-semibold">Sites allowed to show the chat</legend>
          <Label htmlFor="s-origins" className="font-normal text-muted">
            One address per line, like https://shop.example.com. Leave empty to allow any site.
          </Label>
          <Textarea id="s-origins" rows={3} value={origins} onChange={(e) => setOrigins(e.target.value)} />
        </fieldset>

        <fieldset disabled={ro} className="space-y-3 rounded-lg border border-line bg-panel p-4">
          <legend className="px-1 font-semibold">Business hours</legend>
          <label className="flex items-center gap-2 text-sm">
            <input type="checkbox" checked={!!hours} onChange={(e) => setHours(e.target.checked ? { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, days: { mon: [{ from: "09:00", to: "17:00" }], tue: [{ from: "09:00", to: "17:00" }], wed: [{ from: "09:00", to: "17:00" }], thu: [{ from: "09:00", to: "17:00" }], fri: [{ from: "09:00", to: "17:00" }] } } : null)} />
            Only show us as available during business hours
          </label>
          {hours && (
            <>
              <div>
                <Label htmlFor="s-tz">Time zone</Label>
                <Input id="s-tz" value={hours.timeZone} onChange={(e) => setHours({ ...hours, timeZone: e.target.value })} />
              </div>
              <div className="space-y-1">
                {DAYS.map((d) => {
                  const r = hours.days[d]?.[0];
                  const setDay = (v: { from: string; to: string } | null) => setHours({ ...hours, days: { ...hours.days, [d]: v ? [v] : [] } });
                  return (
                    <div key={d} className="flex flex-wrap items-center gap-2 text-sm">
                      <label className="flex w-32 items-center gap-2">
                        <input type="checkbox" checked={!!r} onChange={(e) => setDay(e.target.checked ? { from: "09:00", to: "17:00" } : null)} />
                        {dayNames[d]}
                      </label>
                      {r && (
                        <>
                          <Input type="time" aria-label={`${dayNames[d]} from`} value={r.from} onChange={(e) => setDay({ ...r, from: e.target.value })} className="w-32" />
                          <span aria-hidden="true">to</span>
                          <Input type="time" aria-label={`${dayNames[d]} to`} value={r.to} onChange={(e) => setDay({ ...r, to: e.target.value })} className="w-32" />
                        </>
                      )}
                    </div>
                  );
                })}
              </div>
            </>
          )}
          <div>
            <Label htmlFor="s-offline">Message when nobody is available</Label>
            <Textarea id="s-offline" rows={2} maxLength={500} value={s.offlineMessage} onChange={(e) => setS({ ...s, offlineMessage: e.target.value })} />
          </div>
        </fieldset>

        {!ro && (
          <div className="flex items-center gap-3">
            <Button type="submit" variant="primary">
              Save settings
            </Button>
            {msg && (
              <span role="status" className={msg.ok ? "text-sm text-emerald-600" : "text-sm text-danger"}>
                {msg.text}
              </span>
            )}
          </div>
        )}
      </form>
    </div>
  );
}

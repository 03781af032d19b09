import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../shared/api";
import type { Role, User } from "../../shared/types";
import { api, useSession } from "../lib/session";
import { Button } from "../components/ui/button";
import { Dialog } from "../components/ui/dialog";
import { Input, Label, Select } from "../components/ui/input";
import { Switch } from "../components/ui/switch";

const roles: { value: Role; label: string }[] = [
  { value: "agent", label: "Agent" },
  { value: "senior_agent", label: "Senior agent" },
  { value: "team_lead", label: "Team lead" },
  { value: "admin", label: "Admin" },
];

export function UsersPage() {
  const { user: me, can } = useSession();
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const [error, setError] = useState("");
  const users = useQuery({ queryKey: ["users", "all"], queryFn: () => api<{ users: User[] }>("GET", "/api/users?includeDisabled=true") });
  const update = useMutation({
    mutationFn: ({ id, body }: { id: string; body: Partial<User> }) => api<User>("PATCH", `/api/users/${id}`, body),
    onSuccess: () => {
      setError("");
      void qc.invalidateQueries({ queryKey: ["users"] });
    },
    onError: (e) => setError(e instanceof ApiError ? e.message : "The change was not saved."),
  });

  if (!can("manageUsers")) return <p className="p-6">Only admins manage users.</p>;
  return (
    <div className="mx-auto max-w-4xl p-4">
      <div className="flex items-center">
        <h1 className="text-xl font-semibold">Users</h1>
        <Button variant="primary" className="ml-auto" onClick={() => setCreating(true)}>
          Add a user
        </Button>
      </div>
      {error && (
        <p role="alert" className="mt-2 text-sm text-danger">
          {error}
        </p>
      )}
      <div className="mt-4 overflow-x-auto rounded-lg border border-line bg-panel">
        <table className="w-full text-left text-sm">
          <thead className="border-b border-line text-muted">
            <tr>
              <th className="px-3 py-2 font-medium">Name</th>
              <th className="px-3 py-2 font-medium">Email</th>
              <th className="px-3 py-2 font-medium">Role</th>
              <th className="px-3 py-2 font-medium">Status</th>
              <th className="px-3 py-2 font-medium">Active</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-line">
            {users.data?.users.map((u) => (
              <tr key={u.id} className={u.disabled ? "opacity-60" : ""}>
                <td className="px-3 py-2">{u.name}</td>
                <td className="px-3 py-2">{u.email}</td>
                <td className="px-3 py-2">
                  <Select
                    aria-label={`Role of ${u.name || u.email}`}
                    value={u.role}
                    disabled={u.id === me.id || update.isPending}
                    onChange={(e) => update.mutate({ id: u.id, body: { role: e.target.value as Role } })}
                    className="w-40"
                  >
                    {roles.map((r) => (
                      <option key={r.value} value={r.value}>
                        {r.label}
                      </option>
                    ))}
                  </Select>
                </td>
                <td className="px-3 py-2 text-muted">{u.availability}</td>
                <td className="px-3 py-2">
                  <Switch
                    checked={!u.disabled}
                    disabled={u.id === me.id || update.isPending}
                    label={`${u.name || u.email} can sign in`}
                    onCheckedChange={(on) => update.mutate({ id: u.id, body: { disabled: !on } })}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {users.isPending && <p className="p-3 text-sm text-muted">Loading…</p>}
      </div>
      <CreateUser open={creating} onOpenChange={setCreating} />
    </div>
  );
}

function CreateUser({ open, onOpenChange }: { open: boolean; onOpenChange: (v: boolean) => void }) {
  const qc = useQueryClient();
  const [form, setForm] = useState({ name: "", email: "", password: "", role: "agent" as Role, maxChats: 5 });
  const [error, setError] = useState("");
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api("POST", "/api/users", form);
      setError("");
      setForm({ name: "", email: "", password: "", role: "agent", maxChats: 5 });
      void qc.invalidateQueries({ queryKey: ["users"] });
      onOpenChange(false);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "The user was not created.");
    }
  };
  const set = (k: keyof typeof form) => (e: { target: { value: string } }) => setForm({ ...form, [k]: k === "maxChats" ? Number(e.target.value) : e.target.value });
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title="Add a user" description="They sign in with this email and password, and can change the password later.">
      <form onSubmit={submit} className="space-y-3">
        <div>
          <Label htmlFor="u-name">Name</Label>
          <Input id="u-name" required value={form.name} onChange={set("name")} />
        </div>
        <div>
          <Label htmlFor="u-email">Email</Label>
          <Input id="u-email" type="email" required value={form.email} onChange={set("email")} />
        </div>
        <div>
          <Label htmlFor="u-password">Password (10 characters or more)</Label>
          <Input id="u-password" type="password" minLength={10} required autoComplete="new-password" value={form.password} onChange={set("password")} />
        </div>
        <div className="flex gap-3">
          <div className="flex-1">
            <Label htmlFor="u-role">Role</Label>
            <Select id="u-role" value={form.role} onChange={set("role")}>
              {roles.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </Select>
          </div>
          <div className="w-28">
            <Label htmlFor="u-max">Max chats</Label>
            <Input id="u-max" type="number" min={0} max={100} value={form.maxChats} onChange={set("maxChats")} />
          </div>
        </div>
        {error && (
          <p role="alert" className="text-sm text-danger">
            {error}
          </p>
        )}
        <div className="flex justify-end gap-2">
          <Button onClick={() => onOpenChange(false)}>Cancel</Button>
          <Button type="submit" variant="primary">
            Add user
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

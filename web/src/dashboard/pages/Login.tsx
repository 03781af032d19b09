import { useState, type FormEvent } from "react";
import { useLocation, useSearch } from "wouter";
import { useQueryClient } from "@tanstack/react-query";
import { ApiError } from "../../shared/api";
import type { User } from "../../shared/types";
import { api, setCsrf } from "../lib/session";
import { Button } from "../components/ui/button";
import { Input, Label } from "../components/ui/input";

export function Login() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const search = useSearch();

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError("");
    try {
      const r = await api<{ user: User; csrfToken: string }>("POST", "/api/auth/login", { email, password });
      setCsrf(r.csrfToken);
      qc.clear();
      qc.setQueryData(["me"], r.user);
      const next = new URLSearchParams(search).get("next");
      // Only a path of ours: never an address elsewhere.
      const to = next && /^\/admin(\/[\w\-/]*)?$/.test(next) ? next.slice("/admin".length) || "/" : "/";
      navigate(to, { replace: true });
    } catch (err) {
      setError(err instanceof ApiError ? err.message : "Sign-in failed.");
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="flex min-h-full items-center justify-center p-4">
      <form onSubmit={submit} className="w-full max-w-sm rounded-lg border border-line bg-panel p-6 shadow-sm" aria-labelledby="login-title">
        <h1 id="login-title" className="text-xl font-semibold">
          Sign in to Parley
        </h1>
        <div className="mt-5">
          <Label htmlFor="email">Email</Label>
          <Input id="email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </div>
        <div className="mt-3">
          <Label htmlFor="password">Password</Label>
          <Input id="password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </div>
        {error && (
          <p role="alert" className="mt-3 text-sm text-danger">
            {error}
          </p>
        )}
        <Button type="submit" variant="primary" className="mt-5 w-full" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </Button>
      </form>
    </main>
  );
}

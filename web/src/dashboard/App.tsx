import { lazy, Suspense } from "react";
import { Redirect, Route, Router, Switch } from "wouter";
import { SessionProvider, useMe } from "./lib/session";
import { LiveProvider } from "./lib/live";
import { Login } from "./pages/Login";
import { Shell } from "./pages/Shell";
import { InboxPage } from "./pages/Inbox";
import { UsersPage } from "./pages/Users";
import { SettingsPage } from "./pages/Settings";
import { QuickRepliesPage } from "./pages/QuickReplies";
import { SearchPage } from "./pages/Search";

// Charts are only for leads: their code loads when the page opens.
const ReportsPage = lazy(() => import("./pages/Reports"));

export function App() {
  return (
    <Router base="/admin">
      <Switch>
        <Route path="/login" component={Login} />
        <Route>
          <Authenticated />
        </Route>
      </Switch>
    </Router>
  );
}

function Authenticated() {
  const me = useMe();
  if (me.isPending) return <p className="p-6 text-muted">Loading…</p>;
  if (me.isError) return <p className="p-6 text-danger">The server cannot be reached. Reload the page to try again.</p>;
  if (!me.data) return <Redirect to={"/login?next=" + encodeURIComponent(location.pathname)} />;
  return (
    <SessionProvider user={me.data}>
      <LiveProvider>
        <Shell>
          <Switch>
            <Route path="/">{() => <InboxPage />}</Route>
            <Route path="/chat/:id">{(p) => <InboxPage conversationId={p.id} />}</Route>
            <Route path="/users" component={UsersPage} />
            <Route path="/settings" component={SettingsPage} />
            <Route path="/quick-replies" component={QuickRepliesPage} />
            <Route path="/search" component={SearchPage} />
            <Route path="/reports">
              <Suspense fallback={<p className="p-6 text-muted">Loading…</p>}>
                <ReportsPage />
              </Suspense>
            </Route>
            <Route>
              <p className="p-6">This page does not exist.</p>
            </Route>
          </Switch>
        </Shell>
      </LiveProvider>
    </SessionProvider>
  );
}

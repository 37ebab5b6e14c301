import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { Alert, Button, Spin } from "antd";
import { Navigate, useLocation } from "react-router";
import { getSession, type SessionRead, type SessionWorkspace } from "../api/session";
import { loginPath, setCsrfToken, setUnauthorizedHandler, setWorkspaceId } from "../api/state";
import { useI18n } from "../i18n";
import { errorText } from "../components/ErrorAlert";

export const SESSION_KEY = ["session"] as const;
export const WORKSPACE_STORAGE_KEY = "kairos.workspace";

interface SessionContextValue {
  session: SessionRead | null;
  workspace: SessionWorkspace | null;
  selectWorkspace: (id: number) => void;
  signedIn: (session: SessionRead) => void;
  signedOut: () => void;
}

const SessionContext = createContext<SessionContextValue | null>(null);

function storedWorkspace(): number | null {
  try {
    const value = Number(window.localStorage.getItem(WORKSPACE_STORAGE_KEY));
    return Number.isInteger(value) && value > 0 ? value : null;
  } catch {
    return null;
  }
}

export function FullPageSpin() {
  const { t } = useI18n();
  return (
    <div className="full-page-center" role="status" aria-live="polite">
      <Spin size="large" />
      <span className="visually-hidden">{t("app.loading")}</span>
    </div>
  );
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const queryClient = useQueryClient();
  const query = useQuery({
    queryKey: SESSION_KEY,
    queryFn: getSession,
    staleTime: Infinity,
    retry: false,
  });
  const [chosen, setChosen] = useState<number | null>(storedWorkspace);

  const dropWorkspaceData = useCallback(() => {
    queryClient.removeQueries({ predicate: (q) => q.queryKey[0] !== SESSION_KEY[0] });
  }, [queryClient]);

  const signedIn = useCallback(
    (session: SessionRead) => {
      setCsrfToken(session.csrf_token);
      dropWorkspaceData();
      queryClient.setQueryData(SESSION_KEY, session);
    },
    [queryClient, dropWorkspaceData],
  );

  const signedOut = useCallback(() => {
    setCsrfToken(null);
    dropWorkspaceData();
    queryClient.setQueryData(SESSION_KEY, null);
  }, [queryClient, dropWorkspaceData]);

  // A 401 from any request: the session is gone; the route guard sends the user to
  // /login with the page to come back to.
  useEffect(() => {
    setUnauthorizedHandler(signedOut);
    return () => setUnauthorizedHandler(null);
  }, [signedOut]);

  const session = query.data ?? null;
  const workspace =
    session?.workspaces.find((w) => w.id === chosen) ?? session?.workspaces[0] ?? null;
  // Set while rendering, before any child's request leaves.
  setWorkspaceId(workspace?.id ?? null);

  const selectWorkspace = useCallback((id: number) => {
    setChosen(id);
    try {
      window.localStorage.setItem(WORKSPACE_STORAGE_KEY, String(id));
    } catch {
      // not persisted
    }
  }, []);

  const value = useMemo(
    () => ({ session, workspace, selectWorkspace, signedIn, signedOut }),
    [session, workspace, selectWorkspace, signedIn, signedOut],
  );

  if (query.isPending) return <FullPageSpin />;
  if (query.isError) {
    return (
      <main className="full-page-center">
        <h1 className="result-title">{t("errors.sessionFailed")}</h1>
        <Alert type="warning" showIcon title={errorText(query.error, t)} style={{ margin: "16px 0" }} />
        <Button type="primary" onClick={() => void query.refetch()}>
          {t("common.retry")}
        </Button>
      </main>
    );
  }
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionContextValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

/**
 * The selected workspace's role allows changes (admin, marketer); an analyst only reads, and
 * so does a sales user (outside its own leads and tasks).
 */
export function useCanEdit(): boolean {
  const { workspace } = useSession();
  return workspace !== null && (workspace.role === "admin" || workspace.role === "marketer");
}

/** The selected workspace's role works leads and tasks: sales users, marketers, admins. */
export function useCanWorkLeads(): boolean {
  const { workspace } = useSession();
  return workspace !== null && workspace.role !== "analyst";
}

/**
 * The selected workspace's IANA time zone (`time_zone` of the session's workspace), or null
 * outside a session (the sign-in pages) — where dates are shown in the browser's zone.
 */
export function useWorkspaceTimeZone(): string | null {
  return useContext(SessionContext)?.workspace?.time_zone ?? null;
}

/**
 * Today's UTC day in the selected workspace: a sandbox's virtual day (its `now` when the
 * session was read), else the real one. The analytics pages' ranges end on it.
 */
export function useWorkspaceToday(): string {
  const now = useContext(SessionContext)?.workspace?.now;
  return (now ? new Date(now) : new Date()).toISOString().slice(0, 10);
}

/** The selected workspace id, for query keys (data is per workspace). */
export function useWorkspaceKey(): number | null {
  return useSession().workspace?.id ?? null;
}

/** Signed-in pages: otherwise to /login, remembering where the user was. */
export function RequireSession({ children }: { children: ReactNode }) {
  const { session } = useSession();
  const location = useLocation();
  if (!session) {
    return <Navigate to={loginPath(location.pathname + location.search)} replace />;
  }
  return <>{children}</>;
}

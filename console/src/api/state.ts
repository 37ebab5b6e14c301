// What every console request needs to know: the CSRF token of the session, the selected
// workspace, and what to do when the server says the session is gone. Module state, set by
// the session provider; the request code reads it when each request leaves.

let csrfToken: string | null = null;
let workspaceId: number | null = null;

export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function getCsrfToken(): string | null {
  return csrfToken;
}

export function setWorkspaceId(id: number | null): void {
  workspaceId = id;
}

export function getWorkspaceId(): number | null {
  return workspaceId;
}

/** The path to come back to after signing in again: only a path on this site. */
export function safeReturnPath(value: string | null | undefined): string {
  if (!value || !value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  if (value === "/login" || value.startsWith("/login?") || value.startsWith("/setup")) return "/";
  return value;
}

export function loginPath(returnTo: string): string {
  const back = safeReturnPath(returnTo);
  return back === "/" ? "/login" : `/login?next=${encodeURIComponent(back)}`;
}

/** Without a registered handler (tests, very early requests): a full page load of /login. */
function redirectToLogin(): void {
  const here = window.location.pathname + window.location.search;
  if (window.location.pathname === "/login") return;
  window.location.assign(loginPath(here));
}

let unauthorizedHandler: () => void = redirectToLogin;

/** The console replaces the full page load with a router navigation that keeps the page. */
export function setUnauthorizedHandler(handler: (() => void) | null): void {
  unauthorizedHandler = handler ?? redirectToLogin;
}

export function notifyUnauthorized(): void {
  csrfToken = null;
  unauthorizedHandler();
}

// The console's sign-in routes (contract: docs/console.md). They answer differently from the
// workspace routes — no workspace header, a 401 here is "not signed in", not "signed out under
// you" — so they have this small client of their own; the types come from schema.d.ts.
import { addConsoleHeaders, ApiError, apiErrorFrom, apiUrl, NetworkError, readErrorBody } from "./http";
import type { components } from "./schema";
import { setCsrfToken } from "./state";

type Schemas = components["schemas"];

export type SessionRead = Schemas["SessionRead"];
export type SessionUser = SessionRead["user"];
export type SessionWorkspace = SessionRead["workspaces"][number];
export type Role = SessionWorkspace["role"];
export type SetupStatus = Schemas["SetupState"];
export type SetupRequest = Schemas["SetupWrite"];
export type SignInRequest = Schemas["SignIn"];

/** Minimum password length the setup form asks for (the server decides in the end). */
export const MIN_PASSWORD_LENGTH = 12;

async function send(method: string, path: string, body?: unknown): Promise<Response> {
  const request = new Request(apiUrl(path), {
    method,
    credentials: "same-origin",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // Session and setup routes are not a workspace's: no workspace header; the CSRF token
  // goes on every mutating one once there is a session.
  addConsoleHeaders(request, { workspace: false });
  try {
    return await globalThis.fetch(request);
  } catch (cause) {
    throw new NetworkError(cause);
  }
}

async function json<T>(response: Response): Promise<T> {
  if (!response.ok) throw apiErrorFrom(response, await readErrorBody(response));
  return (await response.json()) as T;
}

async function empty(response: Response): Promise<void> {
  if (!response.ok) throw apiErrorFrom(response, await readErrorBody(response));
}

function remember(session: SessionRead): SessionRead {
  setCsrfToken(session.csrf_token);
  return session;
}

/** The current session, or `null` when not signed in (401). */
export async function getSession(): Promise<SessionRead | null> {
  const response = await send("GET", "/api/v1/session");
  if (response.status === 401) {
    setCsrfToken(null);
    return null;
  }
  return remember(await json<SessionRead>(response));
}

/** 401 `invalid_credentials`, 429 `too_many_attempts` (ApiError.retryAfter) are thrown. */
export async function signIn(body: SignInRequest): Promise<SessionRead> {
  return remember(await json<SessionRead>(await send("POST", "/api/v1/session", body)));
}

export async function signOut(): Promise<void> {
  const response = await send("DELETE", "/api/v1/session");
  setCsrfToken(null);
  // Already signed out is signed out.
  if (response.status !== 401) await empty(response);
}

export async function signOutEverywhere(): Promise<void> {
  const response = await send("POST", "/api/v1/session/sign-out-everywhere");
  setCsrfToken(null);
  if (response.status !== 401) await empty(response);
}

export async function getSetupStatus(): Promise<SetupStatus> {
  return json<SetupStatus>(await send("GET", "/api/v1/setup"));
}

/** 422 `invalid_setup_token` / `weak_password`, 409 `setup_done` are thrown. */
export async function completeSetup(body: SetupRequest): Promise<SessionRead> {
  return remember(await json<SessionRead>(await send("POST", "/api/v1/setup", body)));
}

export { ApiError };

import { getCsrfToken, getWorkspaceId } from "./state";

export const WORKSPACE_HEADER = "X-Kairos-Workspace";
export const CSRF_HEADER = "X-CSRF-Token";

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export function isMutating(method: string): boolean {
  return MUTATING.has(method.toUpperCase());
}

/**
 * Adds the console's headers to a request about to leave: the selected workspace (for the
 * workspace's own routes, not for the session and setup routes) and, on a mutating method,
 * the session's CSRF token (when signed in).
 */
export function addConsoleHeaders(request: Request, { workspace }: { workspace: boolean }): Request {
  const headers = request.headers;
  if (!headers.has("Accept")) headers.set("Accept", "application/json");
  const ws = getWorkspaceId();
  if (workspace && ws !== null) headers.set(WORKSPACE_HEADER, String(ws));
  const csrf = getCsrfToken();
  if (csrf && isMutating(request.method)) headers.set(CSRF_HEADER, csrf);
  return request;
}

/** An answer other than 2xx, with the server's `{code, message}`. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly retryAfter: number | null;

  constructor(status: number, code: string, message: string, retryAfter: number | null = null) {
    super(message || code);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/** The request never got an answer (server down, network lost). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super("network error", { cause });
    this.name = "NetworkError";
  }
}

/** `Retry-After` in seconds (a number of seconds or an HTTP date), `null` when absent. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | null {
  if (!value) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return null;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

function isErrorBody(body: unknown): body is { code?: unknown; message?: unknown } {
  return typeof body === "object" && body !== null;
}

/** Builds the ApiError of a response whose body has already been parsed (or not). */
export function apiErrorFrom(response: Response, body: unknown): ApiError {
  let code = `http_${response.status}`;
  let message = response.statusText;
  if (isErrorBody(body)) {
    if (typeof body.code === "string") code = body.code;
    if (typeof body.message === "string") message = body.message;
  }
  return new ApiError(response.status, code, message, parseRetryAfter(response.headers.get("Retry-After")));
}

export async function readErrorBody(response: Response): Promise<unknown> {
  try {
    const text = await response.text();
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return null;
  }
}

/** Requests go to the page's own origin (the console is served by the Kairos server). */
export function apiUrl(path: string): string {
  return `${window.location.origin}${path}`;
}

import createClient, { type Middleware } from "openapi-fetch";
import type { paths } from "./schema";
import { addConsoleHeaders, apiErrorFrom, NetworkError } from "./http";
import { notifyUnauthorized } from "./state";

const consoleHeaders: Middleware = {
  onRequest({ request }) {
    return addConsoleHeaders(request, { workspace: true });
  },
  onResponse({ response }) {
    if (response.status === 401) notifyUnauthorized();
    return undefined;
  },
};

/** The management API (`/api/v1/...`), every call typed by its path from `schema.d.ts`. */
export const api = createClient<paths>({
  baseUrl: typeof window === "undefined" ? "" : window.location.origin,
  credentials: "same-origin",
  // Looked up on every call, not captured once, so tests can replace fetch.
  fetch: (request: Request) => globalThis.fetch(request),
});
api.use(consoleHeaders);

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of a successful answer; an ApiError (or NetworkError) otherwise. */
export async function unwrap<T>(call: Promise<FetchResult<T>>): Promise<T> {
  let result: FetchResult<T>;
  try {
    result = await call;
  } catch (cause) {
    throw new NetworkError(cause);
  }
  if (!result.response.ok) throw apiErrorFrom(result.response, result.error);
  return result.data as T;
}

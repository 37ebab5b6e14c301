import { vi } from "vitest";

export interface Recorded {
  method: string;
  url: URL;
  headers: Headers;
  body: string | null;
  /** The request's abort signal (aborted when the caller gave up on it). */
  signal: AbortSignal;
}

type Handler = (request: Recorded) => Response | Promise<Response>;

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(status === 204 ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

/**
 * Replaces fetch: `routes` maps "METHOD /path" to an answer (the first matching key wins;
 * the path is compared without the query string). Unknown requests answer 404.
 */
export function mockFetch(routes: Record<string, Handler | Response | (() => Response)>) {
  const calls: Recorded[] = [];
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), window.location.origin), init);
    const recorded: Recorded = {
      method: request.method,
      url: new URL(request.url),
      headers: request.headers,
      body: request.body ? await request.clone().text() : null,
      signal: request.signal,
    };
    calls.push(recorded);
    const key = `${recorded.method} ${recorded.url.pathname}`;
    const handler = routes[key];
    if (!handler) return json(404, { code: "not_found", message: `no mock for ${key}` });
    if (handler instanceof Response) return handler.clone();
    return handler(recorded);
  });
  vi.stubGlobal("fetch", fetchMock);
  return { calls, fetchMock };
}

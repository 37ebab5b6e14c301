import { describe, expect, it, vi } from "vitest";
import { api, unwrap } from "./client";
import { ApiError, parseRetryAfter } from "./http";
import { getSession, signIn, signOut } from "./session";
import { loginPath, safeReturnPath, setCsrfToken, setUnauthorizedHandler, setWorkspaceId } from "./state";
import { json, mockFetch } from "../test/fetchMock";

const contact = {
  id: 5,
  external_id: null,
  email: "ana@example.com",
  phone: null,
  first_name: "Ana",
  last_name: null,
  timezone: null,
  locale: null,
  lifecycle_stage: null,
  score: 0,
  traits: {},
  tags: ["vip"],
  created_at: "2025-01-02T03:04:05Z",
  updated_at: "2025-01-02T03:04:05Z",
  identities: [],
};

describe("API client", () => {
  it("sends the workspace and CSRF headers on a mutating request", async () => {
    setWorkspaceId(7);
    setCsrfToken("csrf-123");
    const { calls } = mockFetch({
      "POST /api/v1/contacts/5/tags/vip": json(200, contact),
      "DELETE /api/v1/contacts/5/tags/vip": json(200, contact),
    });
    await unwrap(api.POST("/api/v1/contacts/{contact_id}/tags/{tag}", { params: { path: { contact_id: 5, tag: "vip" } } }));
    await unwrap(api.DELETE("/api/v1/contacts/{contact_id}/tags/{tag}", { params: { path: { contact_id: 5, tag: "vip" } } }));
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.headers.get("X-Kairos-Workspace")).toBe("7");
      expect(call.headers.get("X-CSRF-Token")).toBe("csrf-123");
    }
  });

  it("sends the workspace header but no CSRF token on a GET", async () => {
    setWorkspaceId(7);
    setCsrfToken("csrf-123");
    const { calls } = mockFetch({ "GET /api/v1/contacts": json(200, { data: [], next: null }) });
    const page = await unwrap(api.GET("/api/v1/contacts", { params: { query: { email: "ana@example.com", limit: 10 } } }));
    expect(page).toEqual({ data: [], next: null });
    const [call] = calls;
    expect(call?.headers.get("X-Kairos-Workspace")).toBe("7");
    expect(call?.headers.has("X-CSRF-Token")).toBe(false);
    expect(call?.url.searchParams.get("email")).toBe("ana@example.com");
    expect(call?.url.searchParams.get("limit")).toBe("10");
  });

  it("sends the CSRF token but no workspace on the session routes", async () => {
    setWorkspaceId(7);
    const { calls } = mockFetch({
      "POST /api/v1/session": json(200, {
        user: { id: 1, email: "a@b.c", name: "A" },
        workspaces: [],
        csrf_token: "fresh",
      }),
      "DELETE /api/v1/session": json(204, null),
    });
    await signIn({ email: "a@b.c", password: "correct horse" });
    await signOut();
    const [login, logout] = calls;
    expect(login?.headers.has("X-CSRF-Token")).toBe(false); // no session yet
    expect(login?.headers.has("X-Kairos-Workspace")).toBe(false);
    expect(JSON.parse(login?.body ?? "{}")).toEqual({ email: "a@b.c", password: "correct horse" });
    expect(logout?.method).toBe("DELETE");
    expect(logout?.headers.get("X-CSRF-Token")).toBe("fresh"); // the token of the session signed in
    expect(logout?.headers.has("X-Kairos-Workspace")).toBe(false);
  });

  it("turns a 401 into the redirect to sign in", async () => {
    setWorkspaceId(7);
    setCsrfToken("csrf-123");
    const redirect = vi.fn();
    setUnauthorizedHandler(redirect);
    mockFetch({ "GET /api/v1/contacts": json(401, { code: "unauthorized", message: "Sign in" }) });
    const failure = unwrap(api.GET("/api/v1/contacts", {}));
    await expect(failure).rejects.toMatchObject({ status: 401, code: "unauthorized" });
    expect(redirect).toHaveBeenCalledTimes(1);
  });

  it("redirects to /login with the page to return to when nothing else handles the 401", async () => {
    window.history.pushState({}, "", "/contacts/5?tab=events");
    const assign = vi.fn();
    const location = window.location;
    vi.stubGlobal("location", { ...location, pathname: location.pathname, search: location.search, origin: location.origin, assign });
    mockFetch({ "GET /api/v1/contacts/5": json(401, { code: "unauthorized", message: "Sign in" }) });
    await expect(unwrap(api.GET("/api/v1/contacts/{contact_id}", { params: { path: { contact_id: 5 } } }))).rejects.toBeInstanceOf(ApiError);
    expect(assign).toHaveBeenCalledWith("/login?next=%2Fcontacts%2F5%3Ftab%3Devents");
  });

  it("reads the session, or null when signed out", async () => {
    mockFetch({ "GET /api/v1/session": json(401, { code: "unauthorized", message: "" }) });
    await expect(getSession()).resolves.toBeNull();
  });

  it("keeps the 403 code for the permission message", async () => {
    mockFetch({ "DELETE /api/v1/contacts/5/tags/vip": json(403, { code: "forbidden", message: "Analysts read only" }) });
    await expect(
      unwrap(api.DELETE("/api/v1/contacts/{contact_id}/tags/{tag}", { params: { path: { contact_id: 5, tag: "vip" } } })),
    ).rejects.toMatchObject({ status: 403, code: "forbidden" });
  });
});

describe("helpers", () => {
  it("reads Retry-After in seconds or as a date", () => {
    expect(parseRetryAfter("30")).toBe(30);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", Date.parse("Wed, 21 Oct 2015 07:28:00 GMT"))).toBe(30);
  });

  it("only returns to a path of this site", () => {
    expect(safeReturnPath("/contacts/5")).toBe("/contacts/5");
    expect(safeReturnPath("//evil.example")).toBe("/");
    expect(safeReturnPath("https://evil.example")).toBe("/");
    expect(safeReturnPath("/\\evil.example")).toBe("/");
    expect(safeReturnPath("/login?next=/x")).toBe("/");
    expect(loginPath("/")).toBe("/login");
    expect(loginPath("/contacts?q=a")).toBe("/login?next=%2Fcontacts%3Fq%3Da");
  });
});

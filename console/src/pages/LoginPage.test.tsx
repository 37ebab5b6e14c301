import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRoutes } from "../routes";
import { json, mockFetch } from "../test/fetchMock";
import { renderWithProviders } from "../test/render";

function signedOutServer(signIn: () => Response) {
  return mockFetch({
    "GET /api/v1/session": json(401, { code: "unauthorized", message: "Sign in" }),
    "GET /api/v1/setup": json(200, { needed: false }),
    "POST /api/v1/session": signIn,
  });
}

async function submit(email: string, password: string) {
  const user = userEvent.setup();
  await user.type(await screen.findByLabelText("Email"), email);
  await user.type(screen.getByLabelText("Password"), password);
  await user.click(screen.getByRole("button", { name: "Sign in" }));
}

describe("login page", () => {
  it("shows the invalid credentials message on a 401", async () => {
    const { calls } = signedOutServer(() =>
      json(401, { code: "invalid_credentials", message: "Invalid email or password" }),
    );
    renderWithProviders(<AppRoutes />, { path: "/login" });
    expect(await screen.findByRole("heading", { level: 1, name: "Sign in to Kairos" })).toBeTruthy();

    await submit("ana@example.com", "not the password");

    expect(await screen.findByText("The email or password is incorrect.")).toBeTruthy();
    const post = calls.find((c) => c.method === "POST");
    expect(JSON.parse(post?.body ?? "{}")).toEqual({ email: "ana@example.com", password: "not the password" });
    // Still on the login page, not sent anywhere.
    expect(screen.getByRole("button", { name: "Sign in" })).toBeTruthy();
  });

  it("shows how long to wait when throttled", async () => {
    signedOutServer(() =>
      json(429, { code: "too_many_attempts", message: "Slow down" }, { "Retry-After": "30" }),
    );
    renderWithProviders(<AppRoutes />, { path: "/login" });
    await submit("ana@example.com", "guess");
    expect(await screen.findByText(/Too many sign-in attempts\. Try again in (30|29) seconds\./)).toBeTruthy();
    expect(screen.getByRole("button", { name: "Sign in" }).hasAttribute("disabled")).toBe(true);
  });

  it("is in Chinese when Chinese is chosen", async () => {
    signedOutServer(() => json(401, { code: "invalid_credentials", message: "" }));
    renderWithProviders(<AppRoutes />, { path: "/login", language: "zh-CN" });
    expect(await screen.findByRole("heading", { level: 1, name: "登录 Kairos" })).toBeTruthy();
    expect(document.documentElement.lang).toBe("zh-CN");
  });

  it("signs in and goes to the page asked for", async () => {
    signedOutServer(() =>
      json(200, {
        user: { id: 1, email: "ana@example.com", name: "Ana" },
        workspaces: [{ id: 7, name: "Acme", role: "admin", approver: true, sandbox: false, time_zone: "UTC" }],
        csrf_token: "t",
      }),
    );
    renderWithProviders(<AppRoutes />, { path: "/login?next=%2Fnowhere" });
    await submit("ana@example.com", "correct horse battery");
    expect(await screen.findByRole("heading", { level: 1, name: "Page not found" })).toBeTruthy();
  });
});

import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRoutes } from "../../routes";
import type { Role } from "../../api/session";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";

const contact = {
  id: 5,
  external_id: "crm-5",
  email: "ana@example.com",
  phone: "+8613800138000",
  first_name: "Ana",
  last_name: "Li",
  timezone: "Asia/Shanghai",
  locale: "zh-CN",
  lifecycle_stage: "lead",
  score: 12,
  traits: { plan: "<b>pro</b>", seats: 3, address: { city: "上海" } },
  tags: ["vip"],
  created_at: "2025-01-02T03:04:05Z",
  updated_at: "2025-01-02T03:04:05Z",
  identities: [{ kind: "email", value: "ana@example.com" }],
  computed_traits: { orders: 2 },
};

function server(role: Role) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/contacts/5": json(200, contact),
    "GET /api/v1/contacts/5/events": json(200, {
      data: [
        {
          id: 1,
          type: "track",
          name: "Order Completed",
          message_id: "m1",
          user_id: "crm-5",
          anonymous_id: null,
          properties: { total: 99, note: "<img src=x onerror=alert(1)>" },
          context: null,
          timestamp: "2025-01-03T10:00:00Z",
          original_timestamp: null,
          sent_at: null,
          received_at: "2025-01-03T10:00:01Z",
        },
      ],
      next: null,
    }),
    "POST /api/v1/contacts/5/tags/new-tag": json(200, { ...contact, tags: ["new-tag", "vip"] }),
  });
}

describe("contact profile role gate", () => {
  it("shows an analyst the tags without edit controls", async () => {
    server("analyst");
    renderWithProviders(<AppRoutes />, { path: "/contacts/5" });
    expect(await screen.findByRole("heading", { level: 1, name: "Ana Li" })).toBeTruthy();
    expect(screen.getByText("vip")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Remove tag vip" })).toBeNull();
    expect(screen.queryByRole("button", { name: /Add tag/ })).toBeNull();
    expect(screen.queryByLabelText("New tag")).toBeNull();
  });

  it("lets a marketer add and remove tags, with the CSRF and workspace headers", async () => {
    const { calls } = server("marketer");
    renderWithProviders(<AppRoutes />, { path: "/contacts/5" });
    expect(await screen.findByRole("button", { name: "Remove tag vip" })).toBeTruthy();

    const user = userEvent.setup();
    await user.type(screen.getByLabelText("New tag"), "new-tag");
    await user.click(screen.getByRole("button", { name: /Add tag/ }));
    await waitFor(() => expect(screen.getByText("new-tag")).toBeTruthy());
    const post = calls.find((c) => c.method === "POST");
    expect(post?.headers.get("X-CSRF-Token")).toBe("csrf-123");
    expect(post?.headers.get("X-Kairos-Workspace")).toBe("7");
  });

  it("renders contact data as text, never as HTML", async () => {
    server("admin");
    const { container } = renderWithProviders(<AppRoutes />, { path: "/contacts/5" });
    expect(await screen.findByText("Order Completed")).toBeTruthy();
    expect(container.querySelector("img[src=x]")).toBeNull();
    expect(screen.getByText(/onerror=alert/)).toBeTruthy();
    await userEvent.setup().click(screen.getByRole("tab", { name: "Traits" }));
    expect(await screen.findByText("<b>pro</b>")).toBeTruthy();
    expect(container.querySelector("b")).toBeNull();
  });
});

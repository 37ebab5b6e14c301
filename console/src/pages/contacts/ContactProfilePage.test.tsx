import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
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
    await userEvent.setup().click(screen.getByRole("tab", { name: "Attributes" }));
    expect(await screen.findByText("<b>pro</b>")).toBeTruthy();
    expect(container.querySelector("b")).toBeNull();
  });
});

const attributes = [
  { id: 1, name: "plan", type: "string", label: "Plan", description: null, created_at: "2025-01-01T00:00:00Z" },
  { id: 2, name: "seats", type: "number", label: null, description: "Paid seats", created_at: "2025-01-01T00:00:00Z" },
  { id: 3, name: "vip", type: "boolean", label: null, description: null, created_at: "2025-01-01T00:00:00Z" },
  { id: 4, name: "birthday", type: "datetime", label: null, description: null, created_at: "2025-01-01T00:00:00Z" },
  { id: 5, name: "interests", type: "list", label: null, description: null, created_at: "2025-01-01T00:00:00Z" },
];

function profileServer(role: Role, patch: (body: Record<string, unknown>) => Response = () => json(200, contact)) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/contacts/5": json(200, { ...contact, traits: { ...contact.traits, vip: false, birthday: "1990-05-17" } }),
    "GET /api/v1/contacts/5/events": json(200, { data: [], next: null }),
    "GET /api/v1/attributes": json(200, { data: attributes, next: null }),
    "GET /api/v1/contacts/lifecycle-stages": json(200, { data: [{ stage: "customer" }, { stage: "lead" }], next: null }),
    "GET /api/v1/contacts/5/lifecycle": json(200, {
      data: [
        { id: 2, from_stage: "lead", to_stage: "mql", source: "journey", changed_at: "2025-02-01T09:00:00Z" },
        { id: 1, from_stage: null, to_stage: "lead", source: "console", changed_at: "2025-01-02T03:04:05Z" },
      ],
      next: null,
    }),
    "GET /api/v1/contacts/5/merges": json(200, {
      data: [{ id: 9, merged_id: 4, into_id: 5, reason: "email 'ana@example.com'", merged_at: "2025-01-05T00:00:00Z" }],
      next: null,
    }),
    "PATCH /api/v1/contacts/5": (request) => patch(JSON.parse(request.body ?? "{}") as Record<string, unknown>),
    "DELETE /api/v1/contacts/5": json(204, null),
    "GET /api/v1/contacts": json(200, { data: [], next: null }),
  });
}

describe("editing a contact's attributes", () => {
  it("sends only what changed, with each attribute's type", async () => {
    const bodies: Record<string, unknown>[] = [];
    const { calls } = profileServer("marketer", (body) => {
      bodies.push(body);
      return json(200, { ...contact, traits: { ...contact.traits, seats: 5, vip: true } });
    });
    renderWithProviders(<AppRoutes />, { path: "/contacts/5" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: /Edit profile/ }));
    const dialog = await screen.findByRole("dialog", { name: "Edit Ana Li" });

    // each type has its input: text, number, yes/no select, date picker, list of values
    const seats = await within(dialog).findByLabelText(/^seats/);
    expect(seats.getAttribute("role")).toBe("spinbutton");
    expect((within(dialog).getByLabelText(/^Plan/) as HTMLInputElement).value).toBe("<b>pro</b>");
    expect(within(dialog).getByLabelText(/^vip/).getAttribute("role")).toBe("combobox");
    expect((within(dialog).getByLabelText(/^birthday/) as HTMLInputElement).value).toBe("1990-05-17");
    expect(within(dialog).getByRole("checkbox", { name: "Date only" })).toHaveProperty("checked", true);
    expect(within(dialog).getByLabelText(/^interests/)).toBeTruthy();

    await user.clear(seats);
    await user.type(seats, "5");
    fireEvent.mouseDown(within(dialog).getByLabelText(/^vip/));
    fireEvent.click(await screen.findByTitle("Yes")); // the option shown (not the one for screen readers)
    await user.clear(within(dialog).getByLabelText("Last name"));
    await user.click(within(dialog).getByRole("button", { name: /Save/ }));

    await waitFor(() => expect(bodies).toHaveLength(1));
    expect(bodies[0]).toEqual({ last_name: null, traits: { seats: 5, vip: true } });
    const patch = calls.find((c) => c.method === "PATCH");
    expect(patch?.headers.get("X-CSRF-Token")).toBe("csrf-123");
    expect(await screen.findByText("Profile saved")).toBeTruthy();
  });

  it("shows the API's refusal on the field it is about", async () => {
    profileServer("admin", (body) =>
      "email" in body
        ? json(422, { code: "invalid_email", message: "'ana@' is not a valid email address" })
        : json(422, { code: "invalid_trait", message: "trait 'seats' must be a number, got '1e999'" }),
    );
    renderWithProviders(<AppRoutes />, { path: "/contacts/5" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: /Edit profile/ }));
    const dialog = await screen.findByRole("dialog");
    const email = await within(dialog).findByLabelText("Email");
    await user.clear(email);
    await user.type(email, "ana@");
    await user.click(within(dialog).getByRole("button", { name: /Save/ }));
    expect(await within(dialog).findByText("Enter a valid email address.")).toBeTruthy();
    expect(within(dialog).getByText("Fix the fields marked in red, then save again.")).toBeTruthy();
    expect(email.getAttribute("aria-invalid")).toBe("true");

    await user.clear(email);
    await user.type(email, "ana@example.com"); // back as it was: only the number is sent
    const seats = within(dialog).getByLabelText(/^seats/);
    await user.clear(seats);
    await user.type(seats, "7");
    await user.click(within(dialog).getByRole("button", { name: /Save/ }));
    expect(await within(dialog).findByText("Must be of type “Number”.")).toBeTruthy();
    expect(screen.getByRole("dialog")).toBeTruthy(); // still open, the edits kept
    expect((within(dialog).getByLabelText(/^seats/) as HTMLInputElement).value).toBe("7");
  });

  it("is not offered to an analyst, who sees the typed values", async () => {
    profileServer("analyst");
    renderWithProviders(<AppRoutes />, { path: "/contacts/5?tab=traits" });
    expect(await screen.findByRole("heading", { level: 1, name: "Ana Li" })).toBeTruthy();
    expect(await screen.findByText("1990-05-17")).toBeTruthy();
    expect(screen.getAllByText("Yes/no").length).toBeGreaterThan(0);
    expect(screen.queryByRole("button", { name: /Edit profile/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Erase contact/ })).toBeNull();
  });
});

describe("lifecycle stage", () => {
  it("shows the history with what caused each change, and lets a marketer change the stage", async () => {
    const bodies: Record<string, unknown>[] = [];
    profileServer("marketer", (body) => {
      bodies.push(body);
      return json(200, { ...contact, lifecycle_stage: "customer" });
    });
    renderWithProviders(<AppRoutes />, { path: "/contacts/5?tab=lifecycle" });
    const history = await screen.findByRole("region", { name: "Lifecycle" });
    expect(await within(history).findByText("A journey")).toBeTruthy();
    expect(within(history).getByText("A console user")).toBeTruthy();
    expect(within(history).getByText("No stage")).toBeTruthy();

    const user = userEvent.setup();
    await user.type(screen.getByLabelText("New stage"), "customer");
    await user.click(screen.getByRole("button", { name: "Change stage" }));
    await waitFor(() => expect(bodies).toEqual([{ lifecycle_stage: "customer" }]));
    expect(await screen.findByText("Stage changed to “customer”")).toBeTruthy();
  });

  it("shows an analyst the stage without the form", async () => {
    profileServer("analyst");
    renderWithProviders(<AppRoutes />, { path: "/contacts/5?tab=lifecycle" });
    expect(await screen.findByText("A journey")).toBeTruthy();
    expect(screen.queryByLabelText("New stage")).toBeNull();
  });

  it("lists the contacts merged into this one with the identifier that tied them", async () => {
    profileServer("analyst");
    renderWithProviders(<AppRoutes />, { path: "/contacts/5?tab=identities" });
    const merges = await screen.findByRole("region", { name: "Merged contacts" });
    expect(await within(merges).findByText("Contact #4")).toBeTruthy();
    expect(within(merges).getByText("this contact")).toBeTruthy();
    expect(within(merges).getByText("ana@example.com", { exact: false })).toBeTruthy();
  });
});

describe("erasing a contact", () => {
  it("asks an admin to type the email, erases, and goes back to the list", async () => {
    const { calls } = profileServer("admin");
    renderWithProviders(<AppRoutes />, { path: "/contacts/5" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: /Erase contact/ }));
    const dialog = await screen.findByRole("dialog", { name: "Erase Ana Li?" });
    const erase = within(dialog).getByRole("button", { name: "Erase permanently" });
    expect(erase.hasAttribute("disabled")).toBe(true);
    const confirm = within(dialog).getByLabelText("Type ana@example.com to confirm");
    await user.type(confirm, "ana@example.co");
    expect(erase.hasAttribute("disabled")).toBe(true);
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.type(confirm, "m");
    expect(erase.hasAttribute("disabled")).toBe(false);
    await user.click(erase);

    expect(await screen.findByRole("heading", { level: 1, name: "Contacts" })).toBeTruthy();
    expect(await screen.findByText("Ana Li was erased, with everything recorded about them.")).toBeTruthy();
    const del = calls.find((c) => c.method === "DELETE");
    expect(del?.url.pathname).toBe("/api/v1/contacts/5");
    expect(del?.headers.get("X-CSRF-Token")).toBe("csrf-123");
  });

  it("is not offered to a marketer", async () => {
    profileServer("marketer");
    renderWithProviders(<AppRoutes />, { path: "/contacts/5" });
    expect(await screen.findByRole("button", { name: /Edit profile/ })).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Erase contact/ })).toBeNull();
    expect(screen.queryByRole("heading", { name: "Danger zone" })).toBeNull();
  });
});

import { describe, expect, it, vi } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRoutes } from "../../routes";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import { reference } from "./testReference";

const list = {
  id: 9,
  name: "VIPs",
  description: null,
  kind: "static",
  definition: null,
  time_dependent: false,
  member_count: 1,
  refreshed_at: null,
  created_at: "2026-03-01T00:00:00Z",
  updated_at: "2026-03-01T00:00:00Z",
};

describe("members of a static list", () => {
  it("imports a CSV file as it is and shows what was added and rejected; exports with the workspace header", async () => {
    const two = sessionFor("marketer", {
      workspaces: [
        { id: 7, name: "Acme", role: "marketer", approver: false, sandbox: false, time_zone: "UTC" },
        { id: 8, name: "Acme test", role: "admin", approver: false, sandbox: true, time_zone: "UTC" },
      ],
    });
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, two),
      "GET /api/v1/segments/reference": json(200, reference),
      "GET /api/v1/topics": json(200, { data: [], next: null }),
      "GET /api/v1/segments/9": json(200, list),
      "GET /api/v1/segments/9/members": json(200, {
        data: [{ id: 5, external_id: "crm-5", email: "ana@example.com", entered_at: "2026-03-01T00:00:00Z" }],
        next: null,
      }),
      "POST /api/v1/segments/9/members/import": json(200, {
        added: 2,
        already_members: 1,
        rejected: [{ line: 4, reason: "no contact with email nobody@example.com" }],
        rejected_count: 1,
      }),
      "GET /api/v1/segments/9/members.csv": () =>
        new Response("id,external_id,email\r\n5,crm-5,ana@example.com\r\n", { headers: { "Content-Type": "text/csv" } }),
    });
    const saved: Blob[] = [];
    vi.stubGlobal("URL", Object.assign(URL, { createObjectURL: (b: Blob) => (saved.push(b), "blob:x"), revokeObjectURL: () => {} }));
    vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementation(() => {});

    renderWithProviders(<AppRoutes />, { path: "/segments/9?tab=members" });
    expect(await screen.findByText("ana@example.com")).toBeTruthy();
    const user = userEvent.setup();

    const csv = "email\nana@example.com\nbo@example.com\nnobody@example.com\n";
    await user.upload(screen.getByLabelText("CSV file of contacts to add"), new File([csv], "list.csv", { type: "" }));
    expect(await screen.findByText("Added 2, already members 1, rejected 1.")).toBeTruthy();
    expect(screen.getByText("Line 4: no contact with email nobody@example.com")).toBeTruthy();
    const post = calls.find((c) => c.url.pathname.endsWith("/members/import"));
    expect(post?.body).toBe(csv);
    expect(post?.headers.get("Content-Type")).toBe("text/csv");
    expect(post?.headers.get("X-CSRF-Token")).toBe("csrf-123");

    await user.click(screen.getByRole("button", { name: /Export CSV/ }));
    await waitFor(() => expect(saved).toHaveLength(1));
    const get = calls.find((c) => c.url.pathname.endsWith("/members.csv"));
    expect(get?.headers.get("X-Kairos-Workspace")).toBe("7");
    expect(await saved[0]?.text()).toContain("ana@example.com");
  });
});

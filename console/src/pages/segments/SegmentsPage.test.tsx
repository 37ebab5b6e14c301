import { describe, expect, it } from "vitest";
import { screen } from "@testing-library/react";
import { AppRoutes } from "../../routes";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";

const segment = (id: number, name: string, member_count: number) => ({
  id,
  name,
  description: null,
  kind: "dynamic",
  definition: { schema_version: 1, root: { type: "all", conditions: [] } },
  time_dependent: false,
  member_count,
  refreshed_at: null,
  created_at: "2026-03-01T00:00:00Z",
  updated_at: "2026-03-01T00:00:00Z",
});

describe("segment list", () => {
  it("shows each segment's 30-day trend: a line, its change, and the figures in words", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/segments": json(200, { data: [segment(1, "Growing", 1250), segment(2, "Shrinking", 3)], next: null }),
      "GET /api/v1/segments/trends": json(200, {
        days: ["2026-03-01", "2026-03-02", "2026-03-03"],
        as_of: "2026-03-03T10:00:00Z",
        segments: [
          { segment_id: 1, members: [1000, 1100, 1250], entered: [0, 100, 150], exited: [0, 0, 0] },
          { segment_id: 2, members: [5, 4, 3], entered: [0, 0, 0], exited: [0, 1, 1] },
        ],
      }),
    });
    renderWithProviders(<AppRoutes />, { path: "/segments" });
    expect(await screen.findByRole("img", { name: "Members 30 days ago: 1,000; now: 1,250" })).toBeTruthy();
    expect(screen.getByText("+250")).toBeTruthy();
    expect(screen.getByRole("img", { name: "Members 30 days ago: 5; now: 3" })).toBeTruthy();
    expect(screen.getByText("-2")).toBeTruthy();
    const trend = calls.find((c) => c.url.pathname === "/api/v1/segments/trends");
    expect(trend?.url.searchParams.get("days")).toBe("30");
  });
});

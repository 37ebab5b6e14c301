import { describe, expect, it, vi } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Role } from "../../../api/session";
import { json, mockFetch } from "../../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../../test/render";
import { LiveStatsPanel } from "./LiveStatsPanel";
import { definition, simulation, stats } from "./testFixtures";
import type { Journey, JourneyPanelProps } from "./overlay";
import { TRIGGER_NODE_ID } from "./overlay";
import { SimulationPanel } from "./SimulationPanel";
import { VersionsPanel } from "./VersionsPanel";

const journey: Journey = {
  id: 4,
  name: "Welcome",
  description: null,
  status: "active",
  draft: definition,
  layout: { nodes: { pause: { x: 0, y: 0 } } },
  version_id: 12,
  version: 2,
  campaign_id: null,
  created_at: "2026-03-01T00:00:00Z",
  updated_at: "2026-03-02T00:00:00Z",
};

function props(extra: Partial<JourneyPanelProps> = {}): JourneyPanelProps {
  return {
    journey,
    definition,
    selectedNodeId: null,
    onOverlays: vi.fn(),
    onSelectNode: vi.fn(),
    onShowDefinition: vi.fn(),
    ...extra,
  };
}

const enrollment = (id: number, contactId: number, extra: Record<string, unknown> = {}) => ({
  id,
  journey_id: 4,
  version_id: 12,
  contact_id: contactId,
  state: "active",
  node: "opened",
  phase: "wait",
  resume_at: "2026-03-05T12:00:00Z",
  wait_event: "Email Opened",
  steps: 4,
  payload: {},
  exit_reason: null,
  entered_at: "2026-03-02T12:00:00Z",
  node_at: "2026-03-03T12:00:00Z",
  updated_at: "2026-03-03T12:00:00Z",
  ended_at: null,
  contact: { id: contactId, external_id: `c${contactId}`, email: `c${contactId}@example.com`, phone: null, first_name: contactId === 7 ? "Ann" : null, last_name: null },
  ...extra,
});

function liveRoutes(role: Role) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/journeys/4/stats": json(200, stats),
    "GET /api/v1/journeys/4/enrollments": json(200, { data: [enrollment(31, 7), enrollment(32, 8)], next: null }),
    "DELETE /api/v1/journeys/4/enrollments/31": json(204, null),
  });
}

describe("LiveStatsPanel", () => {
  it("shows the live version's totals and per-step figures, and draws them on the canvas", async () => {
    const { calls } = liveRoutes("marketer");
    const p = props();
    renderWithProviders(<LiveStatsPanel {...p} />);
    const totals = await screen.findByTestId("live-totals");
    expect(within(totals).getByText("Entered").nextSibling?.textContent).toContain("10");
    expect(totals.textContent).toContain("10% conversion");
    const row = screen.getByRole("row", { name: /opened/ });
    expect(within(row).getAllByRole("cell").map((c) => c.textContent)).toEqual(["8", "3", "4", "1", "0"]);
    expect(screen.getByTestId("live-elsewhere").textContent).toContain("old_step (1 now)");
    expect(calls.find((c) => c.url.pathname.endsWith("/stats"))?.url.searchParams.get("version")).toBe("2");
    await waitFor(() => expect(p.onOverlays).toHaveBeenCalled());
    const overlays = vi.mocked(p.onOverlays).mock.calls.at(-1)![0];
    expect(overlays.opened?.stats).toEqual({ entered: 8, current: 3, passed: 4, converted: 1, exited: 0 });
    expect(overlays[TRIGGER_NODE_ID]?.stats?.entered).toBe(10);

    await userEvent.setup().click(within(row).getByRole("button", { name: "opened" }));
    expect(p.onSelectNode).toHaveBeenCalledWith("opened");
  });

  it("asks for every version's figures when told", async () => {
    const { calls } = liveRoutes("analyst");
    renderWithProviders(<LiveStatsPanel {...props()} />);
    await screen.findByTestId("live-totals");
    await userEvent.setup().click(screen.getByText("All versions"));
    await waitFor(() => expect(calls.filter((c) => c.url.pathname.endsWith("/stats")).some((c) => !c.url.searchParams.has("version"))).toBe(true));
  });

  it("lists the contacts at the selected step with links, and removes one after asking (marketers)", async () => {
    const { calls } = liveRoutes("marketer");
    renderWithProviders(<LiveStatsPanel {...props({ selectedNodeId: "opened" })} />);
    const list = await screen.findByTestId("node-enrollments");
    expect(within(list).getByRole("heading", { name: "Contacts at “opened”" })).toBeTruthy();
    const ann = await within(list).findByRole("link", { name: "Ann" });
    expect(ann.getAttribute("href")).toBe("/contacts/7");
    const get = calls.find((c) => c.url.pathname.endsWith("/enrollments"));
    expect(Object.fromEntries(get!.url.searchParams)).toEqual({ limit: "25", node: "opened", enrollment_state: "active" });
    expect(within(list).getAllByText("Email Opened")).toHaveLength(2);

    const user = userEvent.setup();
    await user.click(within(list).getAllByRole("button", { name: "Remove from journey" })[0]!);
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getAllByText("Remove Ann from this journey?").length).toBeGreaterThan(0);
    await user.click(within(dialog).getByRole("button", { name: "Remove from journey" }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.url.pathname.endsWith("/enrollments/31"))).toBe(true));
    expect(calls.find((c) => c.method === "DELETE")?.headers.get("X-CSRF-Token")).toBe("csrf-123");
  });

  it("offers no removal to analysts", async () => {
    liveRoutes("analyst");
    renderWithProviders(<LiveStatsPanel {...props({ selectedNodeId: "opened" })} />);
    await screen.findByRole("link", { name: "Ann" });
    expect(screen.queryByRole("button", { name: "Remove from journey" })).toBeNull();
  });

  it("draws the live version on the canvas when the draft has unpublished changes", async () => {
    const live = { ...definition, nodes: { ...definition.nodes, pause: { type: "wait", duration: { amount: 3, unit: "days" }, next: "welcome" } } };
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/journeys/4/stats": json(200, stats),
      "GET /api/v1/journeys/4/versions": json(200, {
        data: [{ id: 12, number: 2, definition: live, layout: { nodes: {} }, created_at: "2026-03-01T00:00:00Z", published_by: null }],
        next: null,
      }),
    });
    const p = props();
    const { unmount } = renderWithProviders(<LiveStatsPanel {...p} />);
    expect((await screen.findByTestId("live-shows-version")).textContent).toContain("version 2");
    expect(p.onShowDefinition).toHaveBeenCalledWith(live, { nodes: {} });
    unmount();
    expect(p.onShowDefinition).toHaveBeenLastCalledWith(null);
    expect(p.onOverlays).toHaveBeenLastCalledWith({});
  });

  it("asks nothing of a journey never published", async () => {
    const { calls } = liveRoutes("marketer");
    renderWithProviders(<LiveStatsPanel {...props({ journey: { ...journey, status: "draft", version: null, version_id: null } })} />);
    expect(await screen.findByText(/Publish the journey/)).toBeTruthy();
    expect(calls.some((c) => c.url.pathname.endsWith("/stats"))).toBe(false);
  });
});

describe("SimulationPanel", () => {
  it("runs the draft for a test contact with scripted events and shows the path and the rendered message", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "POST /api/v1/journeys/4/simulate": json(200, simulation),
    });
    const p = props();
    renderWithProviders(<SimulationPanel {...p} />);
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Email"), "ann@example.com");
    await user.type(screen.getByLabelText("First name"), "Ann");
    await user.type(screen.getByLabelText("Attribute 1 name"), "plan");
    await user.type(screen.getByLabelText("Attribute 1 value"), "pro");
    await user.click(screen.getByRole("button", { name: /Add event/ }));
    const amount = screen.getByLabelText("Event 1: how long after the start");
    await user.clear(amount);
    await user.type(amount, "2");
    const name = screen.getByLabelText("Event 1");
    await user.clear(name);
    await user.type(name, "Email Opened");
    await user.click(screen.getByRole("button", { name: /Run simulation/ }));

    const result = await screen.findByTestId("sim-result");
    const post = calls.find((c) => c.method === "POST");
    expect(JSON.parse(post!.body!)).toEqual({
      version: "draft",
      contact: { email: "ann@example.com", phone: null, first_name: "Ann", timezone: null, traits: { plan: "pro" }, tags: [] },
      events: [{ at: { amount: 2, unit: "days" }, event: "Email Opened", properties: {} }],
      until: { amount: 30, unit: "days" },
    });
    const path = within(result).getByTestId("sim-path");
    expect(within(path).getAllByRole("listitem")).toHaveLength(4);
    expect(within(result).getByTestId("sim-final").textContent).toContain("Still at");
    const frame = await within(result).findByTitle("Email preview for Ann");
    expect(frame.getAttribute("sandbox")).toBe("");
    expect(frame.getAttribute("srcdoc")).toBe("<p>Hi</p>");
    expect(within(result).getByText(/Welcome aboard/)).toBeTruthy();

    await waitFor(() => expect(vi.mocked(p.onOverlays).mock.calls.some(([o]) => o.opened?.highlight === "current")).toBe(true));
    await user.click(within(path).getAllByRole("button", { name: "welcome" })[0]!);
    expect(p.onSelectNode).toHaveBeenCalledWith("welcome");
  });

  it("shows what the server refused, and the fields to correct before asking", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("marketer")),
      "POST /api/v1/journeys/4/simulate": json(422, { code: "simulation_too_long", message: "the simulation took too long: shorten `until`" }),
    });
    renderWithProviders(<SimulationPanel {...props()} />);
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: /Add event/ }));
    await user.clear(screen.getByLabelText("Event 1"));
    await user.click(screen.getByRole("button", { name: /Run simulation/ }));
    expect(await screen.findByText("Correct the highlighted fields first.")).toBeTruthy();
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await user.type(screen.getByLabelText("Event 1"), "Order Completed");
    await user.click(screen.getByRole("button", { name: /Run simulation/ }));
    const error = await screen.findByTestId("sim-error");
    expect(error.textContent).toContain("went on too long");
    expect(error.textContent).toContain("shorten `until`");
  });

  it("says why a contact would not enter", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("marketer")),
      "POST /api/v1/journeys/4/simulate": json(200, { ...simulation, entered: false, reason: "reentry_never", path: [], waits: [], messages: [], final: null }),
    });
    renderWithProviders(<SimulationPanel {...props()} />);
    await userEvent.setup().click(await screen.findByRole("button", { name: /Run simulation/ }));
    expect((await screen.findByTestId("sim-not-entered")).textContent).toContain("does not let anyone enter twice");
  });
});

const versions = [
  {
    id: 11,
    number: 1,
    definition: {
      ...definition,
      nodes: { ...definition.nodes, reminder: { type: "send", channel: "email", template_id: 2, next: "survey" }, survey: { type: "exit" } },
    },
    layout: null,
    created_at: "2026-02-01T00:00:00Z",
    published_by: "Ana <ana@example.com>",
  },
  {
    id: 12,
    number: 2,
    definition: { ...definition, nodes: { ...definition.nodes, pause: { type: "wait", duration: { amount: 3, unit: "days" }, next: "welcome" } } },
    layout: { nodes: { pause: { x: 0, y: 0 } } },
    created_at: "2026-03-01T00:00:00Z",
    published_by: null,
  },
];

describe("VersionsPanel", () => {
  function render(extra: Partial<JourneyPanelProps> = {}) {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/journeys/4/versions": json(200, { data: versions, next: null }),
    });
    const p = props(extra);
    renderWithProviders(<VersionsPanel {...p} />);
    return p;
  }

  it("lists the versions newest first, the live one marked, who published, and views one on the canvas", async () => {
    const p = render();
    const list = await screen.findByTestId("versions-list");
    const items = within(list).getAllByRole("listitem");
    expect(items.map((i) => i.getAttribute("data-testid"))).toEqual(["version-draft", "version-2", "version-1"]);
    expect(within(items[1]!).getByText("Live")).toBeTruthy();
    expect(items[2]!.textContent).toContain("by Ana <ana@example.com>");
    expect(within(items[0]!).getByText("Unpublished changes")).toBeTruthy();

    const user = userEvent.setup();
    await user.click(within(items[2]!).getByRole("button", { name: "View version 1 on the canvas" }));
    expect(p.onShowDefinition).toHaveBeenLastCalledWith(versions[0]!.definition, null);
    expect(await screen.findByText("The canvas shows version 1, read-only.")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: /Back to the journey/ }));
    expect(p.onShowDefinition).toHaveBeenLastCalledWith(null);
  });

  it("compares the live version with the draft, as a list and on the canvas", async () => {
    const p = render();
    const diff = await screen.findByTestId("diff-list");
    expect(screen.getByText("Version 2 → Draft:")).toBeTruthy();
    expect(within(diff).getByTestId("diff-changed").textContent).toContain("Changed: Duration");
    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: /Show on the canvas/ }));
    expect(p.onShowDefinition).toHaveBeenCalledTimes(1);
    const overlays = vi.mocked(p.onOverlays).mock.calls.at(-1)![0];
    expect(overlays).toEqual({ pause: { highlight: "changed", notes: ["Changed: Duration"] } });
  });

  it("compares a version with the one before: removed steps stay on the canvas, marked", async () => {
    const p = render();
    const list = await screen.findByTestId("versions-list");
    const user = userEvent.setup();
    await user.click(within(list).getByRole("button", { name: "Compare with version 1" }));
    expect(await screen.findByText("Version 1 → Version 2:")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: /Show on the canvas/ }));
    const [shown] = vi.mocked(p.onShowDefinition).mock.calls.at(-1)!;
    expect(Object.keys((shown as { nodes: object }).nodes)).toContain("survey");
    const overlays = vi.mocked(p.onOverlays).mock.calls.at(-1)![0];
    expect(overlays.survey).toEqual({ highlight: "removed", notes: ["Removed"] });
    expect(overlays.reminder).toEqual({ highlight: "changed", notes: ["Changed: Channel, Next step"] });
    expect(overlays.pause?.highlight).toBe("changed");
  });
});

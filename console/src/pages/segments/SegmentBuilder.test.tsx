import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import { ConfigProvider } from "antd";
import { AppRoutes } from "../../routes";
import type { Role } from "../../api/session";
import { json, mockFetch, type Recorded } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import { reference } from "./testReference";

const sample = [{ id: 5, external_id: "crm-5", email: "ana@example.com" }];
const preview = (count: number) => json(200, { count, sample, as_of: "2026-03-02T12:00:00Z", segments: [] });

const saved = {
  id: 2,
  name: "Engaged viewers",
  description: "Viewed a lot, not on the pro plan",
  kind: "dynamic",
  definition: {
    schema_version: 1,
    root: {
      type: "all",
      conditions: [
        { type: "attribute", attribute: "traits.plan", operator: "eq", value: "pro" },
        {
          type: "performed",
          event: "Product Viewed",
          where: [],
          count: { op: ">=", value: 3 },
          window: { last: { amount: 7, unit: "days" } },
        },
      ],
    },
  },
  time_dependent: true,
  member_count: 12,
  refreshed_at: null,
  created_at: "2026-03-01T00:00:00Z",
  updated_at: "2026-03-01T00:00:00Z",
};

function server(role: Role, extra: Parameters<typeof mockFetch>[0] = {}) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/segments/reference": json(200, reference),
    "GET /api/v1/topics": json(200, { data: [], next: null }),
    "GET /api/v1/segments": json(200, { data: [saved], next: null }),
    "GET /api/v1/segments/2": json(200, saved),
    "POST /api/v1/segments/preview": preview(30),
    ...extra,
  });
}

/** The console with antd's lists unvirtualised (jsdom measures nothing). */
function renderAt(path: string) {
  return renderWithProviders(
    <ConfigProvider virtual={false}>
      <AppRoutes />
    </ConfigProvider>,
    { path },
  );
}

/** The options of the select labelled `label` (its popup, found through `aria-controls`). */
function optionsIn(label: string): HTMLElement[] {
  const input = screen.getByLabelText(label);
  const list = document.getElementById(input.getAttribute("aria-controls") ?? "");
  const popup = list?.closest(".ant-select-dropdown");
  return popup ? [...popup.querySelectorAll<HTMLElement>(".ant-select-item-option")] : [];
}

/** Opens the select labelled `label` and returns the texts of its options. */
async function optionsOf(user: UserEvent, label: string): Promise<string[]> {
  await user.click(screen.getByLabelText(label));
  await waitFor(() => expect(optionsIn(label).length).toBeGreaterThan(0));
  return optionsIn(label).map((o) => o.textContent ?? "");
}

async function choose(user: UserEvent, label: string, option: string) {
  await user.click(screen.getByLabelText(label));
  const item = await waitFor(() => {
    const found = optionsIn(label).find((o) => o.textContent === option);
    if (!found) throw new Error(`no option ${option} in ${label}`);
    return found;
  });
  await user.click(item);
}

async function addCondition(user: UserEvent, button: string, kind: string) {
  await user.click(screen.getByRole("button", { name: button }));
  await user.click(await screen.findByRole("menuitem", { name: kind }));
}

const previews = (calls: Recorded[]) =>
  calls.filter((c) => c.method === "POST" && c.url.pathname === "/api/v1/segments/preview");

describe("segment builder", () => {
  it("offers the properties seen on the chosen event, and compares a numeric one as a number", async () => {
    const { calls } = server("marketer", {
      "GET /api/v1/segments/reference/properties": json(200, {
        event: "Order Completed",
        sampled: 40,
        properties: [
          { name: "revenue", types: ["number"], seen: 40 },
          { name: "currency", types: ["string"], seen: 38 },
        ],
      }),
    });
    renderAt("/segments/new");
    const user = userEvent.setup();
    await screen.findByLabelText("Name");
    await addCondition(user, "Add condition", "Performed an event");
    await user.type(screen.getByLabelText("Condition 1: event"), "Order Completed");
    await user.click(screen.getByRole("button", { name: "Add property filter to Condition 1" }));
    const property = screen.getByLabelText("Condition 1, property filter 1: property");
    await user.click(property);
    const revenue = await waitFor(() => {
      const found = [...document.querySelectorAll<HTMLElement>(".ant-select-item-option")].find(
        (o) => o.textContent === "revenue",
      );
      if (!found) throw new Error("revenue is not offered");
      return found;
    });
    await user.click(revenue);
    expect((property as HTMLInputElement).value).toBe("revenue");
    expect(
      (screen.getByLabelText("Condition 1, property filter 1: compare as").closest(".ant-select") as HTMLElement).textContent,
    ).toBe("number");
    const asked = calls.find((c) => c.url.pathname === "/api/v1/segments/reference/properties");
    expect(asked?.url.searchParams.get("event")).toBe("Order Completed");
  });

  it("builds a nested behavioural definition: all → performed ≥ 3 in the last 7 days with a filter, not → a segment", async () => {
    const { calls } = server("marketer", {
      "POST /api/v1/segments": json(201, { ...saved, id: 3 }),
      "GET /api/v1/segments/3": json(200, { ...saved, id: 3 }),
    });
    renderAt("/segments/new");
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Name"), "Engaged viewers");

    await addCondition(user, "Add condition", "Performed an event");
    await user.type(screen.getByLabelText("Condition 1: event"), "Product Viewed");
    const times = screen.getByLabelText("Condition 1: number of times");
    await user.clear(times);
    await user.type(times, "3");
    expect((screen.getByLabelText("Condition 1: how many times").closest(".ant-select") as HTMLElement).textContent).toBe(
      "at least (≥)",
    );
    await user.click(screen.getByRole("button", { name: "Add property filter to Condition 1" }));
    await user.type(screen.getByLabelText("Condition 1, property filter 1: property"), "product_id");
    await user.type(screen.getByLabelText("Condition 1, property filter 1: value"), "A");

    await addCondition(user, "Add condition", "Not (exclude)");
    const not = screen.getByRole("group", { name: "Condition 2" });
    expect(within(not).getByRole("group", { name: "Condition 2.1" })).toBeTruthy();
    await choose(user, "Condition 2.1: type", "Segment membership");
    // Segments are picked by name, never by id.
    expect(await optionsOf(user, "Condition 2.1: segment")).toEqual(["Pro plan", "VIPs"]);
    await user.click(optionsIn("Condition 2.1: segment").find((o) => o.textContent === "VIPs") as HTMLElement);

    const definition = {
      schema_version: 1,
      root: {
        type: "all",
        conditions: [
          {
            type: "performed",
            event: "Product Viewed",
            where: [{ property: "product_id", operator: "eq", value: "A" }],
            count: { op: ">=", value: 3 },
            window: { last: { amount: 7, unit: "days" } },
          },
          { type: "not", condition: { type: "segment", segment_id: 9, member: true } },
        ],
      },
    };
    // The live preview counts the definition being built (after its debounce), before saving.
    await waitFor(() => expect(JSON.parse(previews(calls).at(-1)?.body ?? "{}").definition).toEqual(definition), {
      timeout: 5_000,
    });

    await user.click(screen.getByRole("button", { name: /Create segment/ }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url.pathname === "/api/v1/segments")).toBe(true));
    const post = calls.find((c) => c.method === "POST" && c.url.pathname === "/api/v1/segments");
    expect(JSON.parse(post?.body ?? "null")).toEqual({ name: "Engaged viewers", description: null, kind: "dynamic", definition });
    expect(post?.headers.get("X-CSRF-Token")).toBe("csrf-123");
  }, 60_000);

  it("offers the operators the reference allows for the field's type, a new one included", async () => {
    const withNewOperator = {
      ...reference,
      operators: [
        ...reference.operators,
        { key: "sounds_like", label: "sounds like", value: "one", types: ["string"], moves: false },
      ],
    };
    server("marketer", { "GET /api/v1/segments/reference": json(200, withNewOperator) });
    renderAt("/segments/new");
    const user = userEvent.setup();
    await screen.findByRole("button", { name: "Add condition" });
    await addCondition(user, "Add condition", "Attribute");

    await choose(user, "Condition 1: field", "created_at");
    const datetimeOps = await optionsOf(user, "Condition 1: operator");
    expect(datetimeOps).toContain("is more than … ago");
    expect(datetimeOps).toContain("is between … and … years old");
    expect(datetimeOps).not.toContain("contains");
    expect(datetimeOps).not.toContain("sounds like");
    await user.click(optionsIn("Condition 1: operator").find((o) => o.textContent === "is more than … ago") as HTMLElement);
    // A duration: amount and unit.
    expect((screen.getByLabelText("Condition 1: value: amount") as HTMLInputElement).value).toBe("7");
    expect(screen.getByLabelText("Condition 1: value: unit")).toBeTruthy();

    await choose(user, "Condition 1: field", "email");
    const stringOps = await optionsOf(user, "Condition 1: operator");
    expect(stringOps).not.toContain("is more than … ago");
    expect(stringOps).toContain("contains");
    expect(stringOps).toContain("sounds like");
  });

  it("previews ~400 ms after the last change, and never shows a stale answer", async () => {
    let release: ((r: Response) => void) | null = null;
    const { calls } = server("marketer", {
      "POST /api/v1/segments/preview": (request) => {
        const salt = (JSON.parse(request.body ?? "{}") as { definition: { root: { conditions: { salt?: string }[] } } })
          .definition.root.conditions[0]?.salt;
        if (salt === "abc") return new Promise<Response>((resolve) => (release = resolve));
        if (salt === "abcd") return preview(222);
        return preview(30);
      },
    });
    renderAt("/segments/new");
    const user = userEvent.setup();
    expect(await screen.findByText("30")).toBeTruthy();

    await addCondition(user, "Add condition", "Random sample");
    await user.type(screen.getByLabelText("Condition 1: salt"), "abc");
    await waitFor(() => expect(release).not.toBeNull());
    const salts = () =>
      previews(calls).map((c) => (JSON.parse(c.body ?? "{}") as { definition: { root: { conditions: { salt?: string }[] } } }).definition.root.conditions[0]?.salt);
    // Typing "abc" sent one request, for "abc": not one per key.
    expect(salts()).not.toContain("a");
    expect(salts()).not.toContain("ab");
    expect(salts().filter((s) => s === "abc")).toHaveLength(1);

    // "abc" is still being counted when the definition changes again.
    await user.type(screen.getByLabelText("Condition 1: salt"), "d");
    expect(await screen.findByText("222")).toBeTruthy();
    const stale = previews(calls).find((c) => c.body?.includes('"salt":"abc"'));
    expect(stale?.signal.aborted).toBe(true);

    // The late answer for "abc" arrives: it must not replace the newer one.
    (release as unknown as (r: Response) => void)(preview(111).clone());
    await new Promise((r) => setTimeout(r, 600));
    expect(screen.queryByText("111")).toBeNull();
    expect(screen.getByText("222")).toBeTruthy();
  });

  it("shows a 422 on the condition it names, keeping the user's edits", async () => {
    server("marketer", {
      "POST /api/v1/segments/preview": (request) =>
        request.body?.includes('"percent":100')
          ? json(422, { code: "invalid_value", message: "root.conditions[0].percent: must be below 100" })
          : preview(30),
    });
    renderAt("/segments/new");
    const user = userEvent.setup();
    await screen.findByRole("button", { name: "Add condition" });
    await addCondition(user, "Add condition", "Random sample");
    const percent = screen.getByLabelText("Condition 1: percent");
    await user.clear(percent);
    await user.type(percent, "100");
    const condition = screen.getByRole("group", { name: "Condition 1" });
    expect(await within(condition).findByText("root.conditions[0].percent: must be below 100")).toBeTruthy();
    expect((screen.getByLabelText("Condition 1: percent") as HTMLInputElement).value).toBe("100");
  });
});

describe("segment pages for an analyst", () => {
  it("shows the builder read-only: no create, save, delete, add or remove controls", async () => {
    const { calls } = server("analyst");
    renderAt("/segments/2");
    expect(await screen.findByRole("heading", { level: 1, name: /Engaged viewers/ })).toBeTruthy();
    expect(screen.getByText("You can view this segment; your role does not allow changing it.")).toBeTruthy();
    // The definition is shown…
    expect(await screen.findByRole("group", { name: "Condition 2" })).toBeTruthy();
    expect((screen.getByLabelText("Condition 2: event") as HTMLInputElement).value).toBe("Product Viewed");
    // …but cannot be changed.
    expect((screen.getByLabelText("Name") as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByLabelText("Condition 2: event") as HTMLInputElement).disabled).toBe(true);
    expect((screen.getByLabelText("Condition 1: field") as HTMLInputElement).disabled).toBe(true);
    expect(screen.queryByRole("button", { name: /Save changes/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Delete segment/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Add condition/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Remove/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Add property filter/ })).toBeNull();
    // The live count still works: previews only read.
    expect(await screen.findByText("30")).toBeTruthy();
    expect(calls.filter((c) => !["GET", "POST"].includes(c.method))).toEqual([]);
    expect(calls.filter((c) => c.method === "POST").every((c) => c.url.pathname === "/api/v1/segments/preview")).toBe(true);
  });

  it("lists segments without a create button", async () => {
    server("analyst");
    renderAt("/segments");
    expect(await screen.findByRole("link", { name: "Engaged viewers" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: /New segment/ })).toBeNull();
  });
});

import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import { ConfigProvider } from "antd";
import type { Role } from "../../api/session";
import type { SegmentReference } from "../../api/types";
import { translate } from "../../i18n/catalogs";
import "../../i18n/scoring";
import { Route, Routes } from "react-router";
import { RequireSession } from "../../auth/SessionProvider";
import ContactProfilePage from "../contacts/ContactProfilePage";
import ScoreModelPage from "./ScoreModelPage";
import ScoringPage from "./ScoringPage";
import SegmentPage from "../segments/SegmentPage";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import { reference } from "../segments/testReference";
import { capText, decayText, reasonText, signed, type LedgerEntry, type ScoreModel, type ScoreRule } from "./model";

const at = "2026-03-01T10:00:00Z";
const idle = { status: "idle" as const, done: 0, total: 0, started_at: null, finished_at: null };

const pricingRule: ScoreRule = {
  id: 11,
  model_id: 3,
  name: "Pricing page viewed",
  kind: "event",
  points: 10,
  rule: { event: "Page Viewed", where: [{ property: "path", operator: "eq", value: "/pricing" }], cap: { points: 30, per: "day" } },
  created_at: at,
  updated_at: at,
};
const unsubscribed: ScoreRule = { ...pricingRule, id: 12, name: "Unsubscribed", points: -20, rule: { event: "Unsubscribed", where: [], cap: null } };

const engagement: ScoreModel = {
  id: 3,
  key: "engagement",
  name: "Engagement",
  description: "How engaged a lead is",
  decay: { type: "half_life", days: 30 },
  min_score: null,
  max_score: null,
  is_default: true,
  rules: [pricingRule, unsubscribed],
  recompute: idle,
  created_at: at,
  updated_at: at,
};

const entry = (e: Partial<LedgerEntry>): LedgerEntry => ({
  id: 1,
  kind: "event",
  delta: 10,
  score: 10,
  reason: "English reason",
  params: {},
  rule_id: 11,
  event_id: 5,
  occurred_at: at,
  at,
  ...e,
});

/** The reference with the `score` kind, as a server with scoring answers. */
const withScore: SegmentReference = (() => {
  const schema = structuredClone(reference.definition_schema) as {
    $defs: Record<string, unknown>;
    properties: { root: { oneOf: unknown[] } };
  };
  schema.$defs.ScoreCondition = {
    properties: {
      type: { const: "score" },
      model: { type: "string" },
      operator: { type: "string" },
      value: {},
    },
    title: "ScoreCondition",
  };
  schema.properties.root.oneOf.push({ $ref: "#/$defs/ScoreCondition" });
  return { ...reference, definition_schema: schema };
})();

function server(role: Role, extra: Parameters<typeof mockFetch>[0] = {}) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/score-models": json(200, { data: [engagement], next: null }),
    "GET /api/v1/score-models/3": json(200, engagement),
    "GET /api/v1/segments/reference": json(200, withScore),
    "GET /api/v1/topics": json(200, { data: [], next: null }),
    "GET /api/v1/segments": json(200, { data: [], next: null }),
    ...extra,
  });
}

function renderAt(path: string, language: "en" | "zh-CN" = "en") {
  return renderWithProviders(
    <ConfigProvider virtual={false}>
      <RequireSession>
        <Routes>
          <Route path="/scoring" element={<ScoringPage />} />
          <Route path="/scoring/:id" element={<ScoreModelPage />} />
          <Route path="/contacts/:id" element={<ContactProfilePage />} />
          <Route path="/segments/new" element={<SegmentPage />} />
        </Routes>
      </RequireSession>
    </ConfigProvider>,
    { path, language },
  );
}

function optionsIn(label: string): HTMLElement[] {
  const input = screen.getByLabelText(label);
  const list = document.getElementById(input.getAttribute("aria-controls") ?? "");
  const popup = list?.closest(".ant-select-dropdown");
  return popup ? [...popup.querySelectorAll<HTMLElement>(".ant-select-item-option")] : [];
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

describe("scoring words", () => {
  const en = (key: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate("en", key, p);
  const zh = (key: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate("zh-CN", key, p);

  it("signs points with a true minus sign", () => {
    expect(signed(10, "en")).toBe("+10");
    expect(signed(-20, "en")).toBe("−20");
    expect(signed(0, "en")).toBe("0");
  });

  it("names decay and caps in both languages", () => {
    expect(decayText({ type: "half_life", days: 30 }, en, "en")).toBe("Halves every 30 days");
    expect(decayText({ type: "points", points: 5, every_days: 7 }, zh, "zh-CN")).toBe("每 7 天无活动扣 5 分");
    expect(decayText({ type: "none" }, en, "en")).toBe("No decay");
    expect(capText(pricingRule, en, "en")).toBe("at most 30 per day");
    expect(capText(pricingRule, zh, "zh-CN")).toBe("每天最多 30 分");
    expect(capText(unsubscribed, en, "en")).toBeNull();
  });

  it("says a ledger entry's reason from its kind and params, else the API's reason", () => {
    const capped = entry({ delta: 5, params: { rule: "Pricing", event: "Page Viewed", points: 10, capped: true } });
    expect(reasonText(capped, en, "en")).toBe("Pricing: Page Viewed +5 (cap reached)");
    expect(reasonText(capped, zh, "zh-CN")).toBe("Pricing：Page Viewed +5（已达上限）");
    const exited = entry({ kind: "exited", delta: -20, params: { rule: "Decision maker", points: -20 } });
    expect(reasonText(exited, zh, "zh-CN")).toBe("Decision maker：不再满足条件 −20");
    const decay = entry({ kind: "decay", delta: -5, params: { type: "half_life", half_life_days: 30, days: 30 } });
    expect(reasonText(decay, en, "en")).toBe("Decay: 30 day(s) at a half-life of 30 days");
    const recompute = entry({ kind: "recompute", delta: 10, params: { rules: { Pricing: 30, Unsubscribed: -20 } } });
    expect(reasonText(recompute, en, "en")).toBe("Recomputed with the current rules: +10 (Pricing +30, Unsubscribed −20)");
    const bounded = entry({ kind: "entered", delta: 3, params: { rule: "Fit", points: 20, bounded: true } });
    expect(reasonText(bounded, en, "en")).toBe("Fit: now holds +3 (held within the score's bounds)");
    expect(reasonText(entry({ params: {} }), zh, "zh-CN")).toBe("English reason");
  });
});

describe("scoring pages", () => {
  it("lists the models with their key, decay, rules and recompute, and creates one", async () => {
    const created = { ...engagement, id: 4, key: "fit", name: "Fit", is_default: false, rules: [], decay: { type: "none" } };
    const { calls } = server("marketer", {
      "POST /api/v1/score-models": json(201, created),
      "GET /api/v1/score-models/4": json(200, created),
    });
    const user = userEvent.setup();
    renderAt("/scoring");
    const row = (await screen.findByRole("link", { name: "Engagement" }, { timeout: 30_000 })).closest("tr") as HTMLElement;
    expect(within(row).getByText("engagement")).toBeTruthy();
    expect(within(row).getByText("Default")).toBeTruthy();
    expect(within(row).getByText("Halves every 30 days")).toBeTruthy();
    expect(within(row).getByText("2")).toBeTruthy();
    expect(within(row).getByText("Up to date")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: /New score model/ }));
    fireEvent.change(await screen.findByLabelText("Key"), { target: { value: "Fit!" } });
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "Fit" } });
    await user.click(screen.getByRole("button", { name: "Create" }));
    expect(await screen.findByText("Start with a lowercase letter; then only a-z, 0-9 and _")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Key"), { target: { value: "fit" } });
    await choose(user, "Decay", "Half-life");
    fireEvent.change(screen.getByLabelText("Half-life (days)"), { target: { value: "14" } });
    await user.click(screen.getByRole("button", { name: "Create" }));
    expect(await screen.findByRole("heading", { name: "Fit", level: 1 })).toBeTruthy();
    const post = calls.find((c) => c.method === "POST" && c.url.pathname === "/api/v1/score-models");
    expect(JSON.parse(post?.body ?? "{}")).toMatchObject({
      key: "fit",
      name: "Fit",
      decay: { type: "half_life", days: 14 },
      min_score: null,
      max_score: null,
      is_default: false,
    });
  }, 90_000);

  it("shows a model's rules with negative points in red, and adds an event rule with a cap", async () => {
    const saved = { ...pricingRule, id: 13, name: "Demo requested", points: 25 };
    const { calls } = server("marketer", { "POST /api/v1/score-models/3/rules": json(201, saved) });
    const user = userEvent.setup();
    renderAt("/scoring/3");
    expect(await screen.findByRole("heading", { name: "Engagement", level: 1 }, { timeout: 30_000 })).toBeTruthy();
    const minus = screen.getByText("−20");
    expect(minus.className).toContain("points-neg");
    expect(screen.getByText("+10").className).toContain("points-pos");
    expect(screen.getByText("at most 30 per day")).toBeTruthy();
    expect(screen.getByText("Page Viewed · 1 property filter(s)")).toBeTruthy();

    await waitFor(() => expect((screen.getByRole("button", { name: /Add rule/ }) as HTMLButtonElement).disabled).toBe(false));
    await user.click(screen.getByRole("button", { name: /Add rule/ }));
    const dialog = await screen.findByRole("dialog");
    fireEvent.change(within(dialog).getByLabelText("Name"), { target: { value: "Demo requested" } });
    fireEvent.change(within(dialog).getByLabelText("Points"), { target: { value: "25" } });
    fireEvent.change(within(dialog).getByLabelText("Event"), { target: { value: "Demo Requested" } });
    await user.click(within(dialog).getByRole("checkbox", { name: "Limit the points from this rule" }));
    await choose(user, "Per", "week");
    await user.click(within(dialog).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url.pathname === "/api/v1/score-models/3/rules")).toBe(true));
    const post = calls.find((c) => c.method === "POST" && c.url.pathname === "/api/v1/score-models/3/rules");
    expect(JSON.parse(post?.body ?? "{}")).toEqual({
      name: "Demo requested",
      points: 25,
      rule: { kind: "event", event: "Demo Requested", cap: { points: 30, per: "week" } },
    });
  }, 90_000);

  it("shows an analyst the rules without edit controls", async () => {
    server("analyst");
    renderAt("/scoring/3");
    expect(await screen.findByRole("heading", { name: "Engagement", level: 1 }, { timeout: 30_000 })).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Add rule/ })).toBeNull();
    expect(screen.queryByRole("button", { name: "Edit Unsubscribed" })).toBeNull();
    expect(screen.queryByRole("button", { name: /Recompute now/ })).toBeNull();
  });

  it("hides edit controls from a sales user too", async () => {
    server("sales");
    renderAt("/scoring");
    expect(await screen.findByRole("link", { name: "Engagement" }, { timeout: 30_000 })).toBeTruthy();
    expect(screen.queryByRole("button", { name: /New score model/ })).toBeNull();
    expect(screen.queryByRole("button", { name: "Delete Engagement" })).toBeNull();
  });

  it("shows the recompute progress and reads it again until it is done", async () => {
    let reads = 0;
    server("marketer", {
      "GET /api/v1/score-models/3": () => {
        reads += 1;
        const recompute = reads === 1 ? { ...idle, status: "running", done: 2000, total: 5000, started_at: at } : { ...idle, finished_at: at };
        return json(200, { ...engagement, recompute });
      },
    });
    renderAt("/scoring/3");
    expect(await screen.findByText("2,000 of 5,000 contacts", undefined, { timeout: 10_000 })).toBeTruthy();
    expect((screen.getByRole("button", { name: /Recompute now/ }) as HTMLButtonElement).disabled).toBe(true);
    await waitFor(() => expect(screen.getAllByText("Up to date").length).toBeGreaterThan(0), { timeout: 4000 });
    expect(reads).toBeGreaterThanOrEqual(2);
  }, 40_000);
});

describe("the profile's Scores tab", () => {
  it("shows each model's score and the reasons of its latest changes, in Chinese", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("marketer")),
      "GET /api/v1/contacts/42": json(200, {
        id: 42,
        external_id: "u42",
        email: "li@example.com",
        phone: null,
        first_name: "Li",
        last_name: null,
        lifecycle_stage: null,
        score: 15,
        timezone: null,
        locale: null,
        traits: {},
        tags: [],
        identities: [],
        created_at: at,
        updated_at: at,
      }),
      "GET /api/v1/contacts/42/scores": json(200, {
        data: [
          {
            model: { id: 3, key: "engagement", name: "Engagement", is_default: true },
            score: 15,
            changed_at: at,
            ledger: [
              entry({ id: 2, delta: -20, score: 15, params: { rule: "Unsubscribed", event: "Unsubscribed", points: -20 } }),
              entry({ id: 1, delta: 35, score: 35, kind: "recompute", params: { rules: { "Pricing page viewed": 35 } } }),
            ],
          },
        ],
      }),
      "GET /api/v1/contacts/42/events": json(200, { data: [], next: null }),
    });
    renderAt("/contacts/42?tab=scores", "zh-CN");
    expect(await screen.findByText("Unsubscribed：Unsubscribed −20", undefined, { timeout: 10_000 })).toBeTruthy();
    expect(screen.getByText("按当前规则重算：+35（Pricing page viewed +35）")).toBeTruthy();
    expect(screen.getByRole("link", { name: "Engagement" }).getAttribute("href")).toBe("/scoring/3");
    expect(screen.getByText("−20").className).toContain("points-neg");
    const asked = calls.find((c) => c.url.pathname === "/api/v1/contacts/42/scores");
    expect(asked?.url.searchParams.get("latest")).toBe("10");
  });
});

describe("the segment builder's score condition", () => {
  it("offers Score under Profile: a model, a number operator and a value", async () => {
    const { calls } = server("marketer", {
      "POST /api/v1/segments/preview": json(200, { count: 3, sample: [], as_of: at, segments: [] }),
    });
    const user = userEvent.setup();
    renderAt("/segments/new");
    await user.click(await screen.findByRole("button", { name: "Add condition" }, { timeout: 30_000 }));
    await user.click(await screen.findByRole("menuitem", { name: "Score" }));
    await choose(user, "Condition 1: score model", "Engagement (engagement)");
    await choose(user, "Condition 1: operator", "is at least");
    fireEvent.change(screen.getByLabelText("Condition 1: value"), { target: { value: "50" } });
    await waitFor(
      () => {
        const last = calls.filter((c) => c.method === "POST" && c.url.pathname === "/api/v1/segments/preview").at(-1);
        expect(JSON.parse(last?.body ?? "{}").definition?.root).toEqual({
          type: "all",
          conditions: [{ type: "score", model: "engagement", operator: "gte", value: 50 }],
        });
      },
      { timeout: 5_000 },
    );
  }, 60_000);
});

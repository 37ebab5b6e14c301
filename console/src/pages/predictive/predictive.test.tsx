import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent, { type UserEvent } from "@testing-library/user-event";
import { ConfigProvider } from "antd";
import { Route, Routes } from "react-router";
import type { Role } from "../../api/session";
import type { SegmentReference } from "../../api/types";
import { RequireSession } from "../../auth/SessionProvider";
import { translate } from "../../i18n/catalogs";
import "../../i18n/predict";
import { navItemsFor, pathAllowed } from "../../layout/AppShell";
import { json, mockFetch, type Recorded } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import ContactProfilePage from "../contacts/ContactProfilePage";
import ScoreModelPage from "../scoring/ScoreModelPage";
import SegmentPage from "../segments/SegmentPage";
import { fromPercent, toPercent } from "../segments/builder/LeadConditions";
import { reference } from "../segments/testReference";
import { explainSentence, type ExplainWords } from "../segments/explainText";
import { axisMax } from "./charts";
import { featureText, percentText, type ModelCard, type PredictiveModel } from "./model";
import PredictiveModelPage from "./PredictiveModelPage";
import PredictiveModelsPage from "./PredictiveModelsPage";
import { thresholdError } from "../scoring/EngagedThreshold";

const at = "2026-03-01T10:00:00Z";
const en = (key: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate("en", key, p);
const zh = (key: Parameters<typeof translate>[1], p?: Record<string, string | number>) => translate("zh-CN", key, p);

const window = (cutoff: string, until: string, contacts: number, positives: number) => ({
  cutoff,
  label_until: until,
  contacts,
  positives,
});

const card: ModelCard = {
  algorithm: "gradient_boosting",
  goal: { event: "Order Completed", within_days: 14 },
  auc: 0.8123,
  brier: 0.0912,
  base_rate: 0.12,
  calibration: Array.from({ length: 10 }, (_, i) => ({
    low: i / 10,
    high: (i + 1) / 10,
    contacts: i < 5 ? 50 - i * 5 : 0,
    mean_predicted: i < 5 ? i / 10 + 0.05 : null,
    observed_rate: i < 5 ? i / 10 + 0.04 : null,
  })),
  importances: [
    { feature: "event_90d:Pricing Viewed", importance: 0.12 },
    { feature: "revenue_90d", importance: 0.05 },
    { feature: "stage:lead", importance: 0 },
  ],
  features: ["event_90d:Pricing Viewed", "revenue_90d", "stage:lead"],
  training: window("2026-02-01T10:00:00Z", "2026-02-15T10:00:00Z", 500, 61),
  validation: window("2026-02-15T10:00:00Z", at, 500, 60),
  final: window("2026-02-15T10:00:00Z", at, 500, 60),
  scored: { at, contacts: 500, compute_seconds: 0.4, write_seconds: 0.1, contacts_per_s: 1000 },
  features_seconds: 0.5,
  validation_seconds: 0.7,
  fit_seconds: 0.3,
  seconds: 1.6,
  peak_rss_mb: null,
};

const buyers: PredictiveModel = {
  id: 4,
  key: "buyers",
  name: "Likely buyers",
  description: null,
  goal: { event: "Order Completed", within_days: 14 },
  algorithm: "gradient_boosting",
  retrain_every_days: 7,
  status: "ready",
  status_reason: null,
  next_train_at: at,
  next_score_at: at,
  training_started_at: null,
  trained_at: at,
  scored_at: at,
  card,
  created_at: at,
  updated_at: at,
};
const churn: PredictiveModel = {
  ...buyers,
  id: 5,
  key: "demo",
  name: "Demo requests",
  goal: { event: "Demo Requested", within_days: 30 },
  algorithm: "logistic_regression",
  status: "failed",
  status_reason: "too few contacts performed Demo Requested in the holdout window (3 of 10 needed)",
  trained_at: null,
  scored_at: null,
  card: null,
};

/** The reference with the `score`, `predicted` and `account` kinds, as the server answers. */
const withLeadKinds: SegmentReference = (() => {
  const schema = structuredClone(reference.definition_schema) as {
    $defs: Record<string, unknown>;
    properties: { root: { oneOf: unknown[] } };
  };
  for (const [name, type] of [
    ["ScoreCondition", "score"],
    ["PredictedCondition", "predicted"],
    ["AccountCondition", "account"],
  ]) {
    schema.$defs[name as string] = { properties: { type: { const: type } }, title: name };
    schema.properties.root.oneOf.push({ $ref: `#/$defs/${name}` });
  }
  return { ...reference, definition_schema: schema };
})();

const scoreModel = {
  id: 3,
  key: "engagement",
  name: "Engagement",
  description: null,
  decay: { type: "none" },
  min_score: null,
  max_score: null,
  is_default: true,
  rules: [],
  recompute: { status: "idle", done: 0, total: 0, started_at: null, finished_at: null },
  created_at: at,
  updated_at: at,
};

function server(role: Role, extra: Parameters<typeof mockFetch>[0] = {}) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/predictive-models": json(200, { data: [buyers, churn], next: null }),
    "GET /api/v1/predictive-models/4": json(200, buyers),
    "GET /api/v1/predictive-models/5": json(200, churn),
    "GET /api/v1/segments/reference": json(200, withLeadKinds),
    "GET /api/v1/topics": json(200, { data: [], next: null }),
    "GET /api/v1/segments": json(200, { data: [], next: null }),
    "GET /api/v1/score-models": json(200, { data: [scoreModel], next: null }),
    "GET /api/v1/score-models/3": json(200, scoreModel),
    "POST /api/v1/segments/preview": json(200, { count: 3, sample: [], as_of: at, segments: [] }),
    ...extra,
  });
}

function renderAt(path: string, language: "en" | "zh-CN" = "en") {
  return renderWithProviders(
    <ConfigProvider virtual={false}>
      <RequireSession>
        <Routes>
          <Route path="/predictive-models" element={<PredictiveModelsPage />} />
          <Route path="/predictive-models/:id" element={<PredictiveModelPage />} />
          <Route path="/contacts/:id" element={<ContactProfilePage />} />
          <Route path="/segments/new" element={<SegmentPage />} />
          <Route path="/segments/:id" element={<SegmentPage />} />
          <Route path="/scoring/:id" element={<ScoreModelPage />} />
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

const posted = (calls: Recorded[], method: string, path: string) => calls.filter((c) => c.method === method && c.url.pathname === path);

describe("predictive model words", () => {
  it("names a model's signals in words, in both languages", () => {
    expect(featureText("event_90d:Pricing", en)).toBe("Pricing events, last 90 days");
    expect(featureText("event_30d:Order Completed", zh)).toBe("近 30 天 Order Completed 事件数");
    expect(featureText("events_7d", en)).toBe("Events, last 7 days");
    expect(featureText("stage:mql", en)).toBe("Lifecycle stage is mql");
    expect(featureText("score:engagement", zh)).toBe("engagement 评分");
    expect(featureText("recency_days", en)).toBe("Days since the last event");
    expect(featureText("email_clicks_30d", zh)).toBe("近 30 天邮件点击数");
    expect(featureText("something_new", en)).toBe("something_new");
  });

  it("shows probabilities as percents and edits the API's 0–1 as one", () => {
    expect(percentText(0.4567, "en")).toBe("45.7%");
    expect(toPercent(0.6)).toBe(60);
    expect(toPercent(0.075)).toBe(7.5);
    expect(fromPercent(60)).toBe(0.6);
    expect(fromPercent(7.5)).toBe(0.075);
    expect(fromPercent(null)).toBeNull();
    expect(toPercent(null)).toBeNull();
  });

  it("scales the calibration chart to the largest rate, at least a tenth", () => {
    expect(axisMax(card.calibration)).toBe(0.5);
    expect(axisMax([{ low: 0, high: 0.1, contacts: 9, mean_predicted: 0.01, observed_rate: 0.02 }])).toBe(0.1);
  });

  it("explains a predicted condition with percents", () => {
    const w: ExplainWords = {
      t: en,
      opKey: (k) => ({ gte: "is at least", between: "is between" })[k] ?? k,
      unit: (u) => u,
      fn: (f) => f,
      channel: (c) => c,
      field: (f) => f,
      window: () => "",
      number: (n) => new Intl.NumberFormat("en").format(n),
      instant: (i) => i,
    };
    expect(explainSentence({ type: "predicted", model: "buyers", operator: "gte", value: 0.6, actual: 0.4567, holds: false }, w)).toBe(
      "the predicted probability in buyers is 45.7% (needed: is at least 60%)",
    );
    expect(explainSentence({ type: "predicted", model: "buyers", operator: "between", value: [0.2, 0.5], actual: null }, w)).toBe(
      "buyers has not scored this contact yet (needed: is between 20%, 50%)",
    );
  });

  it("validates the engaged threshold", () => {
    expect(thresholdError(null)).toBe("required");
    expect(thresholdError(2e12)).toBe("range");
    expect(thresholdError(40)).toBeNull();
  });
});

describe("predictive model pages", () => {
  it("lists the models with goal, algorithm, status and AUC, and creates one", async () => {
    const created = { ...buyers, id: 6, key: "trial", name: "Trial converts", status: "queued", card: null, trained_at: null, scored_at: null };
    const { calls } = server("marketer", {
      "POST /api/v1/predictive-models": json(201, created),
      "GET /api/v1/predictive-models/6": json(200, created),
    });
    const user = userEvent.setup();
    renderAt("/predictive-models");
    const row = (await screen.findByRole("link", { name: "Likely buyers" }, { timeout: 30_000 })).closest("tr") as HTMLElement;
    expect(within(row).getByText("Order Completed within 14 days")).toBeTruthy();
    expect(within(row).getByText("Gradient boosting")).toBeTruthy();
    expect(within(row).getByText("Ready")).toBeTruthy();
    expect(within(row).getByText("0.812")).toBeTruthy();
    const failed = screen.getByRole("link", { name: "Demo requests" }).closest("tr") as HTMLElement;
    expect(within(failed).getByText("Failed")).toBeTruthy();
    expect(within(failed).getByText(/too few contacts performed Demo Requested/)).toBeTruthy();
    expect(within(failed).getAllByText("Never").length).toBe(2); // trained, scored

    await user.click(screen.getByRole("button", { name: /New predictive model/ }));
    fireEvent.change(await screen.findByLabelText("Key"), { target: { value: "Trial!" } });
    fireEvent.change(screen.getByLabelText("Name"), { target: { value: "Trial converts" } });
    fireEvent.change(screen.getByLabelText("Retrain every (days)"), { target: { value: "" } });
    await user.click(screen.getByRole("button", { name: "Create" }));
    expect(await screen.findByText("Start with a lowercase letter; then only a-z, 0-9 and _")).toBeTruthy();
    expect(screen.getByText("Choose or enter the goal event")).toBeTruthy();
    expect(screen.getByText("Enter a whole number from 1 to 365")).toBeTruthy();
    fireEvent.change(screen.getByLabelText("Key"), { target: { value: "trial" } });
    fireEvent.change(screen.getByLabelText("Goal event"), { target: { value: "Subscription Started" } });
    fireEvent.change(screen.getByLabelText("Within (days)"), { target: { value: "30" } });
    fireEvent.change(screen.getByLabelText("Retrain every (days)"), { target: { value: "7" } });
    await choose(user, "Algorithm", "Logistic regression");
    await user.click(screen.getByRole("button", { name: "Create" }));
    expect(await screen.findByRole("heading", { name: "Trial converts", level: 1 })).toBeTruthy();
    expect(screen.getByText("This model has not been trained yet")).toBeTruthy();
    expect(JSON.parse(posted(calls, "POST", "/api/v1/predictive-models")[0]?.body ?? "{}")).toEqual({
      key: "trial",
      name: "Trial converts",
      description: null,
      goal: { event: "Subscription Started", within_days: 30 },
      algorithm: "logistic_regression",
      retrain_every_days: 7,
    });
  }, 90_000);

  it("trains on demand: 202 says so, a 422 shows its reason", async () => {
    const reason = "too few contacts performed Demo Requested in the holdout window (3 of 10 needed)";
    const { calls } = server("admin", {
      "POST /api/v1/predictive-models/4/train": json(202, { ...buyers, status: "queued" }),
      "POST /api/v1/predictive-models/5/train": json(422, { code: "too_few_positives", message: reason }),
    });
    const user = userEvent.setup();
    renderAt("/predictive-models");
    await user.click(await screen.findByRole("button", { name: "Train Likely buyers now" }, { timeout: 30_000 }));
    expect(await screen.findByText("Training of “Likely buyers” queued: the worker trains it in the background.")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Train Demo requests now" }));
    const alert = await screen.findByText("The model could not be trained");
    expect(within(alert.closest(".ant-alert") as HTMLElement).getByText(reason)).toBeTruthy();
    expect(posted(calls, "POST", "/api/v1/predictive-models/5/train")).toHaveLength(1);
  }, 60_000);

  it("shows the model card: quality with words, calibration, importances in words, windows, scoring", async () => {
    server("analyst");
    renderAt("/predictive-models/4");
    expect(await screen.findByRole("heading", { name: "Likely buyers", level: 1 }, { timeout: 30_000 })).toBeTruthy();
    expect(screen.getByText("0.812")).toBeTruthy();
    expect(screen.getByText("0.0912")).toBeTruthy();
    expect(screen.getByText("12.0%")).toBeTruthy();
    expect(screen.getByText(/Always predicting the base rate would score 0.1056/)).toBeTruthy();
    expect(screen.getByRole("img", { name: /Calibration: mean predicted probability/ })).toBeTruthy();
    const calibration = screen.getByRole("table", { name: "Calibration" });
    expect(within(calibration).getByText("0%–10%")).toBeTruthy();
    expect(within(calibration).getAllByText("50").length).toBeGreaterThan(0);
    const bars = screen.getByRole("list", { name: "Permutation importance per signal" });
    expect(within(bars).getByText("Pricing Viewed events, last 90 days")).toBeTruthy();
    expect(within(bars).getByText("Revenue, last 90 days")).toBeTruthy();
    expect(within(bars).queryByText("Lifecycle stage is lead")).toBeNull(); // no importance
    const windows = screen.getByRole("table", { name: "Training windows" });
    expect(within(windows).getByText("61 (12.2%)")).toBeTruthy();
    expect(screen.getByText(/500 contacts scored in 0.5 s \(1,000 per second\)/)).toBeTruthy();
    // an analyst reads: no edit controls
    expect(screen.queryByRole("button", { name: /Train now/ })).toBeNull();
  }, 60_000);

  it("explains why a failed model has no card", async () => {
    server("marketer");
    renderAt("/predictive-models/5", "zh-CN");
    expect(await screen.findByRole("heading", { name: "Demo requests", level: 1 }, { timeout: 30_000 })).toBeTruthy();
    expect(screen.getByText("该模型尚未训练")).toBeTruthy();
    expect(screen.getByText(/训练失败：too few contacts/)).toBeTruthy();
    expect(screen.getByRole("button", { name: /立即训练/ })).toBeTruthy();
  }, 60_000);
});

describe("the profile's Predictions tab", () => {
  it("shows each model's probability as a percent and its reasons in words", async () => {
    server("sales", {
      "GET /api/v1/contacts/42": json(200, {
        id: 42,
        external_id: "u42",
        email: "li@example.com",
        phone: null,
        first_name: "Li",
        last_name: null,
        lifecycle_stage: null,
        score: 0,
        timezone: null,
        locale: null,
        traits: {},
        tags: [],
        identities: [],
        created_at: at,
        updated_at: at,
      }),
      "GET /api/v1/contacts/42/events": json(200, { data: [], next: null }),
      "GET /api/v1/contacts/42/predictions": json(200, {
        data: [
          {
            model_id: 4,
            model: "buyers",
            name: "Likely buyers",
            goal: { event: "Order Completed", within_days: 14 },
            probability: 0.4567,
            scored_at: at,
            contributions: [
              { feature: "event_90d:Pricing Viewed", value: 6, contribution: 0.21 },
              { feature: "recency_days", value: 40, contribution: -0.05 },
            ],
          },
          {
            model_id: 5,
            model: "demo",
            name: "Demo requests",
            goal: { event: "Demo Requested", within_days: 30 },
            probability: null,
            scored_at: null,
            contributions: [],
          },
        ],
      }),
    });
    renderAt("/contacts/42?tab=predictions");
    expect(await screen.findByText("45.7%", undefined, { timeout: 30_000 })).toBeTruthy();
    const reasons = screen.getByRole("list", { name: "Main reasons for Likely buyers" });
    expect(within(reasons).getByText("Pricing Viewed events, last 90 days")).toBeTruthy();
    expect(within(reasons).getByText(/value 6\) — raises the probability/)).toBeTruthy();
    expect(within(reasons).getByText(/value 40\) — lowers the probability/)).toBeTruthy();
    expect(await screen.findByText(/Gradient boosting: each reason shows how the probability changes/)).toBeTruthy();
    expect(screen.getByText(/Not scored yet: the model has not been trained/)).toBeTruthy();
    expect(screen.getByRole("link", { name: "Likely buyers" }).getAttribute("href")).toBe("/predictive-models/4");
  }, 60_000);
});

describe("the segment builder's lead conditions", () => {
  it("builds a predicted condition with the probability as a percent (0–1 to the API)", async () => {
    const { calls } = server("marketer");
    const user = userEvent.setup();
    renderAt("/segments/new");
    await user.click(await screen.findByRole("button", { name: "Add condition" }, { timeout: 30_000 }));
    await user.click(await screen.findByRole("menuitem", { name: "Predicted probability" }));
    await choose(user, "Condition 1: predictive model", "Likely buyers (buyers)");
    fireEvent.change(screen.getByLabelText("Condition 1: probability (%)"), { target: { value: "60" } });
    await waitFor(
      () => {
        const last = posted(calls, "POST", "/api/v1/segments/preview").at(-1);
        expect(JSON.parse(last?.body ?? "{}").definition?.root).toEqual({
          type: "all",
          conditions: [{ type: "predicted", model: "buyers", operator: "gte", value: 0.6 }],
        });
      },
      { timeout: 5_000 },
    );
  }, 60_000);

  it("loads a saved predicted and account condition, edits both and saves them", async () => {
    const saved = {
      id: 8,
      name: "Hot education accounts",
      description: null,
      kind: "dynamic",
      definition: {
        schema_version: 1,
        root: {
          type: "all",
          conditions: [
            { type: "predicted", model: "buyers", operator: "between", value: [0.25, 0.9] },
            {
              type: "account",
              where: [
                { attribute: "traits.industry", operator: "eq", value: "Education" },
                { attribute: "score.engagement.sum", operator: "gte", value: 100 },
              ],
              members: { condition: { type: "score", model: "engagement", operator: "gte", value: 40 }, operator: ">=", value: 3 },
              present: true,
            },
          ],
        },
      },
      time_dependent: false,
      member_count: 4,
      refreshed_at: null,
      created_at: at,
      updated_at: at,
    };
    const { calls } = server("marketer", {
      "GET /api/v1/segments/8": json(200, saved),
      "PATCH /api/v1/segments/8": (r) => json(200, { ...saved, definition: JSON.parse(r.body ?? "{}").definition }),
    });
    const user = userEvent.setup();
    renderAt("/segments/8");
    const from = (await screen.findByLabelText("Condition 1: probability (%) (from)", undefined, { timeout: 30_000 })) as HTMLInputElement;
    expect(from.value).toBe("25.00");
    expect((screen.getByLabelText("Condition 1: probability (%) (to)") as HTMLInputElement).value).toBe("90.00");
    expect((screen.getByLabelText("Condition 2, account test 1: account attribute") as HTMLInputElement).value).toBe("traits.industry");
    expect((screen.getByLabelText("Condition 2, account test 2: account attribute") as HTMLInputElement).value).toBe("score.engagement.sum");
    expect((screen.getByLabelText("Condition 2: member count") as HTMLInputElement).value).toBe("3");
    expect((screen.getByLabelText("Condition 2.1: value") as HTMLInputElement).value).toBe("40");

    fireEvent.change(from, { target: { value: "50" } });
    fireEvent.change(screen.getByLabelText("Condition 2, account test 1: value"), { target: { value: "Healthcare" } });
    fireEvent.change(screen.getByLabelText("Condition 2: member count"), { target: { value: "5" } });
    await choose(user, "Condition 2: belongs or not", "belongs to no account");
    await user.click(screen.getByRole("button", { name: /Save changes/ }));
    await waitFor(() => expect(posted(calls, "PATCH", "/api/v1/segments/8")).toHaveLength(1));
    expect(JSON.parse(posted(calls, "PATCH", "/api/v1/segments/8")[0]?.body ?? "{}").definition.root.conditions).toEqual([
      { type: "predicted", model: "buyers", operator: "between", value: [0.5, 0.9] },
      {
        type: "account",
        where: [
          { attribute: "traits.industry", operator: "eq", value: "Healthcare" },
          { attribute: "score.engagement.sum", operator: "gte", value: 100 },
        ],
        members: { condition: { type: "score", model: "engagement", operator: "gte", value: 40 }, operator: ">=", value: 5 },
        present: false,
      },
    ]);
  }, 90_000);
});

describe("the engaged threshold", () => {
  it("is edited on the score model's settings, validated, and saved", async () => {
    const { calls } = server("marketer", {
      "GET /api/v1/account-scores": json(200, {
        data: [{ model: "engagement", model_name: "Engagement", engaged_threshold: 1, default: true }],
        next: null,
      }),
      "PUT /api/v1/account-scores/engagement": json(200, { model: "engagement", model_name: "Engagement", engaged_threshold: 40, default: false }),
    });
    const user = userEvent.setup();
    renderAt("/scoring/3?tab=settings");
    const input = await screen.findByLabelText("Engaged from (score)", undefined, { timeout: 30_000 });
    expect(screen.getByText("Default threshold")).toBeTruthy();
    fireEvent.change(input, { target: { value: "" } });
    const section = screen.getByRole("region", { name: "Accounts: engaged members" });
    await user.click(within(section).getByRole("button", { name: "Save" }));
    expect(await screen.findByText("Enter a score")).toBeTruthy();
    fireEvent.change(input, { target: { value: "40" } });
    await user.click(within(section).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(posted(calls, "PUT", "/api/v1/account-scores/engagement")).toHaveLength(1));
    expect(JSON.parse(posted(calls, "PUT", "/api/v1/account-scores/engagement")[0]?.body ?? "{}")).toEqual({ engaged_threshold: 40 });
  }, 60_000);
});

describe("the sales role's navigation", () => {
  it("shows a sales user their leads, tasks, contacts and accounts only", () => {
    expect(navItemsFor("sales").map((i) => i.path)).toEqual(["/contacts", "/accounts", "/leads", "/tasks"]);
    expect(navItemsFor("analyst").map((i) => i.path)).toContain("/predictive-models");
    expect(navItemsFor("marketer").map((i) => i.path)).toContain("/predictive-models");
  });

  it("refuses the pages outside their menu, but not the read-only pages their work links to", () => {
    expect(pathAllowed("sales", "/leads")).toBe(true);
    expect(pathAllowed("sales", "/contacts/5")).toBe(true);
    expect(pathAllowed("sales", "/segments")).toBe(false);
    expect(pathAllowed("sales", "/segments/new")).toBe(false);
    expect(pathAllowed("sales", "/segments/5")).toBe(true);
    expect(pathAllowed("sales", "/journeys/new")).toBe(false);
    expect(pathAllowed("sales", "/settings/workspace")).toBe(false);
    expect(pathAllowed("sales", "/predictive-models")).toBe(false);
    expect(pathAllowed("sales", "/dashboard")).toBe(false);
    expect(pathAllowed("analyst", "/leads")).toBe(true); // analysts read everything
    expect(pathAllowed("analyst", "/predictive-models/4")).toBe(true);
    expect(pathAllowed("sales", "/no-such-page")).toBe(true); // the router's "not found"
  });
});

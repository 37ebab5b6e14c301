import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/http";
import { translate } from "../../i18n/catalogs";
import "../../i18n/broadcasts";
import { actionsFor, bodyOf, emptyForm, formOf, instantOf, nextVariantName, problemOfError, problemsOf, wallClock, type Broadcast } from "./model";

const stored: Broadcast = {
  id: 7, name: "Back to school", campaign_id: 3, segment_id: 5, channel: "email", template_id: null, topic_id: null,
  send_at: null, local_date: "2026-09-01", local_time: "10:00", starts_at: "2026-08-31T20:00:00Z", status: "draft",
  experiment: { variants: [{ name: "A", template_id: 1, weight: 1 }, { name: "B", template_id: 2, weight: 1, offer_id: 4 }],
    holdout_percent: 10, test_percent: 20, metric: "click", window_hours: 6, goal_event: "Order Completed" },
  winner: null, results: null, test_ends_at: null, audience: null, queued: 0,
  progress: { queued: 0, sending: 0, sent: 0, delivered: 0, bounced: 0, failed: 0, skipped: 0 },
  snapshot_at: null, created_at: "2026-08-01T00:00:00Z", updated_at: "2026-08-01T00:00:00Z",
};

describe("the broadcast form", () => {
  it("reads a stored A/B broadcast and writes back the same body", () => {
    const form = formOf(stored, "Asia/Shanghai");
    expect(form.ab && form.shareMode === "weight" && form.schedule === "local").toBe(true);
    expect(bodyOf(form, "Asia/Shanghai")).toEqual({
      name: "Back to school", campaign_id: 3, segment_id: 5, channel: "email", topic_id: null, template_id: null,
      experiment: { variants: [{ name: "A", template_id: 1, weight: 1 }, { name: "B", template_id: 2, weight: 1, offer_id: 4 }],
        holdout_percent: 10, test_percent: 20, metric: "click", window_hours: 6, goal_event: "Order Completed" },
      send_at: null, local_date: "2026-09-01", local_time: "10:00",
    });
  });

  it("sends an instant picked in the workspace's zone in UTC, and shows it back there", () => {
    expect(instantOf("2026-09-01T10:00", "Asia/Shanghai")).toBe("2026-09-01T02:00:00Z");
    expect(wallClock("2026-09-01T02:00:00Z", "Asia/Shanghai")).toBe("2026-09-01T10:00");
    expect(instantOf("", "UTC")).toBeNull();
    const form = { ...emptyForm(), name: "x", segmentId: 1, templateId: 2, schedule: "instant" as const, sendAt: "2026-09-01T10:00" };
    expect(bodyOf(form, "America/New_York")).toMatchObject({ send_at: "2026-09-01T14:00:00Z", local_date: null, experiment: null });
  });

  it("says what is missing before anything is sent", () => {
    const fields = problemsOf(emptyForm()).map((p) => p.field);
    expect(fields).toEqual(["name", "segment", "template"]);
    const ab = { ...emptyForm(), name: "x", segmentId: 1, ab: true, shareMode: "percent" as const };
    ab.variants = ab.variants.map((v) => ({ ...v, templateId: 1, share: 40 }));
    expect(problemsOf(ab).map((p) => p.key)).toEqual(["broadcasts.error.percentTotal"]); // 40 + 40 + 10
    ab.variants[1] = { ...ab.variants[1]!, name: "A", share: 50 };
    expect(problemsOf(ab).map((p) => p.field)).toEqual(["variant.1.name"]); // 40 + 50 + 10 = 100
  });

  it("puts the server's refusal on its field", () => {
    const form = formOf(stored, null);
    const err = (code: string, message: string) => new ApiError(422, code, message);
    expect(problemOfError(err("invalid_experiment", "experiment.variants[1].template_id: must be ≥ 1"), form)?.field).toBe("variant.1.template");
    expect(problemOfError(err("invalid_experiment", "experiment.holdout_percent: less than 100"), form)?.field).toBe("holdout");
    expect(problemOfError(err("template_channel_mismatch", "template 2 is for sms, not email"), form)?.field).toBe("variant.1.template");
    expect(problemOfError(err("unknown_offer", "variant B: no offer 4"), form)?.field).toBe("variant.1.offer");
    expect(problemOfError(err("invalid_schedule", "local_date is YYYY-MM-DD"), form)?.field).toBe("schedule");
    expect(problemOfError(new ApiError(409, "broadcast_not_draft", "no"), form)).toBeNull();
  });

  it("names new variants A, B, C … and offers each status its actions", () => {
    const form = emptyForm();
    expect(nextVariantName(form.variants)).toBe("C");
    expect(actionsFor("draft")).toEqual(["schedule", "cancel"]);
    expect(actionsFor("paused")).toEqual(["resume", "cancel"]);
    expect(actionsFor("cancelled")).toEqual([]);
  });

  it("has its strings in both languages", () => {
    expect(translate("en", "broadcasts.when.local", { time: "10:00", date: "Sep 1, 2026" })).toBe("10:00 local time on Sep 1, 2026");
    expect(translate("zh-CN", "broadcasts.title")).toBe("群发");
  });
});

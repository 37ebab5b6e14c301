import { describe, expect, it } from "vitest";
import { translate } from "../../i18n";
import "../../i18n/journeys";
import { defaultTrigger, TRIGGER_KINDS } from "./graph";
import { fromPercent, percentText, triggerLabel, triggerSummary } from "./describe";
import { missingRequired } from "./schemaForm";

const en = ((key: string, params?: Record<string, string | number>) => translate("en", key as never, params)) as never;
const zh = ((key: string, params?: Record<string, string | number>) => translate("zh-CN", key as never, params)) as never;
const names = { segments: new Map<number, string>() };

// the trigger's part of GET /journeys/schema (src/kairos/journeys/definition.py PredictedTrigger)
const schema = {
  $defs: {
    PredictedTrigger: {
      properties: {
        type: { const: "predicted_crossed", default: "predicted_crossed", type: "string" },
        model: { maxLength: 100, minLength: 1, type: "string" },
        threshold: { exclusiveMaximum: 1, exclusiveMinimum: 0, type: "number" },
        direction: { default: "up", enum: ["up", "down"], type: "string" },
      },
      required: ["model", "threshold"],
      type: "object",
    },
  },
};

describe("the predicted_crossed trigger on the canvas", () => {
  it("is offered, starts at 50% upward, and is named in both languages", () => {
    expect(TRIGGER_KINDS).toContain("predicted_crossed");
    expect(defaultTrigger("predicted_crossed")).toEqual({ type: "predicted_crossed", model: "", threshold: 0.5, direction: "up" });
    expect(triggerLabel("predicted_crossed", en)).toBe("Predicted probability crosses a threshold");
    expect(triggerLabel("predicted_crossed", zh)).toBe("预测概率越过阈值");
  });

  it("describes the model, the threshold as a percentage and the direction on the node", () => {
    const trigger = { ...defaultTrigger("predicted_crossed"), model: "buyers", threshold: 0.35 };
    expect(triggerSummary(trigger, en, names)).toBe("buyers probability rises to 35% or more");
    expect(triggerSummary({ ...trigger, direction: "down", threshold: 0.125 }, en, names)).toBe("buyers probability falls below 12.5%");
    expect(triggerSummary(trigger, zh, names)).toBe("buyers 概率升至 35% 及以上");
    // nothing to say until a model is chosen
    expect(triggerSummary(defaultTrigger("predicted_crossed"), en, names)).toBe("");
  });

  it("sends the percentage typed as a probability, without float noise", () => {
    expect(fromPercent(35)).toBe(0.35);
    expect(fromPercent(12.5)).toBe(0.125);
    expect(fromPercent(0.1)).toBe(0.001);
    expect(percentText(0.07)).toBe("7%");
    expect(percentText(fromPercent(57.3))).toBe("57.3%");
  });

  it("is not saved without a model or a threshold", () => {
    expect(missingRequired(schema, "PredictedTrigger", defaultTrigger("predicted_crossed"))).toEqual(["model"]);
    expect(missingRequired(schema, "PredictedTrigger", { type: "predicted_crossed", model: "buyers" })).toEqual(["threshold"]);
    expect(missingRequired(schema, "PredictedTrigger", { type: "predicted_crossed", model: "buyers", threshold: 0.2 })).toEqual([]);
  });
});

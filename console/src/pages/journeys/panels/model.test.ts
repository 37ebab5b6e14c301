import { describe, expect, it } from "vitest";
import { nodeOrder } from "./labels";
import {
  conversionRate,
  emptyForm,
  journeyEventNames,
  messageGist,
  nodesElsewhere,
  simulationOverlays,
  simulationRequest,
  statsOverlays,
  traitValue,
  zonedToUtc,
} from "./model";
import { TRIGGER_NODE_ID } from "./overlay";
import { definition, simulation, stats } from "./testFixtures";

describe("statsOverlays", () => {
  it("gives every node of the definition its figures (zero where nobody came), and the trigger the entries", () => {
    const overlays = statsOverlays(stats, definition);
    expect(overlays.pause).toEqual({ stats: { entered: 10, current: 2, passed: 8, converted: 0, exited: 0 } });
    expect(overlays.opened?.stats?.converted).toBe(1);
    expect(overlays.reminder).toEqual({ stats: { entered: 0, current: 0, passed: 0, converted: 0, exited: 0 } });
    expect(overlays[TRIGGER_NODE_ID]).toEqual({ stats: { entered: 10, current: 0, passed: 10, converted: 0, exited: 0 } });
    expect(overlays.old_step).toBeUndefined();
  });

  it("lists the figures of nodes the definition does not have", () => {
    expect(nodesElsewhere(stats, definition).map(([id]) => id)).toEqual(["old_step"]);
  });

  it("rates conversion on entries, none before anyone entered", () => {
    expect(conversionRate(stats.totals)).toBe(0.1);
    expect(conversionRate({ entered: 0, active: 0, completed: 0, converted: 0, exited: 0 })).toBeNull();
  });
});

const words = {
  waitsUntil: (iso: string) => `until ${iso}`,
  waitsFor: (event: string) => `for ${event}`,
  message: (channel: string, gist: string) => `${channel}: ${gist}`,
};

describe("simulationOverlays", () => {
  it("lights the path, the node it is still at, waits' ends and messages' first words", () => {
    const overlays = simulationOverlays(simulation, words);
    expect(overlays[TRIGGER_NODE_ID]).toEqual({ highlight: "path" });
    expect(overlays.pause).toEqual({ highlight: "path", notes: ["until 2026-03-03T12:00:00Z"] });
    expect(overlays.welcome).toEqual({ highlight: "path", notes: ["email: Welcome aboard, Ann — here is…"] });
    expect(overlays.opened).toEqual({ highlight: "current", notes: ["until 2026-03-05T12:00:00Z"] });
    expect(overlays.reminder).toBeUndefined();
  });

  it("marks the end where the enrollment ended, and lights nothing when the contact did not enter", () => {
    const ended = { ...simulation, final: { state: "converted" as const, node: "opened", exit_reason: "goal", resume_at: null, ended_at: "2026-03-04T00:00:00Z" } };
    expect(simulationOverlays(ended, words).opened?.highlight).toBe("end");
    // a completed enrollment names no node: its last step is where it ended
    const completed = { ...simulation, final: { state: "completed" as const, node: null, exit_reason: null, resume_at: null, ended_at: "2026-03-04T00:00:00Z" } };
    expect(simulationOverlays(completed, words).opened?.highlight).toBe("end");
    expect(simulationOverlays(completed, words).welcome?.highlight).toBe("path");
    expect(simulationOverlays({ ...simulation, entered: false, reason: "reentry_never", path: [], waits: [], messages: [], final: null }, words)).toEqual({});
  });
});

describe("messageGist", () => {
  it("takes the subject, title or text, else the JSON of a payload", () => {
    const m = simulation.messages[0]!;
    expect(messageGist({ ...m, content: { text: "Your code is 1234" } })).toBe("Your code is 1234");
    expect(messageGist({ ...m, content: { payload: { a: 1 } } })).toBe('{"a":1}');
    expect(messageGist({ ...m, content: null })).toBeNull();
  });
});

describe("simulationRequest", () => {
  it("builds a hypothetical contact with typed traits, the timeline and until", () => {
    const form = emptyForm("live");
    form.contact = {
      email: " ann@example.com ",
      phone: "",
      first_name: "Ann",
      timezone: "Asia/Shanghai",
      traits: [
        { key: "plan", value: "pro" },
        { key: "seats", value: "42" },
        { key: "", value: "ignored" },
      ],
      tags: ["vip", " "],
    };
    form.events = [
      { id: 1, mode: "after", amount: 2, unit: "hours", instant: null, event: "Email Opened", properties: "" },
      { id: 2, mode: "at", amount: null, unit: "days", instant: "2026-03-05T09:30", event: "Order Completed", properties: '{"total": 42}' },
    ];
    form.untilAmount = 2;
    form.untilUnit = "weeks";
    const { body, problems } = simulationRequest(form, "api", "Asia/Shanghai");
    expect(problems).toEqual([]);
    expect(body).toEqual({
      version: "live",
      contact: { email: "ann@example.com", phone: null, first_name: "Ann", timezone: "Asia/Shanghai", traits: { plan: "pro", seats: 42 }, tags: ["vip"] },
      events: [
        { at: { amount: 2, unit: "hours" }, event: "Email Opened", properties: {} },
        { at: "2026-03-05T01:30:00.000Z", event: "Order Completed", properties: { total: 42 } },
      ],
      until: { amount: 2, unit: "weeks" },
    });
  });

  it("names the fields to correct: no contact chosen, bad JSON, no event name, until not positive", () => {
    const form = emptyForm("draft");
    form.who = "real";
    form.events = [{ id: 1, mode: "after", amount: 1, unit: "days", instant: null, event: " ", properties: "[1]" }];
    form.untilAmount = 0;
    form.payload = "{oops";
    form.triggerEvent = '{"sku": "A"}';
    const { body, problems } = simulationRequest(form, "api", null);
    expect(body).toBeNull();
    expect(problems).toEqual([
      { field: "contact", problem: "required" },
      { field: "events.0.event", problem: "required" },
      { field: "events.0.properties", problem: "jsonObject" },
      { field: "until", problem: "positive" },
      { field: "payload", problem: "json" },
    ]);
  });

  it("sends a real contact's id, and the entering event's properties for event triggers only", () => {
    const form = { ...emptyForm("draft"), who: "real" as const, contactId: 42, triggerEvent: '{"sku": "A"}' };
    expect(simulationRequest(form, "event", null).body).toEqual({
      version: "draft",
      contact_id: 42,
      events: [],
      until: { amount: 30, unit: "days" },
      trigger_event: { properties: { sku: "A" } },
    });
    expect(simulationRequest(form, "api", null).body).not.toHaveProperty("trigger_event");
  });
});

describe("helpers", () => {
  it("types trait values that read as JSON", () => {
    expect([traitValue("42"), traitValue("true"), traitValue('["a"]'), traitValue("pro"), traitValue("4 2"), traitValue("")]).toEqual([
      42,
      true,
      ["a"],
      "pro",
      "4 2",
      "",
    ]);
  });

  it("reads a wall-clock time in a time zone, across daylight saving", () => {
    expect(zonedToUtc("2026-03-05T09:30", "Asia/Shanghai")).toBe("2026-03-05T01:30:00.000Z");
    expect(zonedToUtc("2026-07-01T09:00", "America/New_York")).toBe("2026-07-01T13:00:00.000Z");
    expect(zonedToUtc("2026-01-01T09:00", "America/New_York")).toBe("2026-01-01T14:00:00.000Z");
    expect(zonedToUtc("2026-01-01T09:00", "UTC")).toBe("2026-01-01T09:00:00.000Z");
    expect(zonedToUtc("not a time", "UTC")).toBeNull();
  });

  it("lists the events a journey listens for, and its nodes from the start along the branches", () => {
    expect(journeyEventNames(definition)).toEqual(["Email Opened", "Order Completed", "Unsubscribed"]);
    expect(nodeOrder(definition)).toEqual(["pause", "welcome", "opened", "engaged", "reminder"]);
  });
});

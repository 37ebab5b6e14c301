// Answers of the API for the panels' tests.
import type { JourneyStats, SimulationRead } from "./model";

export const definition = {
  schema_version: 1,
  trigger: { type: "api" },
  goal: { event: "Order Completed" },
  exit_on: [{ event: "Unsubscribed" }],
  start: "pause",
  nodes: {
    pause: { type: "wait", duration: { amount: 1, unit: "days" }, next: "welcome" },
    welcome: { type: "send", channel: "email", template_id: 1, next: "opened" },
    opened: { type: "wait_for_event", event: "Email Opened", timeout: { amount: 2, unit: "days" }, next: "engaged", timeout_next: "reminder" },
    engaged: { type: "update_contact", add_tags: ["engaged"], next: null },
    reminder: { type: "send", channel: "sms", template_id: 2, next: null },
  },
};

const node = (entered: number, current = 0, passed = 0, converted = 0, exited = 0) => ({
  entered,
  current,
  passed,
  converted,
  exited,
  outcomes: {},
});

export const stats: JourneyStats = {
  version: 2,
  live_version: 2,
  nodes: { pause: node(10, 2, 8), welcome: node(8, 0, 8), opened: node(8, 3, 4, 1), old_step: node(4, 1, 3) },
  totals: { entered: 10, active: 5, completed: 3, converted: 1, exited: 1 },
};

export const simulation: SimulationRead = {
  journey_id: 4,
  version: "draft",
  contact_id: null,
  start: "2026-03-02T12:00:00Z",
  until: "2026-04-01T12:00:00Z",
  entered: true,
  reason: null,
  path: [
    { at: "2026-03-02T12:00:00Z", node: "pause", type: "wait", outcome: "waiting", message: null },
    { at: "2026-03-03T12:00:00Z", node: "pause", type: "wait", outcome: "next", message: null },
    { at: "2026-03-03T12:00:00Z", node: "welcome", type: "send", outcome: "next", message: 0 },
    { at: "2026-03-03T12:00:00Z", node: "opened", type: "wait_for_event", outcome: "waiting", message: null },
  ],
  waits: [
    { node: "pause", type: "wait", from: "2026-03-02T12:00:00Z", until: "2026-03-03T12:00:00Z", event: null, ended_at: "2026-03-03T12:00:00Z", outcome: "next" },
    { node: "opened", type: "wait_for_event", from: "2026-03-03T12:00:00Z", until: "2026-03-05T12:00:00Z", event: "Email Opened", ended_at: null, outcome: null },
  ],
  messages: [
    {
      node: "welcome",
      at: "2026-03-03T12:00:00Z",
      channel: "email",
      template_id: 1,
      topic_id: null,
      transactional: false,
      status: "would_send",
      to: "ann@example.com",
      content: { subject: "Welcome aboard,   Ann — here is everything you need to get started", html: "<p>Hi</p>", text: "Hi" },
      error: null,
      warning: null,
    },
  ],
  final: { state: "active", node: "opened", exit_reason: null, resume_at: "2026-03-05T12:00:00Z", ended_at: null },
  truncated: false,
  notes: [],
};

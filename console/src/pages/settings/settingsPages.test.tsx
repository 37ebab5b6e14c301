import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AppRoutes } from "../../routes";
import { DateTime } from "../../components/DateTime";
import { json, mockFetch } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import { fieldsOf, secretsBody, settingsBody, settingsValues } from "./channelForm";
import { testProviders } from "./testProviders";

const smtpChannel = {
  id: 4,
  name: "Newsletter mail",
  kind: "email",
  provider: "smtp",
  settings: {
    host: "smtp.example.com",
    port: 587,
    security: "starttls",
    username: "apikey",
    from_email: "news@shop.example",
    from_name: "Shop",
    reply_to: null,
    helo_name: null,
    connections: 2,
    verify_tls: true,
    ca_pem: null,
    timeout: 30,
    max_messages_per_connection: 1000,
  },
  secrets_set: ["password"],
  is_default: true,
  rate_limit: null,
  paused_until: null,
  pause_reason: null,
  report_url: "http://kairos.test/hooks/reports/abc",
  created_at: "2026-03-01T00:00:00Z",
  updated_at: "2026-03-01T00:00:00Z",
};

const channelRoutes = {
  "GET /api/v1/channels": json(200, { data: [smtpChannel], next: null }),
  "GET /api/v1/channels/providers": json(200, { data: testProviders, next: null }),
};

describe("channels", () => {
  it("builds the form from the provider's schema; a secret is never shown and a blank one is not sent", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      ...channelRoutes,
      "PATCH /api/v1/channels/4": json(200, { ...smtpChannel, name: "Mail" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/channels" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Edit Newsletter mail" }));
    const drawer = await screen.findByRole("dialog");
    // settings from the schema, with their values
    expect((within(drawer).getByLabelText("Server") as HTMLInputElement).value).toBe("smtp.example.com");
    expect(within(drawer).getByLabelText("Port")).toBeTruthy();
    expect(within(drawer).getByLabelText("Check the server's certificate")).toBeTruthy();
    // the stored password: an empty input saying it is kept
    const password = within(drawer).getByLabelText("Password or API key") as HTMLInputElement;
    expect(password.value).toBe("");
    expect(password.placeholder).toBe("Set — leave blank to keep");
    expect(within(drawer).getByText("A value is set.")).toBeTruthy();

    const name = within(drawer).getByLabelText("Name");
    await user.clear(name);
    await user.type(name, "Mail");
    await user.click(within(drawer).getByRole("button", { name: "Save" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    const body = JSON.parse(calls.find((c) => c.method === "PATCH")?.body ?? "{}") as Record<string, unknown>;
    expect(body.name).toBe("Mail");
    expect(body).not.toHaveProperty("secrets");
    expect((body.settings as Record<string, unknown>).host).toBe("smtp.example.com");
    expect(body.rate_limit).toBeNull();
  });

  it("sends a typed secret once and shows the API's 422 on the field it names", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      "GET /api/v1/channels": json(200, { data: [], next: null }),
      "GET /api/v1/channels/providers": json(200, { data: testProviders, next: null }),
      "POST /api/v1/channels": json(422, {
        code: "invalid_channel_config",
        message: "settings.from_email: value is not a valid email address",
      }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/channels" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: /New channel/ }));
    const drawer = await screen.findByRole("dialog");
    await user.type(within(drawer).getByLabelText("Name"), "Mail");
    await user.click(within(drawer).getByRole("button", { name: "Create channel" }));
    // required settings are asked for before anything is sent
    expect(await within(drawer).findAllByText("Required")).toHaveLength(2);
    expect(calls.some((c) => c.method === "POST")).toBe(false);

    await user.type(within(drawer).getByLabelText("Server"), "smtp.example.com");
    await user.type(within(drawer).getByLabelText("From address"), "not-an-address");
    await user.type(within(drawer).getByLabelText("Password or API key"), "s3cret-pass");
    await user.click(within(drawer).getByRole("button", { name: "Create channel" }));
    expect(await within(drawer).findByText("settings.from_email: value is not a valid email address")).toBeTruthy();
    const body = JSON.parse(calls.find((c) => c.method === "POST")?.body ?? "{}") as Record<string, Record<string, unknown>>;
    expect(body.provider).toBe("smtp");
    expect(body.secrets).toEqual({ password: "s3cret-pass" });
    expect(body.settings?.port).toBe(587); // the schema's default
    expect(body.settings?.username).toBeNull();
  });

  it("verifies a channel and shows what failed", async () => {
    let attempt = 0;
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      ...channelRoutes,
      "POST /api/v1/channels/4/verify": () =>
        ++attempt === 1
          ? json(422, { code: "smtp_unreachable", message: "smtp.example.com:587: connection refused" })
          : json(204, null),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/channels" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Verify Newsletter mail" }));
    expect(await screen.findByText(/connection refused/)).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Verify Newsletter mail" }));
    expect(await screen.findByText("Verified: the provider answered")).toBeTruthy();
  });

  it("shows an analyst the channels without any edit control", async () => {
    mockFetch({ "GET /api/v1/session": json(200, sessionFor("analyst")), ...channelRoutes });
    renderWithProviders(<AppRoutes />, { path: "/settings/channels" });
    expect(await screen.findByText("Newsletter mail")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /New channel/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Verify|Edit|Delete/ })).toBeNull();
    expect(screen.getByText("Only admins can change these settings.")).toBeTruthy();
  });
});

describe("channel form model", () => {
  const [smtp, webhook] = testProviders;
  it("reads every settings field of the schema with its kind", () => {
    const fields = fieldsOf(smtp!.settings_schema);
    const kinds = Object.fromEntries(fields.map((f) => [f.name, f.kind]));
    expect(kinds).toMatchObject({ host: "string", port: "integer", security: "enum", verify_tls: "boolean", ca_pem: "text", timeout: "number" });
    expect(fields.find((f) => f.name === "host")?.required).toBe(true);
    expect(fields.find((f) => f.name === "username")?.nullable).toBe(true);
    expect(fieldsOf(webhook!.settings_schema).find((f) => f.name === "headers")?.kind).toBe("map");
  });

  it("sends header rows as an object and leaves blank secrets out", () => {
    const settings = fieldsOf(webhook!.settings_schema);
    const values = settingsValues(settings, { url: "https://crm.example/hook", headers: { "X-Tenant": "acme" }, timeout: null });
    expect(settingsBody(settings, values).body).toEqual({ url: "https://crm.example/hook", headers: { "X-Tenant": "acme" }, timeout: null });
    const secrets = fieldsOf(webhook!.secrets_schema);
    const typed = { signing_secret: "", headers: [["Authorization", "Bearer x"]] as [string, string][] };
    expect(secretsBody(secrets, typed, () => true).body).toEqual({ headers: { Authorization: "Bearer x" } });
    expect(secretsBody(secrets, { signing_secret: "", headers: [] }, () => false).body).toEqual({});
  });
});

const topic = {
  id: 2,
  key: "newsletter",
  name: "Newsletter",
  description: "Monthly news",
  channel: "email",
  opt_in: true,
  double_opt_in: false,
  confirmation_template_id: null,
  created_at: "2026-03-01T00:00:00Z",
};

describe("consent topics", () => {
  it("creates a topic and shows the API's refusal on the key", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("marketer")),
      "GET /api/v1/topics": json(200, { data: [topic], next: null }),
      "POST /api/v1/topics": json(409, { code: "topic_exists", message: "a topic with key 'newsletter' exists" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/topics" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: /New topic/ }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText("Key"), "Bad Key");
    await user.type(within(dialog).getByLabelText("Name"), "News");
    await user.click(within(dialog).getByRole("button", { name: "Create topic" }));
    expect(await within(dialog).findByText(/Start with a lower-case letter/)).toBeTruthy();
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    await user.clear(within(dialog).getByLabelText("Key"));
    await user.type(within(dialog).getByLabelText("Key"), "newsletter");
    await user.click(within(dialog).getByLabelText(/Opt-in: only contacts who subscribed/));
    await user.click(within(dialog).getByRole("button", { name: "Create topic" }));
    expect(await within(dialog).findByText("A topic with this key already exists.")).toBeTruthy();
    expect(JSON.parse(calls.find((c) => c.method === "POST")?.body ?? "{}")).toEqual({
      key: "newsletter",
      name: "News",
      description: null,
      channel: null,
      opt_in: true,
      double_opt_in: false,
      confirmation_template_id: null,
    });
  });

  it("shows an analyst the topics without edit buttons", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/topics": json(200, { data: [topic], next: null }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/topics" });
    expect(await screen.findByText("Monthly news")).toBeTruthy();
    expect(screen.getByText("Opt-in")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /New topic|Edit|Delete/ })).toBeNull();
  });
});

const workspace = {
  id: 7,
  name: "Acme",
  time_zone: "UTC",
  default_country: null,
  currency: null,
  sandbox: false,
  created_at: "2026-03-01T00:00:00Z",
};

describe("workspace", () => {
  it("sends only what changed and shows the API's 422 on the field", async () => {
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      "GET /api/v1/workspace": json(200, workspace),
      "PATCH /api/v1/workspace": json(422, {
        code: "invalid_currency",
        message: "currency: an ISO 4217 currency code such as USD or BRL",
      }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/workspace" });
    const user = userEvent.setup();
    const name = await screen.findByLabelText("Name");
    await user.clear(name);
    await user.type(name, "Acme China");
    await user.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    expect(JSON.parse(calls.find((c) => c.method === "PATCH")?.body ?? "{}")).toEqual({ name: "Acme China" });
    expect(await screen.findByText("currency: an ISO 4217 currency code such as USD or BRL")).toBeTruthy();
  });

  it("shows a marketer the settings as text, with no form", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("marketer")),
      "GET /api/v1/workspace": json(200, { ...workspace, time_zone: "Asia/Shanghai", default_country: "CN", currency: "CNY" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/workspace" });
    expect(await screen.findByText("Asia/Shanghai (UTC+08:00)")).toBeTruthy();
    expect(screen.getByText("CN — China")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Save" })).toBeNull();
    expect(screen.queryByRole("textbox")).toBeNull();
  });
});

describe("messaging policy", () => {
  it("saves caps and quiet hours without touching the workspace's time zone", async () => {
    const policy = { frequency_caps: [{ channel: null, limit: 2, days: 7 }], quiet_hours: null, timezone: "Europe/Paris" };
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin")),
      "GET /api/v1/messaging/policy": json(200, policy),
      "GET /api/v1/channels": json(200, { data: [], next: null }),
      "PUT /api/v1/messaging/policy": (request) => json(200, { ...JSON.parse(request.body ?? "{}"), timezone: "Europe/Paris" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/messaging" });
    const user = userEvent.setup();
    expect(await screen.findByText(/Europe\/Paris/)).toBeTruthy();
    expect(screen.getByRole("link", { name: "Change it in the workspace settings" }).getAttribute("href")).toBe("/settings/workspace");
    await user.click(screen.getByRole("button", { name: /Add cap/ }));
    const period = screen.getByLabelText("Cap 2: period");
    await user.clear(period);
    await user.type(period, "12");
    await user.click(screen.getByLabelText("Cap 2: unit"));
    await user.click(await screen.findByTitle("hours"));
    await user.click(screen.getByRole("switch"));
    await user.click(screen.getByRole("button", { name: "Save policy" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PUT")).toBe(true));
    const body = JSON.parse(calls.find((c) => c.method === "PUT")?.body ?? "{}") as Record<string, unknown>;
    expect(body).not.toHaveProperty("timezone");
    expect(body.frequency_caps).toEqual([
      { channel: null, limit: 2, days: 7 },
      { channel: null, limit: 2, days: 0.5 },
    ]);
    expect(body.quiet_hours).toEqual({ start: "21:00", end: "09:00", channels: ["email", "sms", "push", "wechat"] });
  });

  it("shows an analyst the policy as text", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/messaging/policy": json(200, {
        frequency_caps: [{ channel: "sms", limit: 1, days: 0.5 }],
        quiet_hours: { start: "22:00:00", end: "08:00:00", channels: ["sms"] },
        timezone: "UTC",
      }),
      "GET /api/v1/channels": json(200, { data: [smtpChannel], next: null }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/messaging" });
    expect(await screen.findByText("SMS: at most 1 marketing message(s) in 12 hour(s)")).toBeTruthy();
    expect(screen.getByText("From 22:00 until 08:00, on SMS.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Save|Add cap/ })).toBeNull();
    expect(screen.queryByLabelText("Rate limit of Newsletter mail")).toBeNull();
  });
});

describe("attributes", () => {
  it("reports what declaring would convert, then declares on confirmation", async () => {
    const conversion = { contacts_with_value: 3, converted: 2, already_typed: 0, unconvertible: 1, unconvertible_contact_ids: [41] };
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("marketer")),
      "GET /api/v1/attributes": json(200, { data: [], next: null }),
      "POST /api/v1/attributes": (request) =>
        JSON.parse(request.body ?? "{}").dry_run
          ? json(200, { name: "seats", type: "number", dry_run: true, conversion })
          : json(201, { id: 1, name: "seats", type: "number", label: null, description: null, created_at: "2026-03-01T00:00:00Z", conversion }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/attributes" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: /New attribute/ }));
    const dialog = await screen.findByRole("dialog");
    await user.type(within(dialog).getByLabelText("Name"), "seats");
    await user.click(within(dialog).getByLabelText("Type"));
    await user.click(await screen.findByTitle("Number"));
    await user.click(within(dialog).getByRole("button", { name: "Create attribute" }));
    expect(await within(dialog).findByText("3 contact(s) hold a value:")).toBeTruthy();
    expect(within(dialog).getByRole("link", { name: "#41" }).getAttribute("href")).toBe("/contacts/41");
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
    await user.click(within(dialog).getByRole("button", { name: /Declare it/ }));
    await waitFor(() => expect(calls.filter((c) => c.method === "POST")).toHaveLength(2));
    expect(JSON.parse(calls.filter((c) => c.method === "POST")[1]?.body ?? "{}")).toEqual({
      name: "seats",
      type: "number",
      label: null,
      description: null,
      dry_run: false,
    });
  });

  it("shows an analyst the definitions without edit buttons", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("analyst")),
      "GET /api/v1/attributes": json(200, {
        data: [{ id: 1, name: "plan", type: "string", label: "Plan", description: "Billing plan", created_at: "2026-03-01T00:00:00Z" }],
        next: null,
      }),
    });
    renderWithProviders(<AppRoutes />, { path: "/settings/attributes" });
    expect(await screen.findByText("Billing plan")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /New attribute|Edit/ })).toBeNull();
  });
});

describe("dates", () => {
  it("are shown in the workspace's time zone", async () => {
    mockFetch({
      "GET /api/v1/session": json(200, sessionFor("admin", {
        workspaces: [{ id: 7, name: "Acme", role: "admin", approver: true, sandbox: false, time_zone: "Asia/Shanghai" }],
      })),
    });
    renderWithProviders(<DateTime value="2026-03-01T23:30:00Z" />);
    const time = await screen.findByText(/Mar 2, 2026/);
    expect(time.textContent).toMatch(/7:30/);
    expect(time.getAttribute("title")).toBe("2026-03-01T23:30:00Z (Asia/Shanghai)");
  });
});

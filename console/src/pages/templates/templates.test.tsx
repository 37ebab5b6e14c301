import { describe, expect, it } from "vitest";
import { act, renderHook, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { EditorView } from "@codemirror/view";
import { currentCompletions, startCompletion } from "@codemirror/autocomplete";
import type { ReactNode } from "react";
import { MemoryRouter } from "react-router";
import { AppProviders, createQueryClient } from "../../AppProviders";
import { SessionProvider } from "../../auth/SessionProvider";
import { setWorkspaceId } from "../../api/state";
import { navItemsFor } from "../../layout/AppShell";
import { AppRoutes } from "../../routes";
import { json, mockFetch, type Recorded } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";
import { PREVIEW_DEBOUNCE_MS, useDraftPreview, type DraftPreviewRequest } from "./useDraftPreview";

// What jsdom lacks and CodeMirror measures text with.
if (!Range.prototype.getClientRects) {
  Range.prototype.getClientRects = () => Object.assign([], { item: () => null }) as unknown as DOMRectList;
  Range.prototype.getBoundingClientRect = () => new DOMRect();
}

const EMAIL = {
  id: 5,
  name: "Spring sale",
  channel: "email",
  fields: { subject: "Hello {{ contact.first_name }}", format: "html", body: "<p>Hi {{ contact.first_name }}</p>" },
  version: 2,
  created_at: "2026-03-01T00:00:00Z",
  updated_at: "2026-03-02T00:00:00Z",
};
const SMS = { ...EMAIL, id: 6, name: "Reminder", channel: "sms", fields: { text: "Hi" }, version: 1 };
const CONTACT = {
  id: 42,
  external_id: "u-42",
  email: "mei@example.com",
  phone: null,
  first_name: "Mei",
  last_name: "Lin",
  timezone: null,
  locale: null,
  lifecycle_stage: null,
  score: 0,
  traits: {},
  tags: [],
  created_at: "2026-03-01T00:00:00Z",
  updated_at: "2026-03-01T00:00:00Z",
};
const empty = { data: [], next: null };

function server(role: "admin" | "marketer" | "analyst", extra: Parameters<typeof mockFetch>[0] = {}) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor(role)),
    "GET /api/v1/templates": json(200, { data: [EMAIL, SMS], next: null }),
    "GET /api/v1/templates/5": json(200, EMAIL),
    "GET /api/v1/attributes": json(200, empty),
    "GET /api/v1/computed-traits": json(200, empty),
    "GET /api/v1/offers": json(200, empty),
    "GET /api/v1/contacts": json(200, { data: [CONTACT], next: null }),
    "POST /api/v1/templates/preview": (r) => {
      const body = JSON.parse(r.body ?? "{}") as { fields: { subject?: string } };
      return json(200, { content: { subject: (body.fields.subject ?? "").replace("{{ contact.first_name }}", "Mei"), html: "<p>Hi Mei</p>", text: "Hi Mei" } });
    },
    ...extra,
  });
}

const previews = (calls: Recorded[]) => calls.filter((c) => c.method === "POST" && c.url.pathname === "/api/v1/templates/preview");

/** The CodeMirror editor of a field (found by its test id), to type into as a user would. */
async function editor(testId: string): Promise<EditorView> {
  const content = await screen.findByTestId(testId, {}, { timeout: 10_000 });
  const view = EditorView.findFromDOM(content);
  if (!view) throw new Error(`no editor for ${testId}`);
  return view;
}
function replaceText(view: EditorView, text: string) {
  act(() => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text }, userEvent: "input.type" }));
}

describe("templates menu and list", () => {
  it("adds Templates under Content for every role", () => {
    for (const role of ["admin", "marketer", "analyst"] as const) {
      expect(navItemsFor(role).find((i) => i.path === "/templates")?.group).toBe("nav.content");
    }
  });

  it("lists templates, filters by channel, and hides edit controls from analysts", async () => {
    server("analyst");
    renderWithProviders(<AppRoutes />, { path: "/templates" });
    expect(await screen.findByRole("heading", { level: 1, name: "Templates" })).toBeTruthy();
    expect(await screen.findByRole("link", { name: "Spring sale" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Reminder" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: /New template/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Delete/ })).toBeNull();

    const user = userEvent.setup();
    await user.click(screen.getByText("SMS (1)"));
    await waitFor(() => expect(screen.queryByRole("link", { name: "Spring sale" })).toBeNull());
    expect(screen.getByRole("link", { name: "Reminder" })).toBeTruthy();
  });

  it("deletes a template after asking", async () => {
    const { calls } = server("marketer", { "DELETE /api/v1/templates/6": json(204, null) });
    renderWithProviders(<AppRoutes />, { path: "/templates" });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Delete Reminder" }));
    const dialog = await screen.findByRole("dialog");
    expect(within(dialog).getAllByText("Delete the template “Reminder”?").length).toBeGreaterThan(0);
    await user.click(within(dialog).getByRole("button", { name: /Delete/ }));
    await waitFor(() => expect(calls.some((c) => c.method === "DELETE" && c.url.pathname === "/api/v1/templates/6")).toBe(true));
  });
});

describe("template editor", () => {
  it("saves a change of name and subject as one PATCH, and shows the new version", async () => {
    const { calls } = server("marketer", {
      "PATCH /api/v1/templates/5": (r) => {
        const body = JSON.parse(r.body ?? "{}") as { name: string; fields: typeof EMAIL.fields };
        return json(200, { ...EMAIL, name: body.name, fields: body.fields, version: 3, updated_at: "2026-03-03T00:00:00Z" });
      },
    });
    renderWithProviders(<AppRoutes />, { path: "/templates/5" });
    expect(await screen.findByRole("heading", { level: 1, name: "Spring sale" })).toBeTruthy();
    expect(screen.getByTestId("template-version").textContent).toBe("Version 2");
    const save = screen.getByRole("button", { name: /Save/ });
    expect((save as HTMLButtonElement).disabled).toBe(true); // nothing changed yet

    const user = userEvent.setup();
    await user.clear(screen.getByLabelText("Template name"));
    await user.type(screen.getByLabelText("Template name"), "Spring sale 2026");
    replaceText(await editor("field-subject"), "{{ contact.first_name }}, the sale starts now");
    expect(await screen.findByText("Unsaved changes")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: /Save/ }));

    await waitFor(() => expect(screen.getByTestId("template-version").textContent).toBe("Version 3"));
    const patches = calls.filter((c) => c.method === "PATCH");
    expect(patches).toHaveLength(1);
    expect(JSON.parse(patches[0]?.body ?? "{}")).toEqual({
      name: "Spring sale 2026",
      fields: { subject: "{{ contact.first_name }}, the sale starts now", format: "html", body: "<p>Hi {{ contact.first_name }}</p>" },
    });
    expect(patches[0]?.headers.get("X-CSRF-Token")).toBe("csrf-123");
    expect(await screen.findByText("Saved as version 3")).toBeTruthy();
  }, 40_000);

  it("previews the draft for the workspace's first contact, in a sandboxed frame without scripts", async () => {
    const { calls } = server("marketer");
    renderWithProviders(<AppRoutes />, { path: "/templates/5" });
    const frame = (await screen.findByTitle("Email preview for Mei Lin", {}, { timeout: 10_000 })) as HTMLIFrameElement;
    expect(frame.getAttribute("sandbox")).toBe("");
    expect(frame.getAttribute("srcdoc")).toBe("<p>Hi Mei</p>");
    expect(screen.getByTestId("preview-subject").textContent).toBe("Hello Mei");
    const [first] = previews(calls);
    expect(JSON.parse(first?.body ?? "{}")).toEqual({
      channel: "email",
      fields: EMAIL.fields,
      contact_id: 42,
      offer_id: null,
      strict: true,
      tracking: false,
    });
    // contact data is text everywhere else: the subject is not parsed as HTML
    expect(document.querySelectorAll("p").length).toBeGreaterThan(0);
  });

  it("shows a 422 on the field it names", async () => {
    server("marketer", {
      "POST /api/v1/templates/preview": json(422, { code: "template_invalid", message: "subject: expected '}}', found end of file (line 1)" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/templates/5" });
    expect(await screen.findByText("The template has an error")).toBeTruthy();
    const content = await editor("field-subject");
    await waitFor(() => expect(content.contentDOM.getAttribute("aria-invalid")).toBe("true"));
    expect(screen.getAllByText("subject: expected '}}', found end of file (line 1)").length).toBeGreaterThanOrEqual(1);
  });

  it("creates a template from a starter with its fields", async () => {
    const { calls } = server("marketer", {
      "POST /api/v1/templates": (r) => json(201, { ...EMAIL, id: 9, ...(JSON.parse(r.body ?? "{}") as object), version: 1 }),
      "GET /api/v1/templates/9": json(200, { ...EMAIL, id: 9 }),
    });
    renderWithProviders(<AppRoutes />, { path: "/templates/new" });
    const user = userEvent.setup();
    await user.click(await screen.findByText("中文"));
    await user.click(screen.getByRole("link", { name: "Use the starter “欢迎邮件”" }));
    expect(await screen.findByRole("heading", { level: 1, name: "New email template" })).toBeTruthy();
    expect((screen.getByLabelText("Template name") as HTMLInputElement).value).toBe("欢迎邮件");
    await user.click(screen.getByRole("button", { name: /Create template/ }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url.pathname === "/api/v1/templates")).toBe(true));
    const body = JSON.parse(calls.find((c) => c.method === "POST" && c.url.pathname === "/api/v1/templates")?.body ?? "{}") as {
      name: string;
      channel: string;
      fields: Record<string, string>;
    };
    expect(body.name).toBe("欢迎邮件");
    expect(body.channel).toBe("email");
    expect(body.fields.format).toBe("mjml");
    expect(body.fields.body).toContain('<mjml lang="zh-CN">');
    expect(body.fields.subject).toContain("欢迎加入");
  });

  it("counts an SMS as the user types: GSM-7, then UCS-2 with Chinese", async () => {
    server("marketer");
    renderWithProviders(<AppRoutes />, { path: "/templates/new?channel=sms" });
    const view = await editor("field-text");
    replaceText(view, "Hi there");
    const counter = screen.getByTestId("sms-counter");
    expect(counter.textContent).toContain("8 characters");
    expect(counter.textContent).toContain("GSM-7");
    expect(counter.textContent).toContain("1 part");
    replaceText(view, "Hi there 你好");
    expect(screen.getByTestId("sms-counter").textContent).toContain("UCS-2");
    expect(screen.getByTestId("sms-counter").textContent).toContain("59 left in this part");
  });

  it("offers the contact's fields, the attributes and computed traits in the editor as `{{ ` is typed", async () => {
    const { calls } = server("marketer", {
      "GET /api/v1/attributes": json(200, { data: [{ id: 1, name: "tier", type: "string", label: "Tier", description: null, created_at: "2026-03-01T00:00:00Z" }], next: null }),
      "GET /api/v1/computed-traits": json(200, {
        data: [{ id: 1, name: "orders_90d", description: null, definition: {}, value_type: "number", time_dependent: false, pending: false, refreshed_at: null, created_at: "2026-03-01T00:00:00Z", updated_at: "2026-03-01T00:00:00Z" }],
        next: null,
      }),
    });
    renderWithProviders(<AppRoutes />, { path: "/templates/new?channel=sms" });
    const view = await editor("field-text");
    // the names are read when the completion opens: once both lists have arrived
    await waitFor(() => expect(calls.filter((c) => /attributes|computed-traits/.test(c.url.pathname))).toHaveLength(2));
    await act(() => new Promise((r) => setTimeout(r, 100)));
    act(() => view.dispatch({ changes: { from: 0, insert: "Hi {{ " }, selection: { anchor: 6 }, userEvent: "input.type" }));
    act(() => void startCompletion(view));
    await waitFor(() => expect(currentCompletions(view.state).map((c) => c.label)).toContain("computed.orders_90d"));
    const labels = currentCompletions(view.state).map((c) => c.label);
    expect(labels).toEqual(expect.arrayContaining(["contact.first_name", "contact.tier", "offer.code", "links.unsubscribe_url"]));
  });

  it("edits a WeChat template's fields as rows and shows the message as a card", async () => {
    const { calls } = server("marketer", {
      "POST /api/v1/templates/preview": (r) => {
        const { fields } = JSON.parse(r.body ?? "{}") as { fields: { template_id: string; data: Record<string, string> } };
        const data = Object.fromEntries(Object.entries(fields.data).map(([k, v]) => [k, { value: v.replace("{{ contact.first_name }}", "Mei") }]));
        return json(200, { content: { template_id: fields.template_id, url: null, data } });
      },
      "POST /api/v1/templates": (r) => json(201, { ...EMAIL, id: 11, channel: "wechat", ...(JSON.parse(r.body ?? "{}") as object), version: 1 }),
      "GET /api/v1/templates/11": json(200, { ...EMAIL, id: 11, channel: "wechat" }),
    });
    renderWithProviders(<AppRoutes />, { path: "/templates/new?channel=wechat" });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Template name"), "Order shipped");
    await user.type(screen.getByLabelText("Template ID"), "TPL-123");
    await user.type(screen.getByLabelText("Template fields 1: value"), "Hi {{{{ contact.first_name }}");
    await user.clear(screen.getByLabelText("Template fields 2: key"));
    await user.type(screen.getByLabelText("Template fields 2: key"), "order_no");
    await user.click(screen.getByRole("button", { name: "Remove field 4" }));
    const card = await screen.findByRole("figure", { name: "The WeChat template message" }, { timeout: 5000 });
    await waitFor(() => expect(within(card).getByText("Hi Mei")).toBeTruthy());
    expect(within(card).getByText("TPL-123")).toBeTruthy();
    expect(within(card).getByText("order_no")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: /Create template/ }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.url.pathname === "/api/v1/templates")).toBe(true));
    const body = JSON.parse(calls.find((c) => c.method === "POST" && c.url.pathname === "/api/v1/templates")?.body ?? "{}") as unknown;
    expect(body).toEqual({
      name: "Order shipped",
      channel: "wechat",
      fields: { template_id: "TPL-123", data: { first: "Hi {{ contact.first_name }}", order_no: "", keyword2: "" } },
    });
  }, 40_000);

  it("holds the preview and the save while an in-app message's JSON does not parse", async () => {
    const { calls } = server("marketer");
    renderWithProviders(<AppRoutes />, { path: "/templates/new?channel=inapp" });
    replaceText(await editor("field-title"), "Hello");
    replaceText(await editor("field-body"), "Welcome");
    await waitFor(() => expect(previews(calls).length).toBe(1));
    replaceText(await editor("field-data"), '{"screen": ');
    expect(await screen.findByText(/Not valid JSON/)).toBeTruthy();
    expect(screen.getByText("The preview appears once the JSON is valid.")).toBeTruthy();
    replaceText(await editor("field-data"), '["not", "an", "object"]');
    expect(await screen.findByText("Must be a JSON object ({ … }).")).toBeTruthy();
    replaceText(await editor("field-data"), '{"screen": "{{ contact.id }}"}');
    await waitFor(() => expect(previews(calls).length).toBe(2));
    expect(JSON.parse(previews(calls)[1]?.body ?? "{}")).toMatchObject({
      channel: "inapp",
      fields: { title: "Hello", body: "Welcome", data: { screen: "{{ contact.id }}" } },
    });
  }, 40_000);

  it("shows the editor read-only to analysts, with the preview but no save or test send", async () => {
    server("analyst");
    renderWithProviders(<AppRoutes />, { path: "/templates/5" });
    expect(await screen.findByText("You can read and preview this template; your role cannot change it.")).toBeTruthy();
    expect(await screen.findByTitle("Email preview for Mei Lin", {}, { timeout: 10_000 })).toBeTruthy();
    expect(screen.queryByRole("button", { name: /Save/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Send test/ })).toBeNull();
    expect((await editor("field-subject")).state.readOnly).toBe(true);
  });
});

describe("the draft preview", () => {
  function wrapper({ children }: { children: ReactNode }) {
    const queryClient = createQueryClient();
    return (
      <AppProviders queryClient={queryClient} language="en">
        <MemoryRouter>
          <SessionProvider>{children}</SessionProvider>
        </MemoryRouter>
      </AppProviders>
    );
  }
  const sms = (text: string): DraftPreviewRequest => ({ channel: "sms", fields: { text }, contact_id: 1, strict: true, tracking: false });

  it("asks once the typing stops, aborts a request nobody waits for, and never shows a stale answer", async () => {
    let release: ((r: Response) => void) | null = null;
    const { calls } = mockFetch({
      "GET /api/v1/session": json(200, sessionFor("marketer")),
      "POST /api/v1/templates/preview": (r) => {
        const text = (JSON.parse(r.body ?? "{}") as { fields: { text: string } }).fields.text;
        if (text === "abc") return new Promise<Response>((resolve) => (release = resolve));
        return json(200, { content: { text: text.toUpperCase() } });
      },
    });
    setWorkspaceId(7);
    const { result, rerender } = renderHook(({ request }) => useDraftPreview(request), {
      wrapper,
      initialProps: { request: null as DraftPreviewRequest | null },
    });
    await waitFor(() => expect(result.current).not.toBeNull()); // the session is read first
    // typed quickly: a, ab, abc — one request, for "abc"
    rerender({ request: sms("a") });
    rerender({ request: sms("ab") });
    rerender({ request: sms("abc") });
    expect(result.current.updating).toBe(true);
    await waitFor(() => expect(release).not.toBeNull(), { timeout: PREVIEW_DEBOUNCE_MS * 5 });
    const texts = () => previews(calls).map((c) => (JSON.parse(c.body ?? "{}") as { fields: { text: string } }).fields.text);
    expect(texts()).toEqual(["abc"]);

    // "abc" is still on its way when the text changes again: its request is aborted
    rerender({ request: sms("abcd") });
    await waitFor(() => expect(result.current.content).toEqual({ text: "ABCD" }), { timeout: PREVIEW_DEBOUNCE_MS * 5 });
    expect(previews(calls).find((c) => c.body?.includes('"abc"'))?.signal.aborted).toBe(true);

    // the late answer for "abc" must not replace the newer one
    (release as unknown as (r: Response) => void)(json(200, { content: { text: "STALE" } }));
    await new Promise((r) => setTimeout(r, PREVIEW_DEBOUNCE_MS + 200));
    expect(result.current.content).toEqual({ text: "ABCD" });
    expect(result.current.updating).toBe(false);

    // nothing to ask (a required field emptied): no request
    rerender({ request: null });
    await new Promise((r) => setTimeout(r, PREVIEW_DEBOUNCE_MS + 200));
    expect(previews(calls)).toHaveLength(2);
  });
});

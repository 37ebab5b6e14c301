import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { useLocation, useNavigate } from "react-router";
import { AppRoutes } from "../../routes";
import { json, mockFetch, type Recorded } from "../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../test/render";

const ana = {
  id: 5,
  external_id: "crm-5",
  email: "ana@example.com",
  phone: null,
  first_name: "Ana",
  last_name: "Li",
  timezone: null,
  locale: null,
  lifecycle_stage: "lead",
  score: 0,
  traits: {},
  tags: ["vip"],
  created_at: "2025-01-02T03:04:05Z",
  updated_at: "2025-01-02T03:04:05Z",
};

const bo = { ...ana, id: 6, email: "bo@example.com", first_name: "Bo" };

function server() {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor("marketer")),
    // the segment's only member is Bo: what the list shows says which query answered
    "GET /api/v1/contacts": (request) =>
      json(200, { data: request.url.searchParams.has("segment_id") ? [bo] : [ana], next: null }),
    "GET /api/v1/segments": json(200, {
      data: [
        {
          id: 12,
          name: "VIP buyers",
          description: null,
          kind: "dynamic",
          definition: null,
          member_count: 1234,
          created_at: "2025-01-01T00:00:00Z",
          updated_at: "2025-01-01T00:00:00Z",
        },
      ],
      next: null,
    }),
    "GET /api/v1/tags": json(200, {
      data: [
        { id: 1, name: "vip", contacts: 3, created_at: "2025-01-01T00:00:00Z" },
        { id: 2, name: "trial", contacts: 9, created_at: "2025-01-01T00:00:00Z" },
      ],
      next: null,
    }),
    "GET /api/v1/contacts/lifecycle-stages": json(200, { data: [{ stage: "customer" }, { stage: "lead" }], next: null }),
  });
}

/** The address the page is at, and Back, as a user sees and uses them. */
function Address() {
  const location = useLocation();
  const navigate = useNavigate();
  return (
    <>
      <output data-testid="address">{location.pathname + location.search}</output>
      <button type="button" onClick={() => void navigate(-1)}>
        Browser back
      </button>
    </>
  );
}

const lists = (calls: Recorded[]) => calls.filter((c) => c.url.pathname === "/api/v1/contacts");
const lastList = (calls: Recorded[]) => Object.fromEntries(lists(calls).at(-1)?.url.searchParams ?? []);

async function choose(label: string, option: RegExp | string) {
  const select = screen.getByLabelText(label);
  fireEvent.focus(select);
  fireEvent.mouseDown(select);
  const item = await screen.findByRole("option", { name: option });
  fireEvent.click(item);
}

describe("contact list filters", () => {
  it("reads the search and the filters from the address into one API query", async () => {
    const { calls } = server();
    renderWithProviders(<AppRoutes />, { path: "/contacts?q=Ana&by=name&segment=12&tag=vip&stage=lead" });
    expect(await screen.findByText("bo@example.com")).toBeTruthy();
    expect(lastList(calls)).toEqual({ limit: "50", name: "Ana", segment_id: "12", tag: "vip", lifecycle_stage: "lead" });
    // the chosen segment is named (its list is read to name it); tags and stages wait to be opened
    expect(await screen.findByText("VIP buyers")).toBeTruthy();
    expect(calls.some((c) => c.url.pathname === "/api/v1/tags")).toBe(false);
    expect(calls.some((c) => c.url.pathname === "/api/v1/contacts/lifecycle-stages")).toBe(false);
    expect(screen.getByRole("group", { name: "Filters" })).toBeTruthy();
  });

  it("puts a chosen filter in the address, combines it, and Back and Clear undo it", async () => {
    const { calls } = server();
    renderWithProviders(
      <>
        <AppRoutes />
        <Address />
      </>,
      { path: "/contacts?q=ana%40example.com" },
    );
    expect(await screen.findByText("ana@example.com")).toBeTruthy();
    expect(lastList(calls)).toEqual({ limit: "50", email: "ana@example.com" });

    await choose("Tag", /^vip/);
    await waitFor(() => expect(lastList(calls)).toEqual({ limit: "50", email: "ana@example.com", tag: "vip" }));
    expect(screen.getByTestId("address").textContent).toBe("/contacts?q=ana%40example.com&tag=vip");

    await choose("Lifecycle stage", "customer");
    await waitFor(() => expect(lastList(calls)).toMatchObject({ tag: "vip", lifecycle_stage: "customer" }));
    await choose("Segment", /^VIP buyers/);
    await waitFor(() => expect(lastList(calls)).toMatchObject({ segment_id: "12", tag: "vip", lifecycle_stage: "customer" }));
    expect(await screen.findByText("bo@example.com")).toBeTruthy();
    expect(screen.getByTestId("address").textContent).toBe(
      "/contacts?q=ana%40example.com&tag=vip&stage=customer&segment=12",
    );

    const user = userEvent.setup();
    await user.click(screen.getByRole("button", { name: "Browser back" }));
    await waitFor(() => expect(screen.getByTestId("address").textContent).toBe("/contacts?q=ana%40example.com&tag=vip&stage=customer"));
    // the list of that address again (from the cache or asked again)
    expect(await screen.findByText("ana@example.com")).toBeTruthy();
    expect(screen.queryByText("bo@example.com")).toBeNull();

    await user.click(screen.getByRole("button", { name: "Clear filters" }));
    await waitFor(() => expect(screen.getByTestId("address").textContent).toBe("/contacts?q=ana%40example.com"));
    expect(screen.queryByRole("button", { name: "Clear filters" })).toBeNull();
  });

  it("shows the choices with their counts", async () => {
    server();
    renderWithProviders(<AppRoutes />, { path: "/contacts" });
    expect(await screen.findByText("ana@example.com")).toBeTruthy();
    const select = screen.getByLabelText("Tag");
    fireEvent.focus(select);
    fireEvent.mouseDown(select);
    const option = await screen.findByRole("option", { name: /trial/ });
    expect(option.textContent).toBe("trial9 contacts");
  });
});

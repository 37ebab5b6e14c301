import { describe, expect, it } from "vitest";
import { screen, within } from "@testing-library/react";
import { Route, Routes } from "react-router";
import ContactProfilePage from "../ContactProfilePage";
import { json, mockFetch } from "../../../test/fetchMock";
import { renderWithProviders, sessionFor } from "../../../test/render";
import { CHANNELS, channelKey } from "./AcquisitionSection";
import { contactsEn } from "../../../i18n/contacts.en";
import { contactsZhCN } from "../../../i18n/contacts.zh-CN";

const contact = {
  id: 5,
  external_id: null,
  email: "ana@example.com",
  phone: null,
  first_name: "Ana",
  last_name: "Li",
  timezone: null,
  locale: null,
  lifecycle_stage: "MQL",
  score: 0,
  traits: {},
  tags: [],
  created_at: "2026-03-01T09:30:00Z",
  updated_at: "2026-03-02T09:30:00Z",
  identities: [{ kind: "email", value: "ana@example.com" }],
  computed_traits: {},
  acquisition: {
    first: {
      at: "2026-03-01T09:30:00Z",
      channel: "paid_search",
      source: "baidu",
      medium: "cpc",
      campaign: "<b>exam-2027</b>",
      term: "mba",
      content: null,
      referrer: "https://www.baidu.com/s?wd=mba",
      landing_url: "https://acme.example/lp?utm_source=baidu&utm_medium=cpc&utm_campaign=exam-2027",
    },
    last: {
      at: "2026-03-02T09:30:00Z",
      channel: "organic_social",
      source: "zhihu",
      medium: "social",
      campaign: null,
      term: null,
      content: null,
      referrer: "https://www.zhihu.com/question/1",
      landing_url: "https://acme.example/blog",
    },
  },
};

const profile = (
  <Routes>
    <Route path="/contacts/:id" element={<ContactProfilePage />} />
  </Routes>
);

function server(body: unknown) {
  return mockFetch({
    "GET /api/v1/session": json(200, sessionFor("analyst")),
    "GET /api/v1/contacts/5": json(200, body),
    "GET /api/v1/contacts/5/events": json(200, { data: [], next: null }),
  });
}

describe("contact acquisition source", () => {
  it("shows the first and the last touch with their channel, UTM values and pages", async () => {
    server(contact);
    renderWithProviders(profile, { path: "/contacts/5" });
    const section = await screen.findByRole("region", { name: "Acquisition source" });
    const first = within(section).getByRole("region", { name: "First touch" });
    expect(within(first).getByText("Paid search")).toBeTruthy();
    expect(within(first).getByText("baidu / cpc")).toBeTruthy();
    expect(within(first).getByText("mba")).toBeTruthy();
    // workspace data is text, never HTML
    expect(within(first).getByText("<b>exam-2027</b>")).toBeTruthy();
    expect(within(first).getByText("https://www.baidu.com/s?wd=mba")).toBeTruthy();
    const last = within(section).getByRole("region", { name: "Last touch" });
    expect(within(last).getByText("Organic social")).toBeTruthy();
    expect(within(last).getByText("zhihu / social")).toBeTruthy();
    expect(within(last).getByText("https://acme.example/blog")).toBeTruthy();
  });

  it("says when no visit is recorded, in Chinese too", async () => {
    server({ ...contact, acquisition: null });
    renderWithProviders(profile, { path: "/contacts/5", language: "zh-CN" });
    const section = await screen.findByRole("region", { name: "获客来源" });
    expect(within(section).getByText(/暂无访问记录/)).toBeTruthy();
    expect(within(section).queryByRole("region", { name: "首次触点" })).toBeNull();
  });

  it("names every channel group in both languages", () => {
    for (const channel of CHANNELS) {
      const key = channelKey(channel);
      expect(key).not.toBeNull();
      expect(contactsEn[key!]).toBeTruthy();
      expect(contactsZhCN[key!]).toBeTruthy();
    }
    expect(channelKey("carrier_pigeon")).toBeNull();
  });
});

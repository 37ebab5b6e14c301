import { describe, expect, it } from "vitest";
import { ApiError } from "../../../api/http";
import type { ContactWithTraits } from "../../../api/types";
import { changesOf, fieldErrors, fromFormValue, initialValues, toFormValue, type Attribute } from "./profileEdit";
import dayjs from "dayjs";
import { instantOf, wallClock } from "./ProfileEditor";
import { mergeReasons } from "./ProfileSections";

const attribute = (name: string, type: string): Attribute => ({
  id: 1,
  name,
  type,
  label: null,
  description: null,
  created_at: "2025-01-01T00:00:00Z",
});
const attributes = [
  attribute("plan", "string"),
  attribute("seats", "number"),
  attribute("vip", "boolean"),
  attribute("birthday", "datetime"),
  attribute("interests", "list"),
];

const contact = {
  id: 5,
  first_name: "Ana",
  last_name: null,
  email: "ana@example.com",
  phone: null,
  timezone: null,
  locale: null,
  traits: { plan: "pro", seats: 3, vip: false, birthday: "1990-05-17", interests: ["tea", 7], note: "kept" },
} as unknown as ContactWithTraits;

describe("typed attribute values in the editor", () => {
  it.each([
    ["string", "pro", "pro", "pro"],
    ["number", 3, 3, 3],
    ["number", 2.5, 2.5, 2.5],
    ["boolean", true, "true", true],
    ["boolean", false, "false", false],
    ["datetime", "1990-05-17", "1990-05-17", "1990-05-17"],
    ["datetime", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z", "2026-03-02T10:00:00Z"],
    ["list", ["tea", 7], ["tea", "7"], ["tea", "7"]],
  ] as const)("a %s %j is edited as %j and sent as %j", (type, stored, input, sent) => {
    expect(toFormValue(type, stored)).toEqual(input);
    expect(fromFormValue(type, input as never)).toEqual(sent);
  });

  it("sends null for an emptied value (the trait is removed)", () => {
    expect(fromFormValue("string", "  ")).toBeNull();
    expect(fromFormValue("number", null)).toBeNull();
    expect(fromFormValue("boolean", null)).toBeNull();
    expect(fromFormValue("list", [])).toBeNull();
    expect(fromFormValue("datetime", null)).toBeNull();
  });

  it("sends only what changed", () => {
    const before = initialValues(contact, attributes);
    expect(changesOf(before, before, attributes)).toEqual({});
    const after = {
      fields: { ...before.fields, last_name: " Li ", email: "" },
      traits: { ...before.traits, seats: 4, vip: "true", interests: ["tea", "7"], plan: null },
    };
    expect(changesOf(before, after, attributes)).toEqual({
      last_name: "Li",
      email: null,
      traits: { seats: 4, vip: true, plan: null },
    });
  });
});

describe("API errors on the editor's fields", () => {
  it("puts each on the field it is about", () => {
    const on = (status: number, code: string, message: string) =>
      fieldErrors(new ApiError(status, code, message), attributes);
    expect(on(422, "invalid_email", "'x' is not a valid email address")).toEqual([
      { name: ["fields", "email"], reason: { key: "email" } },
    ]);
    expect(on(422, "invalid_trait", "trait 'seats' must be a number, got 'many'")).toEqual([
      { name: ["traits", "seats"], reason: { key: "type", attribute: "seats" } },
    ]);
    expect(on(409, "identity_conflict", "phone '+8613800138000' belongs to contact 42")).toEqual([
      { name: ["fields", "phone"], reason: { key: "taken", id: "42" } },
    ]);
    expect(on(422, "validation_error", "first_name: String should have at most 200 characters")).toEqual([
      { name: ["fields", "first_name"], reason: { message: "String should have at most 200 characters" } },
    ]);
    expect(on(422, "invalid_locale", "locale is longer than 35 characters")).toEqual([
      { name: ["fields", "locale"], reason: { message: "locale is longer than 35 characters" } },
    ]);
    expect(on(503, "unavailable", "retry")).toEqual([]);
    expect(on(422, "invalid_trait", "trait 'other' must be a number, got 'x'")).toEqual([]);
  });
});

describe("merge reasons", () => {
  it("reads the identifiers that tied two contacts", () => {
    expect(mergeReasons("email 'm@m.io'")).toEqual([{ kind: "email", value: "m@m.io" }]);
    expect(mergeReasons("user_id 'u1', anonymous_id \"it's\"")).toEqual([
      { kind: "user_id", value: "u1" },
      { kind: "anonymous_id", value: "it's" },
    ]);
    expect(mergeReasons("something else")).toBeNull();
  });
});

describe("date-times in the workspace's time zone", () => {
  it("edits an instant as the workspace's wall clock shows it and sends it in UTC", () => {
    expect(wallClock("2026-03-02T10:00:00Z", "Asia/Shanghai").format("YYYY-MM-DD HH:mm")).toBe("2026-03-02 18:00");
    expect(instantOf(dayjs("2026-03-02T18:00:00"), "Asia/Shanghai")).toBe("2026-03-02T10:00:00.000Z");
    expect(instantOf(dayjs("2026-07-01T09:30:45"), "Europe/Paris")).toBe("2026-07-01T07:30:00.000Z");
  });
});

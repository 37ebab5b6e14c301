import { describe, expect, it } from "vitest";
import { classifySearch, contactFilter, contactListQuery, filtersFromParams, withParams } from "./searchQuery";

describe("contact search box", () => {
  it.each([
    ["ana@example.com", "email"],
    ["  Ana@Example.COM ", "email"],
    ["@handle", "email"],
    ["+86 138 0013 8000", "phone"],
    ["+14155550100", "phone"],
    ["13800138000", "phone"],
    ["0612345678", "phone"],
    ["user_42", "external_id"],
    ["crm-00042", "external_id"],
    ["张三", "external_id"],
  ] as const)("%s is searched as %s", (input, kind) => {
    expect(classifySearch(input)).toBe(kind);
  });

  it("ignores an empty box", () => {
    expect(classifySearch("   ")).toBeNull();
    expect(contactFilter("")).toBeNull();
  });

  it("trims the value and honours an explicit kind", () => {
    expect(contactFilter(" 12345 ")).toEqual({ kind: "phone", value: "12345" });
    expect(contactFilter(" 12345 ", "external_id")).toEqual({ kind: "external_id", value: "12345" });
    expect(contactFilter("Ana", "name")).toEqual({ kind: "name", value: "Ana" });
  });
});

describe("the list's filters in the address", () => {
  it("reads segment, tag and stage, ignoring a malformed segment id", () => {
    expect(filtersFromParams(new URLSearchParams("segment=12&tag=vip&stage=lead"))).toEqual({
      segment: 12,
      tag: "vip",
      stage: "lead",
    });
    expect(filtersFromParams(new URLSearchParams("segment=abc&tag=%20&stage="))).toEqual({
      segment: null,
      tag: null,
      stage: null,
    });
    expect(filtersFromParams(new URLSearchParams("segment=0"))).toMatchObject({ segment: null });
  });

  it("combines the search box, the filters and the cursor into one query", () => {
    const filters = { segment: 12, tag: "vip", stage: "mql" };
    expect(contactListQuery({ kind: "name", value: "Ana" }, filters, "abc", 50)).toEqual({
      limit: 50,
      name: "Ana",
      segment_id: 12,
      tag: "vip",
      lifecycle_stage: "mql",
      after: "abc",
    });
    expect(contactListQuery(null, { segment: null, tag: null, stage: null }, null, 50)).toEqual({ limit: 50 });
  });

  it("changes one parameter and keeps the others", () => {
    const next = withParams(new URLSearchParams("q=ana&tag=vip"), { stage: "lead", tag: null });
    expect(next.toString()).toBe("q=ana&stage=lead");
  });
});

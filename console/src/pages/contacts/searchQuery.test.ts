import { describe, expect, it } from "vitest";
import { classifySearch, contactFilter } from "./searchQuery";

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

import { describe, expect, it } from "vitest";
import { reference } from "../testReference";
import {
  changeKind,
  conditionNumber,
  errorPath,
  incompletePaths,
  newCondition,
  operatorsFor,
  propertyTypeOf,
  withOperator,
  type Condition,
} from "./model";
import { conditionKinds, enumOf } from "./schema";

describe("segment definition model", () => {
  it("reads the condition kinds and enums from the definition schema", () => {
    expect(conditionKinds(reference.definition_schema)).toEqual([
      "all", "any", "not", "attribute", "tag", "performed", "not_performed", "aggregate",
      "first_performed", "last_performed", "sequence", "segment", "subscription", "random_bucket",
    ]); // prettier-ignore
    expect(enumOf(reference.definition_schema, "Duration", "unit")).toContain("months");
    expect(enumOf(reference.definition_schema, "CountComparator", "op")).toContain(">=");
    expect(enumOf({}, "AggregateCondition", "function")).toEqual(["sum", "avg", "min", "max"]);
  });

  it("takes operators from the reference by type", () => {
    const keys = (type: string) => operatorsFor(reference, type).map((o) => o.key);
    expect(keys("datetime")).toContain("more_than_ago");
    expect(keys("string")).not.toContain("more_than_ago");
    expect(keys("list")).toEqual(["includes", "includes_any", "is_set", "is_not_set"]);
  });

  it("gives an operator a value of its shape, and keeps the value when the shape stays", () => {
    const node = { type: "attribute", attribute: "created_at", operator: "eq", value: "2026-01-01T00:00:00Z" };
    expect(withOperator(node, reference, "before", "datetime").value).toBe("2026-01-01T00:00:00Z");
    expect(withOperator(node, reference, "more_than_ago", "datetime").value).toEqual({ amount: 7, unit: "days" });
    expect(withOperator(node, reference, "between_ago", "datetime").value).toHaveLength(2);
    expect("value" in withOperator(node, reference, "is_set", "datetime")).toBe(false);
  });

  it("names conditions by number and finds the node a server error names", () => {
    expect(conditionNumber("root")).toBe("");
    expect(conditionNumber("root.conditions[1].condition.conditions[0]")).toBe("2.1.1");
    expect(errorPath("root.conditions[2].where[0].operator: 'gt' does not apply")).toEqual({
      path: "root.conditions[2]",
      field: "where[0].operator",
    });
    expect(errorPath("root.conditions[0].condition.segment_id: no segment 4")?.path).toBe("root.conditions[0].condition");
    expect(errorPath("something else")).toBeNull();
  });

  it("keeps what it can when the kind changes", () => {
    const performed = newCondition("performed", reference);
    performed.event = "Order Completed";
    const negated = changeKind(performed, "not", reference);
    expect(negated).toEqual({ type: "not", condition: performed });
    expect(changeKind(negated, "performed", reference)).toBe(performed);
    expect(changeKind(performed, "not_performed", reference).event).toBe("Order Completed");
    const group = changeKind(performed, "any", reference);
    expect(group).toEqual({ type: "any", conditions: [performed] });
    expect(changeKind(group, "all", reference)).toEqual({ type: "all", conditions: [performed] });
  });

  it("lists the conditions still to be filled in", () => {
    const root: Condition = {
      type: "all",
      conditions: [
        newCondition("performed", reference),
        { type: "not", condition: newCondition("segment", reference) },
        { type: "attribute", attribute: "score", operator: "between", value: [1, null] },
        { type: "tag", tag: "vip" },
      ],
    };
    expect(incompletePaths(reference, root)).toEqual(["root.conditions[1].condition", "root.conditions[2]"]);
  });

  it("reads a property filter's type from its value, as the server does", () => {
    expect(propertyTypeOf(50)).toBe("number");
    expect(propertyTypeOf([true])).toBe("boolean");
    expect(propertyTypeOf("A")).toBe("string");
    expect(propertyTypeOf(undefined)).toBe("string");
  });
});

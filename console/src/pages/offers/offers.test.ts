import { describe, expect, it } from "vitest";
import { expiredCounts, isLowStock, isoToZoned, parseCodes, validity, zonedToIso } from "./model";

describe("parseCodes (the code import parser)", () => {
  it("reads one code per line, upper-cased, skipping blanks and repeats", () => {
    expect(parseCodes("spring-001\n\nSPRING-002\r\nspring-001\n")).toEqual({ codes: ["SPRING-001", "SPRING-002"], invalid: [], repeated: 1, header: false });
  });
  it("takes a CSV's first column, removes quotes and skips a header", () => {
    const out = parseCodes('\uFEFFcode,customer\n"abc-1",ann\nABC-2;x\n');
    expect(out.codes).toEqual(["ABC-1", "ABC-2"]);
    expect(out.header).toBe(true);
  });
  it("lists the lines the server would refuse", () => {
    expect(parseCodes("GOOD-1\nno space\nab\n").invalid).toEqual([
      { line: 2, text: "no space" },
      { line: 3, text: "ab" },
    ]);
  });
});

describe("offer state", () => {
  const now = new Date("2026-03-01T00:00:00Z");
  it("derives the validity from status and window", () => {
    expect(validity({ status: "active", starts_at: "2026-04-01T00:00:00Z", ends_at: null }, now)).toBe("scheduled");
    expect(validity({ status: "active", starts_at: null, ends_at: "2026-03-01T00:00:00Z" }, now)).toBe("ended");
    expect(validity({ status: "paused", starts_at: null, ends_at: null }, now)).toBe("paused");
  });
  it("warns on low stock, never for an ended offer, whose unused codes are expired", () => {
    expect(isLowStock({ total: 1000, free: 90, assigned: 900, redeemed: 10 }, "active")).toBe(true);
    expect(isLowStock({ total: 1000, free: 500, assigned: 500, redeemed: 0 }, "active")).toBe(false);
    expect(isLowStock({ total: 50, free: 0, assigned: 50, redeemed: 0 }, "ended")).toBe(false);
    expect(expiredCounts({ total: 50, free: 10, assigned: 30, redeemed: 10 }, "ended")).toEqual({ free: 10, assigned: 30 });
  });
  it("converts local times in the workspace's zone", () => {
    expect(zonedToIso("2026-03-01T09:30", "Asia/Shanghai")).toBe("2026-03-01T01:30:00.000Z");
    expect(isoToZoned("2026-03-01T01:30:00Z", "Asia/Shanghai")).toBe("2026-03-01T09:30");
  });
});

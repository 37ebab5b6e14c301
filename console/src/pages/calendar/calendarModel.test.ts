import { describe, expect, it } from "vitest";
import {
  columnAt,
  fetchRange,
  monthWeeks,
  placeItems,
  rescheduleTo,
  sendsOn,
  shiftAnchor,
  slotOf,
  slotTime,
  weekBars,
  weekDays,
  type CalendarEntry,
} from "./calendarModel";
import { addDays, fromWall, offsetMinutes, toWall } from "./zoned";

const base = { campaign_id: null, ends_at: null, status: "draft" } as const;
const broadcast = (id: number, extra: Partial<CalendarEntry>): CalendarEntry => ({
  ...base,
  kind: "broadcast",
  id,
  name: `b${id}`,
  starts_at: null,
  ...extra,
});

describe("time zones", () => {
  it("reads an instant's wall date and time in the zone", () => {
    // 23:30 UTC is already the next day in Shanghai, and still the same day in New York
    expect(toWall("2026-03-01T23:30:00Z", "Asia/Shanghai")).toEqual({ date: "2026-03-02", time: "07:30" });
    expect(toWall("2026-03-01T23:30:00Z", "America/New_York")).toEqual({ date: "2026-03-01", time: "18:30" });
  });

  it("turns a wall time into the instant, across daylight saving changes", () => {
    expect(fromWall("2026-03-02", "09:00", "Asia/Shanghai").toISOString()).toBe("2026-03-02T01:00:00.000Z");
    // New York: EST (UTC−5) before 8 March 2026, EDT (UTC−4) after
    expect(fromWall("2026-03-07", "10:00", "America/New_York").toISOString()).toBe("2026-03-07T15:00:00.000Z");
    expect(fromWall("2026-03-09", "10:00", "America/New_York").toISOString()).toBe("2026-03-09T14:00:00.000Z");
    // 02:30 does not exist on 8 March: the instant after the gap
    expect(toWall(fromWall("2026-03-08", "02:30", "America/New_York"), "America/New_York").time).toBe("03:30");
    expect(offsetMinutes(new Date("2026-07-01T00:00:00Z"), "Europe/Paris")).toBe(120);
  });
});

describe("views", () => {
  it("shows every week of the month, Monday first", () => {
    const weeks = monthWeeks("2026-03-15");
    expect(weeks[0]![0]).toBe("2026-02-23"); // 1 March 2026 is a Sunday
    expect(weeks[weeks.length - 1]![6]).toBe("2026-04-05");
    expect(weeks).toHaveLength(6);
    expect(monthWeeks("2027-02-10")).toHaveLength(4); // February 2027 starts on a Monday, 28 days
    expect(weekDays("2026-03-05")).toEqual(["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08"]);
  });

  it("moves by month and by week, and asks for the days shown in the zone", () => {
    expect(shiftAnchor("month", "2026-12-15", 1)).toBe("2027-01-01");
    expect(shiftAnchor("month", "2026-01-31", -1)).toBe("2025-12-01");
    expect(shiftAnchor("week", "2026-03-05", -1)).toBe("2026-02-26");
    expect(fetchRange(weekDays("2026-03-05"), "Asia/Shanghai")).toEqual({
      start: "2026-03-01T16:00:00.000Z",
      end: "2026-03-08T16:00:00.000Z",
    });
  });
});

describe("placing items", () => {
  const week = weekDays("2026-03-05");

  it("puts a send on its day in the workspace's zone, and a local-time send on its local date", () => {
    const items = [
      broadcast(1, { starts_at: "2026-03-03T17:00:00Z" }), // 01:00 on the 4th in Shanghai
      broadcast(2, { starts_at: "2026-03-05T10:00:00Z", local_date: "2026-03-06", local_time: "10:00" }),
      broadcast(3, { starts_at: "2026-04-01T00:00:00Z" }), // not this week
    ];
    const placed = placeItems(items, week, "Asia/Shanghai");
    expect(placed.map((p) => [p.item.id, p.from, p.time, p.local])).toEqual([
      [1, "2026-03-04", "01:00", false],
      [2, "2026-03-06", "10:00", true],
    ]);
    expect(sendsOn(placed, "2026-03-04").map((p) => p.item.id)).toEqual([1]);
    // in New York the same instant is the 3rd
    expect(placeItems(items, week, "America/New_York")[0]!.from).toBe("2026-03-03");
  });

  it("spans campaigns over their days (the end is exclusive) and live journeys to the end", () => {
    const items: CalendarEntry[] = [
      { ...base, kind: "campaign", id: 1, name: "Spring", status: "active", starts_at: "2026-03-03T00:00:00Z", ends_at: "2026-03-06T00:00:00Z" },
      { ...base, kind: "campaign", id: 2, name: "Long", status: "approved", starts_at: "2026-02-01T00:00:00Z", ends_at: null },
      { ...base, kind: "journey", id: 3, name: "Welcome", status: "active", starts_at: "2026-03-04T08:00:00Z", ends_at: null },
    ];
    const placed = placeItems(items, week, "UTC");
    const spring = placed.find((p) => p.item.id === 1)!;
    expect([spring.from, spring.to, spring.continuesBefore, spring.continuesAfter]).toEqual(["2026-03-03", "2026-03-05", false, false]);
    const long = placed.find((p) => p.item.id === 2)!;
    expect([long.from, long.to, long.continuesBefore, long.continuesAfter]).toEqual([week[0], week[6], true, true]);
    const { bars, lanes } = weekBars(placed, week);
    expect(lanes).toBe(3);
    expect(bars.map((b) => [b.placed.item.id, b.start, b.end])).toEqual([
      [2, 0, 6],
      [1, 1, 3],
      [3, 2, 6],
    ]);
  });

  it("reuses a lane once a span has ended", () => {
    const items: CalendarEntry[] = [
      { ...base, kind: "campaign", id: 1, name: "A", status: "draft", starts_at: "2026-03-02T00:00:00Z", ends_at: "2026-03-04T00:00:00Z" },
      { ...base, kind: "campaign", id: 2, name: "B", status: "draft", starts_at: "2026-03-05T00:00:00Z", ends_at: "2026-03-07T00:00:00Z" },
    ];
    expect(weekBars(placeItems(items, week, "UTC"), week).lanes).toBe(1);
  });
});

describe("dropping a draft broadcast", () => {
  it("keeps its time on another day (month) or takes the slot's time (week), in the zone", () => {
    const [at] = placeItems([broadcast(1, { starts_at: "2026-03-04T01:00:00Z" })], weekDays("2026-03-04"), "Asia/Shanghai");
    expect(at!.time).toBe("09:00");
    expect(rescheduleTo(at!, "2026-03-10", null, "Asia/Shanghai")).toEqual({ send_at: "2026-03-10T01:00:00.000Z" });
    expect(rescheduleTo(at!, "2026-03-06", slotTime(29), "Asia/Shanghai")).toEqual({ send_at: "2026-03-06T06:30:00.000Z" });
  });

  it("moves a local-time broadcast's local date and time", () => {
    const [local] = placeItems(
      [broadcast(2, { starts_at: "2026-03-05T20:00:00Z", local_date: "2026-03-06", local_time: "10:00" })],
      weekDays("2026-03-04"),
      "UTC",
    );
    expect(rescheduleTo(local!, "2026-03-08", null, "Asia/Shanghai")).toEqual({ local_date: "2026-03-08", local_time: "10:00" });
    expect(rescheduleTo(local!, "2026-03-08", "18:30", "UTC")).toEqual({ local_date: "2026-03-08", local_time: "18:30" });
  });

  it("finds the day and slot under the pointer", () => {
    expect(columnAt(0, 0, 700)).toBe(0);
    expect(columnAt(699, 0, 700)).toBe(6);
    expect(columnAt(350, 0, 700)).toBe(3);
    expect(columnAt(-20, 0, 700)).toBe(0);
    expect(slotOf("09:45")).toBe(19);
    expect(slotTime(19)).toBe("09:30");
    expect(addDays("2026-12-31", 1)).toBe("2027-01-01");
  });
});

import { describe, expect, it } from "vitest";
import { dayKey, minuteKey, nextDayStart, secondsToNextDay, secondsToNextMinute } from "./day.ts";

const at = (iso: string) => new Date(iso);

describe("dayKey", () => {
  it("is the calendar day in the zone, not in UTC", () => {
    expect(dayKey(at("2024-06-01T15:59:59Z"), "Asia/Shanghai")).toBe("2024-06-01");
    expect(dayKey(at("2024-06-01T16:00:00Z"), "Asia/Shanghai")).toBe("2024-06-02");
    expect(dayKey(at("2024-06-02T03:59:59Z"), "America/New_York")).toBe("2024-06-01");
    expect(dayKey(at("2024-06-02T04:00:00Z"), "America/New_York")).toBe("2024-06-02");
    expect(dayKey(at("2024-06-01T23:59:59.999Z"), "UTC")).toBe("2024-06-01");
    expect(dayKey(at("2024-06-01T18:14:59Z"), "Asia/Kathmandu")).toBe("2024-06-01");
    expect(dayKey(at("2024-06-01T18:15:00Z"), "Asia/Kathmandu")).toBe("2024-06-02");
  });

  it("rejects unknown zones", () => {
    expect(() => dayKey(new Date(), "Mars/Olympus_Mons")).toThrow(RangeError);
  });
});

describe("secondsToNextDay", () => {
  it("counts to local midnight in a zone without DST", () => {
    // 23:59:59 in Shanghai (UTC+8).
    expect(secondsToNextDay(at("2024-06-01T15:59:59Z"), "Asia/Shanghai")).toBe(1);
    // 00:00:00 in Shanghai: a whole day to go.
    expect(secondsToNextDay(at("2024-06-01T16:00:00Z"), "Asia/Shanghai")).toBe(86_400);
    // 20:00 in Shanghai.
    expect(secondsToNextDay(at("2024-06-01T12:00:00Z"), "Asia/Shanghai")).toBe(4 * 3600);
  });

  it("is 23 hours on the New York spring-forward day", () => {
    // 2024-03-10 00:00 EST = 05:00Z; the next midnight is 00:00 EDT = 2024-03-11T04:00Z.
    expect(secondsToNextDay(at("2024-03-10T05:00:00Z"), "America/New_York")).toBe(23 * 3600);
    // 01:30 EST, before the jump: 21.5 hours left.
    expect(secondsToNextDay(at("2024-03-10T06:30:00Z"), "America/New_York")).toBe(21.5 * 3600);
    expect(nextDayStart(at("2024-03-10T12:00:00Z"), "America/New_York")).toBe(Date.parse("2024-03-11T04:00:00Z"));
  });

  it("is 25 hours on the New York fall-back day", () => {
    // 2024-11-03 00:00 EDT = 04:00Z; the next midnight is 00:00 EST = 2024-11-04T05:00Z.
    expect(secondsToNextDay(at("2024-11-03T04:00:00Z"), "America/New_York")).toBe(25 * 3600);
    // 01:30 EST (the second 01:30): 22.5 hours left.
    expect(secondsToNextDay(at("2024-11-03T06:30:00Z"), "America/New_York")).toBe(22.5 * 3600);
    // 23:00 the evening before the change (still EDT): 1 h.
    expect(secondsToNextDay(at("2024-11-03T03:00:00Z"), "America/New_York")).toBe(3600);
  });

  it("finds the day start when DST skips midnight (Chile: 24:00 → 01:00)", () => {
    // 2024-09-07 12:00 at UTC-4 = 16:00Z; clocks jump from 24:00 to 01:00 (UTC-3) at 04:00Z.
    expect(nextDayStart(at("2024-09-07T16:00:00Z"), "America/Santiago")).toBe(Date.parse("2024-09-08T04:00:00Z"));
    expect(dayKey(at("2024-09-08T03:59:59Z"), "America/Santiago")).toBe("2024-09-07");
    expect(dayKey(at("2024-09-08T04:00:00Z"), "America/Santiago")).toBe("2024-09-08");
  });

  it("is at least 1 and rounds up", () => {
    expect(secondsToNextDay(at("2024-06-01T23:59:59.999Z"), "UTC")).toBe(1);
    expect(secondsToNextDay(at("2024-06-01T23:59:58.001Z"), "UTC")).toBe(2);
  });
});

describe("minute windows", () => {
  it("are fixed UTC minutes", () => {
    expect(minuteKey(at("2024-06-01T12:34:00.000Z"))).toBe("2024-06-01T12:34");
    expect(minuteKey(at("2024-06-01T12:34:59.999Z"))).toBe("2024-06-01T12:34");
    expect(minuteKey(at("2024-06-01T12:35:00.000Z"))).toBe("2024-06-01T12:35");
  });

  it("count down to the next minute, at least 1, rounded up", () => {
    expect(secondsToNextMinute(at("2024-06-01T12:34:00.000Z"))).toBe(60);
    expect(secondsToNextMinute(at("2024-06-01T12:34:15.000Z"))).toBe(45);
    expect(secondsToNextMinute(at("2024-06-01T12:34:15.500Z"))).toBe(45);
    expect(secondsToNextMinute(at("2024-06-01T12:34:59.999Z"))).toBe(1);
  });
});

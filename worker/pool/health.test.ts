import { describe, expect, it } from "vitest";
import { PoolHealth, type HealthSettings, type HealthSnapshot, type MemberRef, type Ticket } from "./health.ts";

const SETTINGS: HealthSettings = {
  rateLimitCooldownMs: 60_000,
  rateLimitCooldownMaxMs: 600_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 8_000,
  failureHalfLifeMs: 300_000,
};
const T0 = Date.UTC(2030, 0, 1);
const POOL = "openai";
const MODEL = "gpt-4o";
const NONE: ReadonlySet<string> = new Set();

const member = (id: string, weight = 1, fingerprint = `fp-${id}`): MemberRef => ({ id, weight, fingerprint });

function health(settings: Partial<HealthSettings> = {}) {
  return new PoolHealth({ ...SETTINGS, ...settings });
}

/** Picks and expects a ticket. */
function take(h: PoolHealth, members: readonly MemberRef[], now: number, model = MODEL, exclude = NONE): Ticket {
  const r = h.pick(POOL, members, model, now, exclude);
  if (!r.ok) throw new Error(`expected a ticket, got ${JSON.stringify(r.why)}`);
  return r.ticket;
}

/** Picks one specific member by excluding all the others. */
function takeMember(h: PoolHealth, members: readonly MemberRef[], id: string, now: number, model = MODEL): Ticket {
  const ticket = take(h, members, now, model, new Set(members.filter((m) => m.id !== id).map((m) => m.id)));
  expect(ticket.member.id).toBe(id);
  return ticket;
}

function why(h: PoolHealth, members: readonly MemberRef[], now: number, model = MODEL, exclude = NONE) {
  const r = h.pick(POOL, members, model, now, exclude);
  if (r.ok) throw new Error(`expected no ticket, got member ${r.ticket.member.id}`);
  return r.why;
}

/** Picks n times, reporting ok after each, and counts picks per member id. */
function distribution(h: PoolHealth, members: readonly MemberRef[], n: number, now: number, model = MODEL) {
  const counts: Record<string, number> = {};
  const order: string[] = [];
  for (let i = 0; i < n; i++) {
    const t = take(h, members, now, model);
    counts[t.member.id] = (counts[t.member.id] ?? 0) + 1;
    order.push(t.member.id);
    h.report(t, { kind: "ok" }, now);
  }
  return { counts, order };
}

describe("PoolHealth.pick ordering", () => {
  it("does not pick a member with a recent failure while a clean one exists", () => {
    const h = health();
    const members = [member("a"), member("b")];
    h.report(takeMember(h, members, "a", T0), { kind: "broken_stream" }, T0);
    const { counts } = distribution(h, members, 20, T0 + 1_000);
    expect(counts).toEqual({ b: 20 });
  });

  it("prefers the member with the lower failure score among members that both failed", () => {
    const h = health();
    const members = [member("a"), member("b")];
    h.report(takeMember(h, members, "a", T0), { kind: "broken_stream" }, T0);
    h.report(takeMember(h, members, "a", T0), { kind: "broken_stream" }, T0);
    h.report(takeMember(h, members, "b", T0), { kind: "broken_stream" }, T0);
    expect(distribution(h, members, 5, T0).counts).toEqual({ b: 5 });
  });

  it("lets a failure decay until the member takes its turn in the round robin again", () => {
    const h = health();
    const members = [member("a"), member("b")];
    h.report(takeMember(h, members, "a", T0), { kind: "broken_stream" }, T0);
    // Ten half-lives later the score is ~0.001, below the quantum: a and b are equal again.
    const { counts } = distribution(h, members, 10, T0 + 10 * SETTINGS.failureHalfLifeMs);
    expect(counts).toEqual({ a: 5, b: 5 });
  });

  it("breaks a score tie by the fewest requests in flight", () => {
    const h = health();
    // Weighted round robin alone would pick a twice in a row with these weights.
    const members = [member("a", 10), member("b", 1)];
    const first = take(h, members, T0);
    expect(first.member.id).toBe("a");
    const second = take(h, members, T0); // a still in flight
    expect(second.member.id).toBe("b");
    h.report(first, { kind: "ok" }, T0);
    const third = take(h, members, T0); // now a has 0 in flight, b has 1
    expect(third.member.id).toBe("a");
  });

  it("distributes 400 picks over weights 1 and 3 exactly 100 / 300, one light pick in every four", () => {
    const h = health();
    const members = [member("light", 1), member("heavy", 3)];
    const { counts, order } = distribution(h, members, 400, T0);
    expect(counts).toEqual({ light: 100, heavy: 300 });
    for (let i = 0; i < 400; i += 4) {
      expect(order.slice(i, i + 4).filter((id) => id === "light")).toHaveLength(1);
    }
  });

  it("returns a ticket naming the pool, member and model, with no probes for a healthy member", () => {
    const h = health();
    const members = [member("a")];
    const ticket = take(h, members, T0);
    expect(ticket).toEqual({ pool: POOL, member: members[0], model: MODEL, probes: [] });
  });

  it("keeps separate state per pool for members with the same id", () => {
    const h = health();
    const members = [member("a")];
    const t = h.pick("pool-one", members, MODEL, T0, NONE);
    if (!t.ok) throw new Error("expected a ticket");
    h.report(t.ticket, { kind: "auth_failed", status: 401 }, T0);
    expect(h.pick("pool-one", members, MODEL, T0, NONE)).toEqual({ ok: false, why: { reason: "all_disabled" } });
    expect(h.pick("pool-two", members, MODEL, T0, NONE).ok).toBe(true);
  });
});

describe("PoolHealth rate limits (429)", () => {
  it("honours retryAfterMs", () => {
    const h = health();
    const members = [member("a")];
    h.report(take(h, members, T0), { kind: "failed", cls: "rate_limited", retryAfterMs: 5_000 }, T0);
    expect(why(h, members, T0 + 4_999)).toEqual({ reason: "cooling", retryAfterMs: 1, rateLimited: true });
    expect(take(h, members, T0 + 5_000).member.id).toBe("a");
  });

  it("uses rateLimitCooldownMs when the upstream gave no retry-after", () => {
    const h = health();
    const members = [member("a")];
    h.report(take(h, members, T0), { kind: "failed", cls: "rate_limited" }, T0);
    expect(why(h, members, T0)).toEqual({ reason: "cooling", retryAfterMs: 60_000, rateLimited: true });
    expect(why(h, members, T0 + 59_999).reason).toBe("cooling");
    expect(h.pick(POOL, members, MODEL, T0 + 60_000, NONE).ok).toBe(true);
  });

  it("caps retryAfterMs at rateLimitCooldownMaxMs", () => {
    const h = health();
    const members = [member("a")];
    h.report(take(h, members, T0), { kind: "failed", cls: "rate_limited", retryAfterMs: 36_000_000 }, T0);
    expect(why(h, members, T0)).toEqual({ reason: "cooling", retryAfterMs: 600_000, rateLimited: true });
    expect(h.pick(POOL, members, MODEL, T0 + 600_000, NONE).ok).toBe(true);
  });

  it("cools only the model that was rate-limited", () => {
    const h = health();
    const members = [member("a")];
    h.report(take(h, members, T0), { kind: "failed", cls: "rate_limited", retryAfterMs: 30_000 }, T0);
    expect(why(h, members, T0 + 1, "gpt-4o").reason).toBe("cooling");
    expect(take(h, members, T0 + 1, "gpt-4o-mini").member.id).toBe("a");
  });

  it("sends requests for the rate-limited model to the other members meanwhile", () => {
    const h = health();
    const members = [member("a"), member("b")];
    h.report(takeMember(h, members, "a", T0), { kind: "failed", cls: "rate_limited", retryAfterMs: 30_000 }, T0);
    expect(distribution(h, members, 6, T0 + 1).counts).toEqual({ b: 6 });
  });

  it("reports the earliest rate-limit expiry when every member is cooling and some are rate-limited", () => {
    const h = health();
    const members = [member("a"), member("b"), member("c")];
    h.report(takeMember(h, members, "a", T0), { kind: "failed", cls: "server" }, T0); // until T0+1000
    h.report(takeMember(h, members, "b", T0), { kind: "failed", cls: "rate_limited", retryAfterMs: 30_000 }, T0);
    h.report(takeMember(h, members, "c", T0), { kind: "failed", cls: "rate_limited", retryAfterMs: 20_000 }, T0);
    expect(why(h, members, T0 + 500)).toEqual({ reason: "cooling", retryAfterMs: 19_500, rateLimited: true });
  });

  it("reports the earliest expiry and rateLimited false when no member is rate-limited", () => {
    const h = health();
    const members = [member("a"), member("b")];
    h.report(takeMember(h, members, "a", T0), { kind: "failed", cls: "server" }, T0); // 1000
    h.report(takeMember(h, members, "b", T0), { kind: "failed", cls: "timeout" }, T0 + 300); // 1300
    expect(why(h, members, T0 + 100)).toEqual({ reason: "cooling", retryAfterMs: 900, rateLimited: false });
  });
});

describe("PoolHealth failures and backoff", () => {
  it("applies a network failure to every model on that member", () => {
    const h = health();
    const members = [member("a")];
    h.report(take(h, members, T0, "gpt-4o"), { kind: "failed", cls: "network" }, T0);
    for (const model of ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]) {
      expect(why(h, members, T0 + 1, model)).toEqual({ reason: "cooling", retryAfterMs: 999, rateLimited: false });
    }
  });

  it("applies a server error only to the model that failed", () => {
    const h = health();
    const members = [member("a")];
    h.report(take(h, members, T0, "gpt-4o"), { kind: "failed", cls: "server" }, T0);
    expect(why(h, members, T0 + 1, "gpt-4o").reason).toBe("cooling");
    expect(h.pick(POOL, members, "gpt-4o-mini", T0 + 1, NONE).ok).toBe(true);
  });

  it("doubles the 5xx backoff on each failed probe and caps it at backoffMaxMs", () => {
    const h = health();
    const members = [member("a")];
    let now = T0;
    const waits: number[] = [];
    let ticket = take(h, members, now);
    for (let i = 0; i < 6; i++) {
      expect(h.report(ticket, { kind: "failed", cls: "server" }, now)).toBe(true);
      const w = why(h, members, now);
      if (w.reason !== "cooling") throw new Error(w.reason);
      waits.push(w.retryAfterMs);
      now += w.retryAfterMs;
      ticket = take(h, members, now); // the probe
      expect(ticket.probes).toHaveLength(1);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
  });

  it("counts consecutive failures in the view's cool-down entries", () => {
    const h = health();
    const members = [member("a")];
    h.report(take(h, members, T0), { kind: "failed", cls: "server" }, T0);
    h.report(take(h, members, T0 + 1_000), { kind: "failed", cls: "server" }, T0 + 1_000);
    const [view] = h.view(POOL, members, T0 + 1_000);
    expect(view!.cooldowns).toEqual([
      { model: MODEL, class: "server", until: new Date(T0 + 3_000).toISOString(), failures: 2 },
    ]);
  });

  it("does not cool a member for a client error or a broken stream", () => {
    const h = health();
    const members = [member("a")];
    expect(h.report(take(h, members, T0), { kind: "client_error" }, T0)).toBe(false);
    expect(h.report(take(h, members, T0), { kind: "broken_stream" }, T0)).toBe(true);
    expect(take(h, members, T0).probes).toEqual([]);
  });

  it("reports ok without durable change when nothing was being probed", () => {
    const h = health();
    const members = [member("a")];
    expect(h.report(take(h, members, T0), { kind: "ok" }, T0)).toBe(false);
  });
});

describe("PoolHealth probes", () => {
  function cooledThenExpired() {
    const h = health();
    const members = [member("a")];
    h.report(take(h, members, T0), { kind: "failed", cls: "server" }, T0);
    return { h, members, now: T0 + 1_000 };
  }

  it("allows exactly one probe after the cool-down ends; other requests get cooling", () => {
    const { h, members, now } = cooledThenExpired();
    const probe = take(h, members, now);
    expect(probe.probes).toHaveLength(1);
    for (let i = 0; i < 3; i++) {
      expect(why(h, members, now + i)).toEqual({ reason: "cooling", retryAfterMs: 1_000, rateLimited: false });
    }
  });

  it("sends the other requests to other members while the probe is out", () => {
    const h = health();
    const members = [member("a"), member("b")];
    h.report(takeMember(h, members, "a", T0), { kind: "failed", cls: "server" }, T0);
    const probe = takeMember(h, members, "a", T0 + 1_000);
    expect(probe.probes).toHaveLength(1);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 5; i++) {
      const t = take(h, members, T0 + 1_000);
      counts[t.member.id] = (counts[t.member.id] ?? 0) + 1;
    }
    expect(counts).toEqual({ b: 5 });
  });

  it("clears the cool-down when the probe succeeds", () => {
    const { h, members, now } = cooledThenExpired();
    const probe = take(h, members, now);
    expect(h.report(probe, { kind: "ok" }, now)).toBe(true);
    expect(h.view(POOL, members, now)[0]!).toMatchObject({ state: "healthy", cooldowns: [] });
    const next = take(h, members, now);
    expect(next.probes).toEqual([]);
    // The backoff starts again from the base after a success.
    h.report(next, { kind: "failed", cls: "server" }, now);
    expect(why(h, members, now)).toMatchObject({ retryAfterMs: 1_000 });
  });

  it("clears the cool-down when the probe gets a client error (the member answered)", () => {
    const { h, members, now } = cooledThenExpired();
    expect(h.report(take(h, members, now), { kind: "client_error" }, now)).toBe(true);
    expect(take(h, members, now).probes).toEqual([]);
  });

  it("re-cools with a doubled backoff when the probe fails", () => {
    const { h, members, now } = cooledThenExpired();
    h.report(take(h, members, now), { kind: "failed", cls: "server" }, now);
    expect(why(h, members, now)).toEqual({ reason: "cooling", retryAfterMs: 2_000, rateLimited: false });
    expect(why(h, members, now + 1_999).reason).toBe("cooling");
    expect(take(h, members, now + 2_000).probes).toHaveLength(1);
  });

  it("frees the probe slot when the probe is cancelled, without durable change", () => {
    const { h, members, now } = cooledThenExpired();
    const probe = take(h, members, now);
    expect(h.report(probe, { kind: "cancelled" }, now)).toBe(false);
    const again = take(h, members, now);
    expect(again.probes).toEqual(probe.probes);
  });

  it("frees an in-flight slot for cancelled requests too", () => {
    const h = health();
    const members = [member("a")];
    const t = take(h, members, T0);
    expect(h.view(POOL, members, T0)[0]!.inFlight).toBe(1);
    h.report(t, { kind: "cancelled" }, T0);
    expect(h.view(POOL, members, T0)[0]!.inFlight).toBe(0);
  });

  // BUG (see the report): an outcome other than ok / client_error / cancelled / a failure of
  // the same class leaves the probed cool-down marked as probing, and the member is then
  // refused for that model for as long as the Relay lives.
  it("frees the probe slot when the probe's stream breaks", () => {
    const { h, members, now } = cooledThenExpired();
    h.report(take(h, members, now), { kind: "broken_stream" }, now);
    expect(h.pick(POOL, members, MODEL, now + 3_600_000, NONE).ok).toBe(true);
  });

  it("frees the probe slot when the probe fails with another error class", () => {
    const { h, members, now } = cooledThenExpired();
    h.report(take(h, members, now), { kind: "failed", cls: "rate_limited", retryAfterMs: 1_000 }, now);
    // Both the server and the rate-limit cool-downs have long expired: a probe should go out.
    expect(h.pick(POOL, members, MODEL, now + 3_600_000, NONE).ok).toBe(true);
  });

  it("does not keep a re-enabled member blocked by the probe that got 401", () => {
    const h = health();
    const members = [member("a", 1, "old-key")];
    h.report(take(h, members, T0), { kind: "failed", cls: "server" }, T0);
    h.report(take(h, members, T0 + 1_000), { kind: "auth_failed", status: 401 }, T0 + 1_000);
    // The key is rotated; the member gets a fresh chance.
    expect(h.pick(POOL, [member("a", 1, "new-key")], MODEL, T0 + 3_600_000, NONE).ok).toBe(true);
  });
});

describe("PoolHealth disables", () => {
  it("disables a member after auth_failed and routes around it", () => {
    const h = health();
    const members = [member("a"), member("b")];
    expect(h.report(takeMember(h, members, "a", T0), { kind: "auth_failed", status: 401 }, T0)).toBe(true);
    expect(distribution(h, members, 5, T0 + 86_400_000).counts).toEqual({ b: 5 });
  });

  it("says all_disabled when every member is disabled, whatever the exclude set", () => {
    const h = health();
    const members = [member("a"), member("b")];
    h.report(takeMember(h, members, "a", T0), { kind: "auth_failed", status: 401 }, T0);
    h.report(takeMember(h, members, "b", T0), { kind: "auth_failed", status: 403 }, T0);
    expect(why(h, members, T0)).toEqual({ reason: "all_disabled" });
    expect(why(h, members, T0, MODEL, new Set(["a"]))).toEqual({ reason: "all_disabled" });
  });

  it("keeps the disable through snapshot() and restore() into a new PoolHealth", () => {
    const h = health();
    const members = [member("a")];
    h.report(take(h, members, T0), { kind: "auth_failed", status: 401 }, T0);
    const persisted = JSON.parse(JSON.stringify(h.snapshot())) as HealthSnapshot;
    const fresh = health();
    fresh.restore(persisted);
    expect(why(fresh, members, T0 + 86_400_000)).toEqual({ reason: "all_disabled" });
    expect(fresh.view(POOL, members, T0)[0]!).toMatchObject({ state: "disabled", disabledStatus: 401 });
  });

  it("re-enables a disabled member when its fingerprint changes (key or host rotated)", () => {
    const h = health();
    h.report(take(h, [member("a", 1, "old")], T0), { kind: "auth_failed", status: 401 }, T0);
    const fresh = health();
    fresh.restore(JSON.parse(JSON.stringify(h.snapshot())) as HealthSnapshot);
    const rotated = [member("a", 1, "new")];
    expect(take(fresh, rotated, T0 + 1).member.fingerprint).toBe("new");
    expect(fresh.view(POOL, rotated, T0 + 1)[0]!.state).toBe("healthy");
  });

  it("restores cool-downs and failure scores from a snapshot", () => {
    const h = health();
    const members = [member("a"), member("b")];
    h.report(takeMember(h, members, "a", T0), { kind: "failed", cls: "rate_limited", retryAfterMs: 30_000 }, T0);
    h.report(takeMember(h, members, "b", T0), { kind: "broken_stream" }, T0);
    const fresh = health();
    fresh.restore(JSON.parse(JSON.stringify(h.snapshot())) as HealthSnapshot);
    expect(fresh.pick(POOL, [members[0]!], MODEL, T0 + 1, NONE)).toEqual({
      ok: false,
      why: { reason: "cooling", retryAfterMs: 29_999, rateLimited: true },
    });
    expect(fresh.view(POOL, members, T0)[1]!.failureScore).toBe(1);
  });

  it("leaves untouched members out of the snapshot", () => {
    const h = health();
    const members = [member("a"), member("b")];
    h.report(take(h, members, T0), { kind: "ok" }, T0);
    expect(h.snapshot()).toEqual({ v: 1, members: {} });
  });
});

describe("PoolHealth exclude set", () => {
  it("says all_tried when every enabled member is excluded", () => {
    const h = health();
    const members = [member("a"), member("b"), member("c")];
    h.report(takeMember(h, members, "c", T0), { kind: "auth_failed", status: 401 }, T0);
    expect(why(h, members, T0, MODEL, new Set(["a", "b"]))).toEqual({ reason: "all_tried" });
  });

  it("never picks an excluded member", () => {
    const h = health();
    const members = [member("a", 5), member("b", 1)];
    for (let i = 0; i < 10; i++) expect(take(h, members, T0, MODEL, new Set(["a"])).member.id).toBe("b");
  });

  it("says cooling, not all_tried, when the members not excluded are cooling", () => {
    const h = health();
    const members = [member("a"), member("b")];
    h.report(takeMember(h, members, "b", T0), { kind: "failed", cls: "server" }, T0);
    expect(why(h, members, T0, MODEL, new Set(["a"]))).toEqual({
      reason: "cooling",
      retryAfterMs: 1_000,
      rateLimited: false,
    });
  });
});

describe("PoolHealth.view", () => {
  it("shows healthy, cooling, probing and disabled members", () => {
    const h = health();
    const members = [member("healthy"), member("cooling"), member("probing"), member("disabled")];
    h.report(takeMember(h, members, "cooling", T0), { kind: "failed", cls: "rate_limited", retryAfterMs: 60_000 }, T0);
    h.report(takeMember(h, members, "probing", T0), { kind: "failed", cls: "server" }, T0);
    h.report(takeMember(h, members, "disabled", T0), { kind: "auth_failed", status: 403 }, T0);
    const now = T0 + 1_000; // the server cool-down has just ended: next request to it is a probe
    const view = h.view(POOL, members, now);
    expect(view.map((v) => [v.id, v.state])).toEqual([
      ["healthy", "healthy"],
      ["cooling", "cooling"],
      ["probing", "probing"],
      ["disabled", "disabled"],
    ]);
    expect(view[0]).toEqual({ id: "healthy", weight: 1, state: "healthy", failureScore: 0, inFlight: 0, cooldowns: [] });
    expect(view[1]).toMatchObject({
      coolingUntil: new Date(T0 + 60_000).toISOString(),
      cooldowns: [{ model: MODEL, class: "rate_limited", until: new Date(T0 + 60_000).toISOString(), failures: 1 }],
    });
    expect(view[1]!.failureScore).toBeGreaterThan(0.99);
    expect(view[1]!.failureScore).toBeLessThan(1);
    expect(view[2]).not.toHaveProperty("coolingUntil");
    expect(view[3]).toMatchObject({ disabledStatus: 403 });
  });

  it("shows in-flight counts", () => {
    const h = health();
    const members = [member("a")];
    take(h, members, T0);
    take(h, members, T0);
    expect(h.view(POOL, members, T0)[0]!.inFlight).toBe(2);
  });

  it("exposes only the documented fields, and nothing key-like such as the fingerprint", () => {
    const h = health();
    const fingerprint = "c0ffee0123456789abcdef01";
    const members = [member("a", 2, fingerprint), member("b", 1, fingerprint + "b")];
    h.report(takeMember(h, members, "a", T0), { kind: "auth_failed", status: 401 }, T0);
    h.report(takeMember(h, members, "b", T0), { kind: "failed", cls: "network" }, T0);
    const allowed = new Set(["id", "weight", "state", "coolingUntil", "disabledStatus", "failureScore", "inFlight", "cooldowns"]);
    const view = h.view(POOL, members, T0);
    for (const v of view) {
      for (const field of Object.keys(v)) expect(allowed.has(field), field).toBe(true);
      for (const c of v.cooldowns) expect(Object.keys(c).sort()).toEqual(["class", "failures", "model", "until"]);
    }
    const text = JSON.stringify(view);
    expect(text).not.toContain(fingerprint);
    expect(text).not.toMatch(/key|secret|fingerprint|token/i);
  });
});

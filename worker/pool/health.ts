/**
 * Health of pool members, as seen by one Relay: failure scores, cool-downs, in-flight counts
 * and disables. Pure: the clock is passed in, persistence is the caller's (snapshot/restore).
 *
 * Cool-downs are kept per (member, model, error class). Network failures concern the host,
 * not a model, so they are recorded under model "*" and apply to every model. When a
 * cool-down ends the member is not trusted at once: the next request is its probe, and no
 * other request is sent to it (for that model) until the probe has answered.
 */
export type ErrorClass = "rate_limited" | "server" | "network" | "timeout";

export type Outcome =
  | { kind: "ok" }
  /** The upstream answered 4xx for the request itself: the member is fine. */
  | { kind: "client_error" }
  | { kind: "failed"; cls: ErrorClass; retryAfterMs?: number }
  | { kind: "auth_failed"; status: number }
  /** The caller left before the upstream answered: tells nothing about the member. */
  | { kind: "cancelled" }
  /** The stream broke after the first byte: counts in the score, no cool-down. */
  | { kind: "broken_stream" };

export interface HealthSettings {
  rateLimitCooldownMs: number;
  rateLimitCooldownMaxMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  failureHalfLifeMs: number;
}

export interface MemberRef {
  id: string;
  weight: number;
  fingerprint: string;
}

interface Cooldown {
  model: string;
  cls: ErrorClass;
  until: number;
  /** Consecutive failures of this kind; drives the exponential backoff. */
  failures: number;
  probing: boolean;
}

interface MemberState {
  score: number;
  scoreAt: number;
  inFlight: number;
  /** Smooth weighted round robin (nginx): current weight. */
  current: number;
  disabled?: { fingerprint: string; status: number; at: number };
  cooldowns: Map<string, Cooldown>;
}

export interface Ticket {
  pool: string;
  member: MemberRef;
  model: string;
  /** Cool-down entries this request probes; cleared or renewed by its outcome. */
  probes: string[];
}

export type Unavailable =
  | { reason: "all_disabled" }
  | { reason: "cooling"; retryAfterMs: number; rateLimited: boolean }
  | { reason: "all_tried" };

export interface MemberView {
  id: string;
  weight: number;
  state: "healthy" | "cooling" | "probing" | "disabled";
  coolingUntil?: string;
  disabledStatus?: number;
  failureScore: number;
  inFlight: number;
  cooldowns: { model: string; class: ErrorClass; until: string; failures: number }[];
}

export interface HealthSnapshot {
  v: 1;
  members: Record<
    string,
    { score: number; scoreAt: number; disabled?: MemberState["disabled"]; cooldowns: Omit<Cooldown, "probing">[] }
  >;
}

const ANY_MODEL = "*";
/** Scores closer than this count as equal, so old small failures do not defeat round robin. */
const SCORE_QUANTUM = 0.25;

const cooldownKey = (model: string, cls: ErrorClass) => `${cls}\u0000${model}`;
const memberKey = (pool: string, id: string) => `${pool}/${id}`;

export class PoolHealth {
  private readonly members = new Map<string, MemberState>();
  private readonly settings: HealthSettings;

  constructor(settings: HealthSettings) {
    this.settings = settings;
  }

  private state(pool: string, id: string): MemberState {
    const key = memberKey(pool, id);
    let s = this.members.get(key);
    if (!s) {
      s = { score: 0, scoreAt: 0, inFlight: 0, current: 0, cooldowns: new Map() };
      this.members.set(key, s);
    }
    return s;
  }

  private score(s: MemberState, now: number): number {
    if (s.score === 0) return 0;
    return s.score * 0.5 ** ((now - s.scoreAt) / this.settings.failureHalfLifeMs);
  }

  private isDisabled(s: MemberState, member: MemberRef): boolean {
    if (!s.disabled) return false;
    if (s.disabled.fingerprint !== member.fingerprint) {
      delete s.disabled; // the key or host changed: the new configuration gets a chance
      return false;
    }
    return true;
  }

  /** Cool-down entries that govern `model` on this member. */
  private applicable(s: MemberState, model: string): [string, Cooldown][] {
    const out: [string, Cooldown][] = [];
    for (const entry of s.cooldowns) if (entry[1].model === model || entry[1].model === ANY_MODEL) out.push(entry);
    return out;
  }

  /**
   * Picks the member to try next, or says why none can be. Least failure first: members
   * not cooling, then the lowest decayed failure score, then the fewest in flight, then
   * smooth weighted round robin among the rest.
   */
  pick(pool: string, members: readonly MemberRef[], model: string, now: number, exclude: ReadonlySet<string>):
    | { ok: true; ticket: Ticket }
    | { ok: false; why: Unavailable } {
    type Candidate = { member: MemberRef; s: MemberState; probes: string[]; score: number };
    const candidates: Candidate[] = [];
    let earliest = Infinity;
    let earliestRateLimited = Infinity;
    let enabled = 0;
    for (const member of members) {
      const s = this.state(pool, member.id);
      if (this.isDisabled(s, member)) continue;
      enabled++;
      if (exclude.has(member.id)) continue;
      let blockedUntil = 0;
      let rateLimited = false;
      const probes: string[] = [];
      for (const [key, c] of this.applicable(s, model)) {
        if (c.until > now) {
          blockedUntil = Math.max(blockedUntil, c.until);
          if (c.cls === "rate_limited") rateLimited = true;
        } else if (c.probing) {
          blockedUntil = Math.max(blockedUntil, now + 1_000); // a probe is out: wait for its answer
        } else {
          probes.push(key);
        }
      }
      if (blockedUntil > 0) {
        earliest = Math.min(earliest, blockedUntil);
        if (rateLimited) earliestRateLimited = Math.min(earliestRateLimited, blockedUntil);
        continue;
      }
      candidates.push({ member, s, probes, score: Math.round(this.score(s, now) / SCORE_QUANTUM) });
    }
    if (candidates.length === 0) {
      if (enabled === 0) return { ok: false, why: { reason: "all_disabled" } };
      if (earliest === Infinity) return { ok: false, why: { reason: "all_tried" } };
      const rateLimited = earliestRateLimited !== Infinity;
      const until = rateLimited ? earliestRateLimited : earliest;
      return { ok: false, why: { reason: "cooling", retryAfterMs: Math.max(0, until - now), rateLimited } };
    }
    let best = candidates.filter((c) => c.score === Math.min(...candidates.map((x) => x.score)));
    const fewest = Math.min(...best.map((c) => c.s.inFlight));
    best = best.filter((c) => c.s.inFlight === fewest);
    let total = 0;
    let chosen = best[0]!;
    for (const c of best) {
      c.s.current += c.member.weight;
      total += c.member.weight;
      if (c.s.current > chosen.s.current) chosen = c;
    }
    chosen.s.current -= total;
    chosen.s.inFlight++;
    for (const key of chosen.probes) chosen.s.cooldowns.get(key)!.probing = true;
    return { ok: true, ticket: { pool, member: chosen.member, model, probes: chosen.probes } };
  }

  /**
   * Records how an attempt ended. Returns true when durable state changed (a disable or a
   * cool-down), so the caller knows to checkpoint.
   */
  report(ticket: Ticket, outcome: Outcome, now: number): boolean {
    const s = this.state(ticket.pool, ticket.member.id);
    s.inFlight = Math.max(0, s.inFlight - 1);
    // Whatever happened, this request's probe is over: the slot must never stay taken.
    for (const key of ticket.probes) {
      const c = s.cooldowns.get(key);
      if (c) c.probing = false;
    }
    /** The member answered: the cool-downs it was probing are over. */
    const endProbes = () => {
      for (const key of ticket.probes) s.cooldowns.delete(key);
      return ticket.probes.length > 0;
    };
    const addScore = () => {
      s.score = this.score(s, now) + 1;
      s.scoreAt = now;
    };
    switch (outcome.kind) {
      case "ok":
      case "client_error":
        return endProbes();
      case "cancelled":
        return false;
      case "broken_stream":
        endProbes();
        addScore();
        return true;
      case "auth_failed":
        endProbes();
        addScore();
        s.disabled = { fingerprint: ticket.member.fingerprint, status: outcome.status, at: now };
        return true;
      case "failed": {
        addScore();
        const model = outcome.cls === "network" ? ANY_MODEL : ticket.model;
        const key = cooldownKey(model, outcome.cls);
        const failures = (s.cooldowns.get(key)?.failures ?? 0) + 1;
        const ms =
          outcome.cls === "rate_limited"
            ? Math.min(outcome.retryAfterMs ?? this.settings.rateLimitCooldownMs, this.settings.rateLimitCooldownMaxMs)
            : Math.min(this.settings.backoffBaseMs * 2 ** (failures - 1), this.settings.backoffMaxMs);
        s.cooldowns.set(key, { model, cls: outcome.cls, until: now + ms, failures, probing: false });
        return true;
      }
    }
  }

  view(pool: string, members: readonly MemberRef[], now: number): MemberView[] {
    return members.map((member) => {
      const s = this.state(pool, member.id);
      const cooldowns = [...s.cooldowns.values()];
      const active = cooldowns.filter((c) => c.until > now);
      const until = active.length ? Math.max(...active.map((c) => c.until)) : 0;
      const state: MemberView["state"] = this.isDisabled(s, member)
        ? "disabled"
        : active.length
          ? "cooling"
          : cooldowns.length
            ? "probing"
            : "healthy";
      return {
        id: member.id,
        weight: member.weight,
        state,
        ...(until ? { coolingUntil: new Date(until).toISOString() } : {}),
        ...(s.disabled && state === "disabled" ? { disabledStatus: s.disabled.status } : {}),
        failureScore: Math.round(this.score(s, now) * 1000) / 1000,
        inFlight: s.inFlight,
        cooldowns: cooldowns.map((c) => ({
          model: c.model,
          class: c.cls,
          until: new Date(c.until).toISOString(),
          failures: c.failures,
        })),
      };
    });
  }

  snapshot(): HealthSnapshot {
    const members: HealthSnapshot["members"] = {};
    for (const [key, s] of this.members) {
      if (!s.disabled && s.cooldowns.size === 0 && s.score === 0) continue;
      members[key] = {
        score: s.score,
        scoreAt: s.scoreAt,
        ...(s.disabled ? { disabled: s.disabled } : {}),
        cooldowns: [...s.cooldowns.values()].map(({ probing: _probing, ...c }) => c),
      };
    }
    return { v: 1, members };
  }

  restore(snapshot: HealthSnapshot): void {
    for (const [key, m] of Object.entries(snapshot.members)) {
      const s: MemberState = { score: m.score, scoreAt: m.scoreAt, inFlight: 0, current: 0, cooldowns: new Map() };
      if (m.disabled) s.disabled = m.disabled;
      for (const c of m.cooldowns) s.cooldowns.set(cooldownKey(c.model, c.cls), { ...c, probing: false });
      this.members.set(key, s);
    }
  }
}

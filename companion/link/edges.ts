/** The configured edge URLs, primary first; one that fails is skipped for a while. */
export class EdgeSet {
  private readonly deadUntil = new Map<string, number>();
  readonly urls: readonly string[];
  private readonly retryMs: number;

  constructor(urls: readonly string[], retryMs: number) {
    this.urls = urls.map((u) => u.replace(/\/+$/, ""));
    this.retryMs = retryMs;
  }

  /** Healthy edges in preference order, then the dead ones (soonest back first) as a last resort. */
  order(now = Date.now()): string[] {
    const alive = this.urls.filter((u) => (this.deadUntil.get(u) ?? 0) <= now);
    const dead = this.urls.filter((u) => !alive.includes(u)).sort((a, b) => this.deadUntil.get(a)! - this.deadUntil.get(b)!);
    return [...alive, ...dead];
  }

  markDead(url: string, now = Date.now()): void {
    this.deadUntil.set(url, now + this.retryMs);
  }

  markAlive(url: string): void {
    this.deadUntil.delete(url);
  }

  view(now = Date.now()) {
    return this.urls.map((url) => {
      const until = this.deadUntil.get(url) ?? 0;
      return until > now ? { url, healthy: false, deadUntil: new Date(until).toISOString() } : { url, healthy: true };
    });
  }
}

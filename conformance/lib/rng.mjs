// A small seeded PRNG (mulberry32), so that a seed names a run and a
// (seed, case number) pair names one case.

export function mix(...numbers) {
  // FNV-1a over the decimal text of the numbers: cheap and well spread.
  let h = 0x811c9dc5;
  for (const ch of numbers.join(":")) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

export class Rng {
  constructor(seed) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next() {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, n). */
  int(n) {
    return Math.floor(this.next() * n);
  }

  chance(p) {
    return this.next() < p;
  }

  pick(items) {
    return items[this.int(items.length)];
  }

  /** One of `entries` ([value, weight] pairs), with probability by weight. */
  weighted(entries) {
    const live = entries.filter(([, w]) => w > 0);
    if (!live.length) return undefined;
    const total = live.reduce((sum, [, w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [value, w] of live) {
      if ((r -= w) < 0) return value;
    }
    return live[live.length - 1][0];
  }

  shuffle(items) {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}

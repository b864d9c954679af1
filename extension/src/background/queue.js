// Persistent event queue: every event waits in storage until the backend acknowledges it.
//
// - enqueue() appends to storage (chrome.storage.local survives browser restarts).
// - flush() sends batches of up to 100 in order, single-flight. Each event keeps its
//   client id (UUID), so a batch re-sent after a lost response is deduplicated server-side.
// - Network errors, 5xx and 429: keep everything, retry with exponential backoff
//   (the caller's `schedule` arranges it with chrome.alarms so it survives SW suspension).
// - 401: keep everything and stop until the token changes (unblock()).
// - Other 4xx: the batch is re-sent one event at a time once, so one bad event cannot
//   sink 99 good ones; events rejected alone are logged and dropped (never retried forever).
import { MAX_BATCH } from "../shared/protocol.js";

export const QUEUE_KEY = "pf:queue";
export const META_KEY = "pf:queue-meta";
export const REJECTED_KEY = "pf:rejected";
const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 60 * 1000; // a local backend coming back is noticed within a minute
const REJECTED_LOG_SIZE = 50;

/** Delay before retry number `attempt` (1-based): 1 s, 2 s, 4 s ... capped at 60 s, +0-20% jitter. */
export function backoffDelay(attempt, random = Math.random) {
  const base = Math.min(BASE_DELAY_MS * 2 ** Math.max(0, attempt - 1), MAX_DELAY_MS);
  return Math.round(base * (1 + 0.2 * random()));
}

export class EventQueue {
  /**
   * @param {object} deps
   * @param {{get(key:string):Promise<any>, set(key:string, value:any):Promise<void>}} deps.storage
   * @param {(events:object[]) => Promise<{status:"ok"|"retry"|"auth"|"rejected", detail?:any}>} deps.send
   * @param {(delayMs:number) => void} deps.schedule  arrange a later flush()
   */
  constructor({ storage, send, schedule = () => {}, log = console, now = Date.now, random = Math.random }) {
    Object.assign(this, { storage, send, schedule, log, now, random });
    this._lock = Promise.resolve();
    this._flushing = null;
  }

  // Serialise read-modify-write of the stored queue.
  _locked(fn) {
    const run = this._lock.then(fn, fn);
    this._lock = run.catch(() => {});
    return run;
  }

  async events() {
    return (await this.storage.get(QUEUE_KEY)) || [];
  }

  async meta() {
    return (await this.storage.get(META_KEY)) || { attempts: 0, nextAt: 0, blocked: null, lastError: null };
  }

  async size() {
    return (await this.events()).length;
  }

  enqueue(...events) {
    return this._locked(async () => {
      const queue = await this.events();
      const known = new Set(queue.map((e) => e.id));
      for (const event of events) if (!known.has(event.id)) queue.push(event);
      await this.storage.set(QUEUE_KEY, queue);
      return queue.length;
    });
  }

  _remove(ids) {
    const drop = new Set(ids);
    return this._locked(async () => {
      const queue = (await this.events()).filter((e) => !drop.has(e.id));
      await this.storage.set(QUEUE_KEY, queue);
      return queue.length;
    });
  }

  async _setMeta(patch) {
    const meta = { ...(await this.meta()), ...patch };
    await this.storage.set(META_KEY, meta);
    return meta;
  }

  async _reject(events, detail) {
    const log = (await this.storage.get(REJECTED_KEY)) || [];
    for (const e of events) log.push({ event: e, detail, at: new Date(this.now()).toISOString() });
    await this.storage.set(REJECTED_KEY, log.slice(-REJECTED_LOG_SIZE));
    this.log.warn(`[paperfeed] backend rejected ${events.length} event(s); dropped`, detail);
    await this._remove(events.map((e) => e.id));
  }

  async _retryLater(error) {
    const meta = await this.meta();
    const attempts = meta.attempts + 1;
    const delay = backoffDelay(attempts, this.random);
    await this._setMeta({ attempts, nextAt: this.now() + delay, lastError: String(error || "unreachable") });
    this.schedule(delay);
    return delay;
  }

  /** Clear a 401 block (after the token changed). */
  async unblock() {
    await this._setMeta({ blocked: null, attempts: 0, nextAt: 0 });
  }

  /** Send everything pending. Resolves to {sent, pending, state}. Never rejects. */
  flush() {
    if (!this._flushing) {
      this._flushing = this._flush().finally(() => {
        this._flushing = null;
      });
    }
    return this._flushing;
  }

  async _flush() {
    let sent = 0;
    try {
      if ((await this.meta()).blocked) return { sent, pending: await this.size(), state: "blocked" };
      for (;;) {
        const batch = (await this.events()).slice(0, MAX_BATCH);
        if (batch.length === 0) {
          await this._setMeta({ attempts: 0, nextAt: 0, lastError: null });
          return { sent, pending: 0, state: "idle" };
        }
        const result = await this.send(batch);
        if (result.status === "ok") {
          await this._remove(batch.map((e) => e.id));
          await this._setMeta({ attempts: 0, nextAt: 0, lastError: null });
          sent += batch.length;
        } else if (result.status === "retry") {
          await this._retryLater(result.detail);
          return { sent, pending: await this.size(), state: "retrying" };
        } else if (result.status === "auth") {
          await this._setMeta({ blocked: "auth", lastError: "token rejected (401)" });
          this.log.warn("[paperfeed] backend rejected the token; events kept until it changes");
          return { sent, pending: await this.size(), state: "blocked" };
        } else if (batch.length === 1) {
          await this._reject(batch, result.detail);
        } else {
          // Isolate the bad event(s): one pass, one event at a time.
          for (const event of batch) {
            const single = await this.send([event]);
            if (single.status === "ok") {
              await this._remove([event.id]);
              sent += 1;
            } else if (single.status === "rejected") {
              await this._reject([event], single.detail);
            } else {
              if (single.status === "auth") await this._setMeta({ blocked: "auth" });
              else await this._retryLater(single.detail);
              return { sent, pending: await this.size(), state: single.status === "auth" ? "blocked" : "retrying" };
            }
          }
        }
      }
    } catch (error) {
      // Storage failure or a bug: keep the events, try again later.
      this.log.error("[paperfeed] flush failed", error);
      await this._retryLater(error).catch(() => {});
      return { sent, pending: await this.size().catch(() => -1), state: "retrying" };
    }
  }
}

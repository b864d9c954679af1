// The persistent event queue: batching, retry with backoff, idempotent ids, persistence.
import { test } from "node:test";
import assert from "node:assert/strict";
import { EventQueue, QUEUE_KEY, META_KEY, REJECTED_KEY, backoffDelay } from "../src/background/queue.js";
import { FakeStorage } from "./helpers.js";

const quiet = { warn() {}, error() {} };
let n = 0;
const ev = (type = "save", paper_id = "2412.01824") => ({ id: crypto.randomUUID(), type, paper_id, ts: new Date().toISOString(), seq: n++ });

/** A scripted backend: responses[i] answers call i; records every batch. */
function fakeSend(...responses) {
  const calls = [];
  const send = async (events) => {
    calls.push(events.map((e) => e.id));
    const r = responses.length > 1 ? responses.shift() : responses[0];
    return typeof r === "function" ? r(events) : r;
  };
  return { send, calls };
}
const OK = { status: "ok" };
const DOWN = { status: "retry", detail: "backend unreachable" };

test("batches of at most 100, in order, each event once", async () => {
  const storage = new FakeStorage();
  const { send, calls } = fakeSend(OK);
  const q = new EventQueue({ storage, send, log: quiet });
  const events = Array.from({ length: 250 }, () => ev());
  await q.enqueue(...events);
  const r = await q.flush();
  assert.deepEqual(calls.map((c) => c.length), [100, 100, 50]);
  assert.deepEqual(calls.flat(), events.map((e) => e.id));
  assert.equal(r.sent, 250);
  assert.equal(await q.size(), 0);
});

test("network error: nothing dropped, retry scheduled with growing backoff, same ids re-sent", async () => {
  const storage = new FakeStorage();
  const delays = [];
  const { send, calls } = fakeSend(DOWN, DOWN, DOWN, OK);
  const q = new EventQueue({ storage, send, schedule: (d) => delays.push(d), log: quiet, random: () => 0 });
  const events = [ev("save"), ev("open")];
  await q.enqueue(...events);
  for (let i = 0; i < 3; i++) assert.equal((await q.flush()).state, "retrying");
  assert.deepEqual(delays, [1000, 2000, 4000]);
  assert.equal((await q.meta()).attempts, 3);
  assert.equal(await q.size(), 2);
  const r = await q.flush();
  assert.equal(r.state, "idle");
  assert.equal(r.sent, 2);
  assert.equal(calls.length, 4);
  for (const c of calls) assert.deepEqual(c, events.map((e) => e.id)); // idempotent: the same client ids every time
  assert.equal((await q.meta()).attempts, 0);
});

test("backoff is capped at 60 seconds", () => {
  assert.equal(backoffDelay(1, () => 0), 1000);
  assert.equal(backoffDelay(4, () => 0), 8000);
  assert.equal(backoffDelay(30, () => 0), 60000);
  assert.ok(backoffDelay(30, () => 1) <= 72000);
});

test("5xx is retried like a network error", async () => {
  const storage = new FakeStorage();
  const { send } = fakeSend({ status: "retry", detail: "HTTP 503" }, OK);
  const q = new EventQueue({ storage, send, log: quiet });
  await q.enqueue(ev());
  assert.equal((await q.flush()).state, "retrying");
  assert.equal(await q.size(), 1);
  assert.equal((await q.flush()).sent, 1);
});

test("persistence: a new queue over the same storage (browser restart) sends what is left", async () => {
  const storage = new FakeStorage();
  const first = new EventQueue({ storage, send: fakeSend(DOWN).send, log: quiet });
  const events = [ev(), ev("dismiss")];
  await first.enqueue(...events);
  await first.flush();
  const restarted = new FakeStorage(storage.snapshot());
  const { send, calls } = fakeSend(OK);
  const second = new EventQueue({ storage: restarted, send, log: quiet });
  await second.flush();
  assert.deepEqual(calls, [events.map((e) => e.id)]);
  assert.deepEqual(restarted.snapshot()[QUEUE_KEY], []);
});

test("4xx on a batch: one pass event by event; only the bad event is dropped and logged", async () => {
  const storage = new FakeStorage();
  const bad = ev("save", "9999.99999");
  const good = [ev(), bad, ev("open")];
  const { send, calls } = fakeSend((events) =>
    events.some((e) => e.id === bad.id) ? { status: "rejected", detail: { status: 422 } } : OK,
  );
  const q = new EventQueue({ storage, send, log: quiet });
  await q.enqueue(...good);
  const r = await q.flush();
  assert.equal(r.sent, 2);
  assert.equal(await q.size(), 0);
  assert.equal(calls.length, 4); // the batch, then each of the three alone
  const rejected = storage.snapshot()[REJECTED_KEY];
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0].event.id, bad.id);
  await q.flush();
  assert.equal(calls.length, 4); // never retried
});

test("401 keeps the events and stops until unblock()", async () => {
  const storage = new FakeStorage();
  const { send, calls } = fakeSend({ status: "auth" }, OK);
  const q = new EventQueue({ storage, send, log: quiet });
  await q.enqueue(ev());
  assert.equal((await q.flush()).state, "blocked");
  assert.equal((await q.flush()).state, "blocked");
  assert.equal(calls.length, 1);
  assert.equal(await q.size(), 1);
  await q.unblock();
  assert.equal((await q.flush()).sent, 1);
});

test("flush is single-flight and enqueue during a flush is not lost", async () => {
  const storage = new FakeStorage();
  let release;
  const gate = new Promise((r) => (release = r));
  const calls = [];
  const q = new EventQueue({
    storage,
    log: quiet,
    send: async (events) => {
      calls.push(events.length);
      if (calls.length === 1) await gate;
      return OK;
    },
  });
  await q.enqueue(ev());
  const a = q.flush();
  const b = q.flush();
  assert.equal(a, b);
  const late = ev("unsave");
  await q.enqueue(late);
  release();
  await a;
  assert.deepEqual(calls, [1, 1]);
  assert.equal(await q.size(), 0);
});

test("enqueue ignores an id already queued (no duplicate events)", async () => {
  const storage = new FakeStorage();
  const q = new EventQueue({ storage, send: fakeSend(OK).send, log: quiet });
  const e = ev();
  await q.enqueue(e);
  await q.enqueue(e);
  assert.equal(await q.size(), 1);
});

test("storage failure during flush keeps events and schedules a retry", async () => {
  const storage = new FakeStorage();
  const delays = [];
  const q = new EventQueue({ storage, send: fakeSend(OK).send, schedule: (d) => delays.push(d), log: quiet });
  await q.enqueue(ev());
  const orig = storage.set.bind(storage);
  storage.set = async (k, v) => {
    if (k === QUEUE_KEY) throw new Error("quota");
    return orig(k, v);
  };
  const r = await q.flush();
  assert.equal(r.state, "retrying");
  assert.equal(delays.length, 1);
  storage.set = orig;
  assert.equal(await q.size(), 1);
  assert.ok(storage.snapshot()[META_KEY].lastError.includes("quota"));
});

// The background's message map and the backend client, with fakes for storage and fetch.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createService, KEYS, recommendationQuery } from "../src/background/service.js";
import { EventQueue } from "../src/background/queue.js";
import { Backend, NetworkError } from "../src/background/backend.js";
import { FakeStorage } from "./helpers.js";

const quiet = { warn() {}, error() {} };

function setup({ backend = {}, now = () => Date.parse("2026-11-26T10:00:00Z") } = {}) {
  const storage = new FakeStorage();
  const session = new FakeStorage();
  const sent = [];
  const fake = {
    up: true,
    async sendEvents(events) {
      if (!fake.up) return { status: "retry", detail: "down" };
      sent.push(...events);
      return { status: "ok" };
    },
    async saved() {
      if (!fake.up) throw new NetworkError("down");
      return { items: [] };
    },
    async recommendations() {
      if (!fake.up) throw new NetworkError("down");
      return { model_version: "m1", items: [
        { paper_id: "2412.01824", title: "X", score: 1, reason: { kind: "similar", text: "Because you saved Y" } },
        { paper_id: "2412.00131", title: "Z", score: 0.5, reason: { kind: "trending", text: "Trending" } },
      ] };
    },
    async deleteMe() {},
    async checkToken() {
      return { items: [{ paper_id: "2401.00001", title: "Linked", saved_at: "2026-11-01T00:00:00Z" }] };
    },
    ...backend,
  };
  const queue = new EventQueue({ storage, send: (e) => fake.sendEvents(e), log: quiet });
  let i = 0;
  const service = createService({ storage, session, backend: fake, queue, now, log: quiet, uuid: () => `00000000-0000-4000-8000-${String(++i).padStart(12, "0")}` });
  return { storage, session, service, queue, sent, fake };
}

test("save then unsave: optimistic state, events with only the API's fields", async () => {
  const { service, queue, sent } = setup();
  const r = await service.handle({ type: "action", action: "save", paperId: "2412.01824", title: "  A  title\n", source: "list" });
  assert.deepEqual(r, { paperId: "2412.01824", saved: true, dismissed: false });
  let page = await service.handle({ type: "getPageState", paperIds: ["2412.01824", "2412.00131"] });
  assert.deepEqual(page.saved, ["2412.01824"]);
  await service.handle({ type: "action", action: "unsave", paperId: "2412.01824", source: "popup" });
  page = await service.handle({ type: "getPageState", paperIds: ["2412.01824"] });
  assert.deepEqual(page.saved, []);
  await queue.flush();
  assert.deepEqual(sent.map((e) => e.type), ["save", "unsave"]);
  assert.deepEqual(Object.keys(sent[0]).sort(), ["id", "paper", "paper_id", "source", "ts", "type"]);
  assert.deepEqual(sent[0].paper, { title: "A title" });
  assert.equal(sent[0].ts, "2026-11-26T10:00:00.000Z");
  assert.match(sent[0].id, /^[0-9a-f-]{36}$/);
});

test("open: once per visit (a list click and the page it lands on count once), none when paused", async () => {
  let t = Date.parse("2026-11-26T10:00:00Z");
  const { service, queue, sent } = setup({ now: () => t });
  assert.deepEqual(await service.handle({ type: "open", paperId: "2412.01824", source: "list" }), { recorded: true });
  t += 2000;
  assert.equal((await service.handle({ type: "open", paperId: "2412.01824", source: "paper_page" })).recorded, false);
  t += 60000; // a later visit counts again
  assert.equal((await service.handle({ type: "open", paperId: "2412.01824", source: "paper_page" })).recorded, true);
  await service.handle({ type: "setSettings", paused: true });
  t += 60000;
  assert.deepEqual(await service.handle({ type: "open", paperId: "2412.00131", source: "paper_page" }), { recorded: false, reason: "paused" });
  await queue.flush();
  assert.deepEqual(sent.map((e) => [e.type, e.source]), [["open", "list"], ["open", "paper_page"]]);
});

test("dismiss hides a recommendation locally; offline shows cached items", async () => {
  const { service, fake } = setup();
  let recs = await service.handle({ type: "getRecommendations" });
  assert.equal(recs.status, "ok");
  assert.equal(recs.items.length, 2);
  await service.handle({ type: "action", action: "dismiss", paperId: "2412.01824", source: "sidebar" });
  recs = await service.handle({ type: "getRecommendations" });
  assert.deepEqual(recs.items.map((i) => i.paper_id), ["2412.00131"]);
  fake.up = false;
  recs = await service.handle({ type: "getRecommendations" });
  assert.equal(recs.status, "offline");
  assert.deepEqual(recs.items.map((i) => i.paper_id), ["2412.00131"]);
});

test("saved list: server items plus events still queued, newest first", async () => {
  const { service, fake } = setup({
    backend: {
      async saved() {
        return { items: [{ paper_id: "2401.00001", title: "Old", saved_at: "2026-11-01T00:00:00Z" }, { paper_id: "2401.00002", title: "Older", saved_at: "2026-10-01T00:00:00Z" }] };
      },
    },
  });
  fake.up = false; // events stay queued
  await service.handle({ type: "action", action: "save", paperId: "2412.01824", title: "New" });
  await service.handle({ type: "action", action: "unsave", paperId: "2401.00002" });
  fake.up = true;
  fake.sendEvents = async () => ({ status: "retry" }); // still unsent when the list is fetched
  const r = await service.handle({ type: "getSaved" });
  assert.equal(r.status, "ok");
  assert.deepEqual(r.items.map((i) => i.paper_id), ["2412.01824", "2401.00001"]);
  assert.equal(r.pending, 2);
});

test("bad input is refused: unknown message, bad paper id, bad action", async () => {
  const { service } = setup();
  await assert.rejects(service.handle({ type: "fetchAnything", url: "https://example.com" }), /unknown message type/);
  await assert.rejects(service.handle({ type: "action", action: "save", paperId: "../../etc" }), /bad paper id/);
  await assert.rejects(service.handle({ type: "action", action: "upvote", paperId: "2412.01824" }), /bad action/);
  await assert.rejects(service.handle({ type: "constructor" }), /unknown message type/);
});

test("delete all data resets local state but keeps settings", async () => {
  const { service, storage } = setup();
  await service.handle({ type: "setSettings", backendUrl: "http://127.0.0.1:5055/" });
  await storage.set(KEYS.auth, { token: "t".repeat(20) });
  await service.handle({ type: "action", action: "save", paperId: "2412.01824" });
  assert.deepEqual(await service.handle({ type: "deleteAllData" }), { ok: true });
  const snap = storage.snapshot();
  assert.equal(snap[KEYS.auth], undefined);
  assert.equal(snap[KEYS.saved], undefined);
  assert.equal(snap[KEYS.settings].backendUrl, "http://127.0.0.1:5055");
});

test("pasting a token from another browser: checked, stored, its saved list loaded", async () => {
  const { service, storage } = setup();
  await assert.rejects(service.handle({ type: "setToken", token: "x" }), /does not look like a token/);
  const r = await service.handle({ type: "setToken", token: "abcdefghijklmnop" });
  assert.deepEqual(r, { ok: true });
  assert.equal(storage.snapshot()[KEYS.auth].token, "abcdefghijklmnop");
  // The linked account's saved list shows at once.
  const page = await service.handle({ type: "getPageState", paperIds: ["2401.00001"] });
  assert.deepEqual(page.saved, ["2401.00001"]);
});

// ---- Backend client -------------------------------------------------------------

function fakeFetch(routes) {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    const key = `${init.method} ${new URL(url).pathname}`;
    const handler = routes[key];
    if (!handler) throw new TypeError("Failed to fetch");
    const [status, body] = await handler(init);
    return new Response(body === undefined ? null : JSON.stringify(body), { status });
  };
  return { fetch, calls };
}

function client(routes, auth = {}) {
  const { fetch, calls } = fakeFetch(routes);
  const store = { auth };
  const backend = new Backend({
    baseUrl: async () => "http://127.0.0.1:5055/",
    getAuth: async () => store.auth,
    setAuth: async (a) => void (store.auth = a),
    fetch,
  });
  return { backend, calls, store };
}

test("registers once on first use, then sends the Bearer token", async () => {
  let users = 0;
  const { backend, calls, store } = client({
    "POST /v1/users": async () => [201, { user_id: "u1", token: `tok${++users}` }],
    "POST /v1/events": async (init) => [202, { accepted: JSON.parse(init.body).events.length, duplicates: 0 }],
  });
  const [a, b] = await Promise.all([backend.sendEvents([{ id: "1" }]), backend.sendEvents([{ id: "2" }])]);
  assert.equal(a.status, "ok");
  assert.equal(b.status, "ok");
  assert.equal(users, 1);
  assert.deepEqual(store.auth, { token: "tok1", user_id: "u1" });
  const ev = calls.filter((c) => c.url.endsWith("/v1/events"));
  assert.equal(ev[0].init.headers.Authorization, "Bearer tok1");
  assert.equal(ev[0].url, "http://127.0.0.1:5055/v1/events");
  assert.deepEqual(JSON.parse(ev[0].init.body), { events: [{ id: "1" }] });
});

test("outcomes: network/5xx/429 retry, 401 auth, 422 rejected, registration failure retry", async () => {
  const cases = [
    [{}, "retry"],
    [{ "POST /v1/events": async () => [503, { title: "down" }] }, "retry"],
    [{ "POST /v1/events": async () => [429, {}] }, "retry"],
    [{ "POST /v1/events": async () => [401, { title: "Unauthorized", status: 401 }] }, "auth"],
    [{ "POST /v1/events": async () => [422, { title: "Unprocessable", errors: {} }] }, "rejected"],
  ];
  for (const [routes, expected] of cases) {
    const { backend } = client(routes, { token: "t" });
    assert.equal((await backend.sendEvents([{ id: "1" }])).status, expected, JSON.stringify(Object.keys(routes)));
  }
  const { backend } = client({ "POST /v1/users": async () => [404, {}] });
  assert.equal((await backend.sendEvents([{ id: "1" }])).status, "retry");
});

test("recommendations for a window: until, days and exclude reach the client; the viewed paper never comes back", async () => {
  const asked = [];
  const { service } = setup({
    backend: {
      async recommendations(limit, days, options) {
        asked.push({ limit, days, ...options });
        // A server that ignores `exclude` (or an older one): the client still filters.
        return { model_version: "m1", window: { from: "2024-11-25", until: "2024-12-01" }, items: [
          { paper_id: "2412.01824", title: "Viewed", score: 2, reason: { kind: "trending", text: "Trending" } },
          { paper_id: "2412.00131", title: "Z", score: 1, reason: { kind: "trending", text: "Trending" } },
        ] };
      },
    },
  });
  const r = await service.handle({ type: "getRecommendations", limit: 20, days: 7, until: "2024-12-01", exclude: ["2412.01824"] });
  assert.deepEqual(asked, [{ limit: 20, days: 7, until: "2024-12-01", exclude: ["2412.01824"] }]);
  assert.deepEqual(r.items.map((i) => i.paper_id), ["2412.00131"]);
  assert.deepEqual(r.window, { from: "2024-11-25", until: "2024-12-01" });
  // Without a window in the response (an older server), the reply says so.
  const plain = await setup().service.handle({ type: "getRecommendations" });
  assert.equal(plain.window, null);
});

test("recommendation queries are cleaned to what the API accepts", () => {
  assert.deepEqual(recommendationQuery({}), { days: 7, until: null, exclude: [] });
  assert.deepEqual(recommendationQuery({ days: 31, until: "2024-12-31", exclude: ["2412.01824", "2412.01824"] }),
    { days: 31, until: "2024-12-31", exclude: ["2412.01824"] });
  assert.deepEqual(recommendationQuery({ days: 0, until: "yesterday", exclude: ["../x", 5] }), { days: 7, until: null, exclude: [] });
  assert.equal(recommendationQuery({ days: 91 }).days, 7);
  const many = Array.from({ length: 60 }, (_, i) => `2412.${String(i).padStart(5, "0")}`);
  assert.equal(recommendationQuery({ exclude: many }).exclude.length, 50);
});

test("the recommendations request carries until, days and exclude", async () => {
  const { backend, calls } = client({ "GET /v1/recommendations": async () => [200, { model_version: null, items: [] }] }, { token: "t" });
  await backend.recommendations(20, 1, { until: "2024-12-03", exclude: ["2412.01824", "2412.00131"] });
  await backend.recommendations(20, 7);
  const [dated, recent] = calls.map((c) => new URL(c.url));
  assert.equal(dated.searchParams.get("until"), "2024-12-03");
  assert.equal(dated.searchParams.get("days"), "1");
  assert.equal(dated.searchParams.get("limit"), "20");
  assert.equal(dated.searchParams.get("exclude"), "2412.01824,2412.00131");
  assert.equal(recent.search, "?limit=20&days=7");
});

test("offline, the last list shows only on a page of the same period", async () => {
  const { service, fake } = setup();
  await service.handle({ type: "getRecommendations", days: 1, until: "2024-12-03" });
  fake.up = false;
  const same = await service.handle({ type: "getRecommendations", days: 1, until: "2024-12-03", exclude: ["2412.01824"] });
  assert.equal(same.status, "offline");
  assert.deepEqual(same.items.map((i) => i.paper_id), ["2412.00131"]);
  const other = await service.handle({ type: "getRecommendations", days: 31, until: "2024-12-31" });
  assert.equal(other.status, "offline");
  assert.deepEqual(other.items, []);
});

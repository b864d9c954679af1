// The email digest messages of the background, against a fake backend client.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createService } from "../src/background/service.js";
import { EventQueue } from "../src/background/queue.js";
import { HttpError, NetworkError } from "../src/background/backend.js";
import { digestLine, digestRequest } from "../src/background/digest.js";
import { FakeStorage } from "./helpers.js";

const quiet = { warn() {}, error() {} };

/** A backend whose call() keeps one subscription the way the API does. */
function fakeBackend() {
  const calls = [];
  let subscription = { email: null, frequency: null, hour_utc: null, weekday: null, status: "none", last_sent_at: null };
  const backend = {
    calls,
    down: false,
    async call(method, path, body) {
      calls.push([method, path, body]);
      if (backend.down) throw new NetworkError("down");
      if (path !== "/v1/me/subscription") throw new Error(`unexpected ${path}`);
      if (method === "GET") return subscription;
      if (method === "DELETE") {
        subscription = { ...subscription, status: "none", email: null };
        return null;
      }
      if (body.email === "limited@example.com") throw new HttpError(429, { title: "Too Many Requests" });
      const status = subscription.status === "active" && subscription.email === body.email ? "active" : "pending";
      subscription = { weekday: null, ...body, status, last_sent_at: null };
      return { status };
    },
    async sendEvents() {
      return { status: "ok" };
    },
  };
  return backend;
}

function setup() {
  const storage = new FakeStorage();
  const backend = fakeBackend();
  const queue = new EventQueue({ storage, send: () => ({ status: "ok" }), log: quiet });
  const service = createService({ storage, session: new FakeStorage(), backend, queue, log: quiet });
  return { service, backend };
}

test("digestRequest builds the API body and names what is wrong", () => {
  assert.deepEqual(digestRequest({ email: " a@example.com ", frequency: "daily", hourUtc: "7" }),
    { email: "a@example.com", frequency: "daily", hour_utc: 7 });
  assert.deepEqual(digestRequest({ email: "a@example.com", frequency: "weekly", hourUtc: 20, weekday: "4" }),
    { email: "a@example.com", frequency: "weekly", hour_utc: 20, weekday: 4 });
  assert.throws(() => digestRequest({ email: "nope", frequency: "daily", hourUtc: 7 }), /email address/);
  assert.throws(() => digestRequest({ email: "a@example.com", frequency: "hourly", hourUtc: 7 }), /daily or weekly/);
  assert.throws(() => digestRequest({ email: "a@example.com", frequency: "daily", hourUtc: 24 }), /hour/);
});

test("subscribe, resend, unsubscribe through the message map", async () => {
  const { service, backend } = setup();
  let r = await service.handle({ type: "getDigest" });
  assert.equal(r.line, "Email digest: off");

  r = await service.handle({ type: "setDigest", email: "me@example.com", frequency: "weekly", hourUtc: 6, weekday: 2 });
  assert.equal(r.ok, true);
  assert.equal(r.status, "pending");
  assert.equal(r.line, "Email digest: check your inbox (me@example.com) to confirm");
  assert.deepEqual(backend.calls[1], ["PUT", "/v1/me/subscription", { email: "me@example.com", frequency: "weekly", hour_utc: 6, weekday: 2 }]);

  r = await service.handle({ type: "setDigest", email: "me@example.com", frequency: "weekly", hourUtc: 6, weekday: 2 });
  assert.equal(r.status, "pending"); // resending asks the server for a new confirmation email
  assert.equal(backend.calls.filter(([method]) => method === "PUT").length, 2);

  r = await service.handle({ type: "cancelDigest" });
  assert.equal(r.ok, true);
  assert.equal(r.line, "Email digest: off");
});

test("errors come back as messages, never as exceptions", async () => {
  const { service, backend } = setup();
  let r = await service.handle({ type: "setDigest", email: "x", frequency: "daily", hourUtc: 7 });
  assert.deepEqual(r, { ok: false, error: "enter an email address" });
  assert.equal(backend.calls.length, 0);
  r = await service.handle({ type: "setDigest", email: "limited@example.com", frequency: "daily", hourUtc: 7 });
  assert.match(r.error, /Too many confirmation emails/);
  backend.down = true;
  r = await service.handle({ type: "getDigest" });
  assert.equal(r.ok, false);
  assert.equal(r.line, "Email digest: status unavailable");
});

test("digestLine says every status in one line", () => {
  assert.equal(digestLine({ status: "active", frequency: "daily", email: "a@example.com" }), "Email digest: daily to a@example.com");
  assert.equal(digestLine({ status: "suppressed", email: "a@example.com" }), "Email digest: paused, mail to a@example.com bounced");
  assert.equal(digestLine(undefined), "Email digest: off");
});

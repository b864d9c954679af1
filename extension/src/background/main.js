// Service worker (Chrome) / background script (Firefox): owns every network call and
// all storage. Wires chrome.* to the service's message map and the event queue.
import { Backend } from "./backend.js";
import { EventQueue } from "./queue.js";
import { createService, KEYS } from "./service.js";

const api = globalThis.browser || globalThis.chrome;
const ALARM = "paperfeed-flush";

function area(a) {
  return {
    get: async (key) => (await a.get(key))[key],
    set: (key, value) => a.set({ [key]: value }),
    remove: (key) => a.remove(key),
  };
}
const storage = area(api.storage.local);
// storage.session survives SW suspension but not a browser restart; fall back to memory.
const memory = new Map();
const session = api.storage.session
  ? area(api.storage.session)
  : { get: async (k) => memory.get(k), set: async (k, v) => void memory.set(k, v), remove: async (k) => void memory.delete(k) };

let service;
let timer = null;

function schedule(delayMs) {
  // A timer for quick retries while we are alive; an alarm in case we get suspended.
  clearTimeout(timer);
  timer = setTimeout(() => queue.flush(), delayMs);
  api.alarms.create(ALARM, { when: Date.now() + Math.max(delayMs, 30000) });
}

const backend = new Backend({
  baseUrl: async () => (await service.settings()).backendUrl,
  getAuth: () => storage.get(KEYS.auth),
  setAuth: (auth) => storage.set(KEYS.auth, auth),
});
const queue = new EventQueue({ storage, send: (events) => backend.sendEvents(events), schedule });
service = createService({ storage, session, backend, queue });

api.runtime.onMessage.addListener((message, sender, sendResponse) => {
  // Only our own content scripts and pages talk to us.
  if (!sender || sender.id !== api.runtime.id) return false;
  service.handle(message).then(
    (result) => sendResponse({ ok: true, result }),
    (error) => sendResponse({ ok: false, error: String((error && error.message) || error) }),
  );
  return true;
});

api.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === ALARM) queue.flush();
});
api.runtime.onStartup.addListener(() => queue.flush());
api.runtime.onInstalled.addListener(() => queue.flush());

// Exposed for debugging from the service worker console (and e2e tests).
globalThis.paperfeed = { service, queue, backend, storage };
queue.flush();

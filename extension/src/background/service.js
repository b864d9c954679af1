// The background's state and its message map (the protocol between content scripts,
// popup, options page and background). No chrome.* here: main.js injects storage,
// the backend client and the queue, so this file is unit-tested in node.
import { DAY_RE, DEFAULT_BACKEND_URL, EVENT_TYPES, MAX_DAYS, MAX_EXCLUDE, MAX_TITLE, PAPER_ID_RE, SOURCES } from "../shared/protocol.js";
import { NetworkError, HttpError } from "./backend.js";
import { QUEUE_KEY, META_KEY, REJECTED_KEY } from "./queue.js";
import { digestHandlers } from "./digest.js";

export const KEYS = Object.freeze({
  settings: "pf:settings", // {backendUrl, paused, collapsed}
  auth: "pf:auth", // {token, user_id}
  saved: "pf:saved", // {paper_id: {title, saved_at}}
  dismissed: "pf:dismissed", // {paper_id: iso ts}
  recs: "pf:recs", // last recommendations {fetched_at, model_version, items, window, period: {days, until}}
  opens: "pf:recent-opens", // session storage: {paper_id: ms} for "once per visit"
});
const OPEN_DEDUP_MS = 30 * 1000;

function cleanTitle(title) {
  return typeof title === "string" ? title.replace(/\s+/g, " ").trim().slice(0, MAX_TITLE) : "";
}

/** The window and exclusions of a recommendations request, cleaned to what the API accepts. */
export function recommendationQuery({ days = 7, until = null, exclude = [] } = {}) {
  const n = Number(days);
  const ids = Array.isArray(exclude) ? exclude.filter((id) => typeof id === "string" && PAPER_ID_RE.test(id)) : [];
  return {
    days: Number.isInteger(n) && n >= 1 && n <= MAX_DAYS ? n : 7,
    until: typeof until === "string" && DAY_RE.test(until) ? until : null,
    exclude: [...new Set(ids)].slice(0, MAX_EXCLUDE),
  };
}

/** The response's `window` {from, until} when it has a well-formed one, else null. */
function windowOf(data) {
  const w = data && data.window;
  return w && DAY_RE.test(w.from) && DAY_RE.test(w.until) ? { from: w.from, until: w.until } : null;
}

export function createService({ storage, session, backend, queue, uuid = () => crypto.randomUUID(), now = Date.now, log = console }) {
  const settings = async () => ({ backendUrl: DEFAULT_BACKEND_URL, paused: false, collapsed: false, ...((await storage.get(KEYS.settings)) || {}) });
  const savedMap = async () => (await storage.get(KEYS.saved)) || {};
  const dismissedMap = async () => (await storage.get(KEYS.dismissed)) || {};

  function makeEvent(type, paperId, source, title) {
    const event = { id: uuid(), type, paper_id: paperId, ts: new Date(now()).toISOString() };
    if (source && SOURCES.includes(source)) event.source = source;
    const t = cleanTitle(title);
    if (t) event.paper = { title: t };
    return event;
  }

  async function record(event) {
    await queue.enqueue(event);
    // Send right away; failures are retried by the queue with backoff.
    queue.flush();
  }

  function checkPaperId(paperId) {
    if (typeof paperId !== "string" || !PAPER_ID_RE.test(paperId)) throw new Error(`bad paper id: ${String(paperId).slice(0, 40)}`);
  }

  // Server list + the save/unsave events still waiting in the queue.
  async function mergeServerSaved(items) {
    const map = {};
    for (const item of items) map[item.paper_id] = { title: cleanTitle(item.title), saved_at: item.saved_at };
    for (const e of await queue.events()) {
      if (e.type === "save") map[e.paper_id] = { title: (e.paper && e.paper.title) || (map[e.paper_id] || {}).title || "", saved_at: e.ts };
      if (e.type === "unsave") delete map[e.paper_id];
    }
    await storage.set(KEYS.saved, map);
    return map;
  }

  async function refreshSaved() {
    try {
      await queue.flush();
      const data = await backend.saved();
      return { status: "ok", map: await mergeServerSaved((data && data.items) || []) };
    } catch (error) {
      return { status: error instanceof NetworkError ? "offline" : "error", error: String(error.message || error), map: await savedMap() };
    }
  }

  function savedList(map) {
    return Object.entries(map)
      .map(([paper_id, v]) => ({ paper_id, title: v.title || "", saved_at: v.saved_at || "" }))
      .sort((a, b) => (a.saved_at < b.saved_at ? 1 : a.saved_at > b.saved_at ? -1 : 0));
  }

  async function resetLocal({ keepSettings = true } = {}) {
    const keep = keepSettings ? await settings() : undefined;
    for (const key of [KEYS.auth, KEYS.saved, KEYS.dismissed, KEYS.recs, QUEUE_KEY, META_KEY, REJECTED_KEY]) await storage.remove(key);
    if (keep) await storage.set(KEYS.settings, keep);
  }

  const handlers = {
    /** Saved/dismissed state for the papers a page shows, plus UI settings. */
    async getPageState({ paperIds = [] }) {
      const [saved, dismissed, s] = await Promise.all([savedMap(), dismissedMap(), settings()]);
      const ids = Array.isArray(paperIds) ? paperIds.filter((id) => typeof id === "string") : [];
      queue.flush();
      return {
        saved: ids.filter((id) => saved[id]),
        dismissed: ids.filter((id) => dismissed[id]),
        paused: s.paused,
        collapsed: s.collapsed,
      };
    },

    /** save | unsave | dismiss, from a card, the paper page, the sidebar or the popup. */
    async action({ action, paperId, title, source }) {
      if (!["save", "unsave", "dismiss"].includes(action)) throw new Error(`bad action: ${action}`);
      checkPaperId(paperId);
      const saved = await savedMap();
      const dismissed = await dismissedMap();
      const event = makeEvent(action, paperId, source, title || (saved[paperId] || {}).title);
      if (action === "save") saved[paperId] = { title: cleanTitle(title) || (saved[paperId] || {}).title || "", saved_at: event.ts };
      if (action === "unsave") delete saved[paperId];
      if (action === "dismiss") dismissed[paperId] = event.ts;
      await storage.set(KEYS.saved, saved);
      await storage.set(KEYS.dismissed, dismissed);
      await record(event);
      return { paperId, saved: Boolean(saved[paperId]), dismissed: Boolean(dismissed[paperId]) };
    },

    /** A paper was opened: once per visit; a list click and the page it lands on count once. */
    async open({ paperId, title, source }) {
      checkPaperId(paperId);
      if ((await settings()).paused) return { recorded: false, reason: "paused" };
      const opens = (await session.get(KEYS.opens)) || {};
      const t = now();
      for (const [id, at] of Object.entries(opens)) if (t - at > OPEN_DEDUP_MS) delete opens[id];
      if (opens[paperId]) return { recorded: false, reason: "duplicate" };
      opens[paperId] = t;
      await session.set(KEYS.opens, opens);
      await record(makeEvent("open", paperId, source, title));
      return { recorded: true };
    },

    /**
     * Recommendations for a window: the `days` days ending at `until` (YYYY-MM-DD; absent: the
     * newest ones), without the `exclude`d ids (the paper being viewed) or dismissed papers.
     * The reply echoes the server's `window` {from, until} (null when the server has none).
     */
    async getRecommendations({ limit = 20, days = 7, until = null, exclude = [] } = {}) {
      const query = recommendationQuery({ days, until, exclude });
      const hidden = { ...(await dismissedMap()) };
      for (const id of query.exclude) hidden[id] = true;
      const saved = await savedMap();
      const pending = await queue.size();
      const visible = (items) => (items || []).filter((i) => i && PAPER_ID_RE.test(i.paper_id) && !hidden[i.paper_id]);
      const savedOf = (items) => items.filter((i) => saved[i.paper_id]).map((i) => i.paper_id);
      try {
        await queue.flush(); // let the server see a fresh save/dismiss first
        const data = await backend.recommendations(limit, query.days, query);
        const items = visible(data && data.items);
        const recs = { fetched_at: new Date(now()).toISOString(), model_version: (data && data.model_version) || null, items, window: windowOf(data) };
        await storage.set(KEYS.recs, { ...recs, period: { days: query.days, until: query.until } });
        return { status: "ok", ...recs, saved: savedOf(items), pending: await queue.size() };
      } catch (error) {
        // Offline, the last list is shown only on a page of the same period: another period's list would be mislabelled.
        const stored = (await storage.get(KEYS.recs)) || { items: [] };
        const samePeriod = stored.period && stored.period.days === query.days && stored.period.until === query.until;
        const { period: _period, ...cached } = samePeriod ? stored : { items: [] };
        const items = visible(cached.items);
        const status = error instanceof NetworkError ? "offline" : "error";
        if (status === "error") log.warn("[paperfeed] recommendations failed", error);
        return { status, error: String(error.message || error), ...cached, window: cached.window || null, items, saved: savedOf(items), pending };
      }
    },

    async getSaved() {
      const { status, map, error } = await refreshSaved();
      return { status, error, items: savedList(map), pending: await queue.size() };
    },

    async setCollapsed({ collapsed }) {
      await storage.set(KEYS.settings, { ...(await settings()), collapsed: Boolean(collapsed) });
      return { collapsed: Boolean(collapsed) };
    },

    async getSettings() {
      const [s, auth, meta, rejected] = await Promise.all([settings(), storage.get(KEYS.auth), queue.meta(), storage.get(REJECTED_KEY)]);
      return {
        ...s,
        token: (auth && auth.token) || null,
        userId: (auth && auth.user_id) || null,
        pending: await queue.size(),
        lastError: meta.lastError || null,
        blocked: meta.blocked || null,
        rejected: (rejected || []).length,
      };
    },

    async setSettings({ backendUrl, paused }) {
      const s = await settings();
      if (backendUrl !== undefined) {
        const url = new URL(backendUrl); // throws on garbage
        if (!["http:", "https:"].includes(url.protocol)) throw new Error("backend URL must be http(s)");
        const next = url.href.replace(/\/+$/, "");
        if (next !== s.backendUrl) {
          // Another server: another account. Unsent events stay queued for it.
          await storage.remove(KEYS.auth);
          await storage.remove(KEYS.recs);
          await queue.unblock();
        }
        s.backendUrl = next;
      }
      if (paused !== undefined) s.paused = Boolean(paused);
      await storage.set(KEYS.settings, s);
      queue.flush();
      return s;
    },

    /** Link this browser to an existing account by pasting its token. */
    async setToken({ token }) {
      if (typeof token !== "string" || !/^[\x21-\x7e]{8,512}$/.test(token.trim())) throw new Error("that does not look like a token");
      token = token.trim();
      try {
        const data = await backend.checkToken(token);
        await storage.set(KEYS.auth, { token, user_id: null });
        await storage.remove(KEYS.recs);
        await queue.unblock();
        await mergeServerSaved((data && data.items) || []);
        queue.flush();
        return { ok: true };
      } catch (error) {
        if (error instanceof HttpError && error.status === 401) return { ok: false, error: "The server does not know this token." };
        return { ok: false, error: String(error.message || error) };
      }
    },

    async deleteAllData() {
      try {
        await backend.deleteMe();
      } catch (error) {
        return { ok: false, error: String(error.message || error) };
      }
      await resetLocal();
      return { ok: true };
    },

    async flush() {
      return queue.flush();
    },

    async getStatus() {
      return { pending: await queue.size(), meta: await queue.meta(), rejected: (await storage.get(REJECTED_KEY)) || [] };
    },

    ...digestHandlers({ backend }),
  };

  /** Dispatch one message {type, ...}; unknown types are an error. */
  async function handle(message) {
    const handler = message && Object.prototype.hasOwnProperty.call(handlers, message.type) ? handlers[message.type] : null;
    if (!handler) throw new Error(`unknown message type: ${message && message.type}`);
    return handler(message);
  }

  return { handlers, handle, settings, refreshSaved };
}

export { EVENT_TYPES };

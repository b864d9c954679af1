// The backend client: the only code that talks to the paperfeed API (v1).
import { DEFAULT_BACKEND_URL } from "../shared/protocol.js";

export class NetworkError extends Error {}
export class HttpError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export class Backend {
  /**
   * @param {object} deps
   * @param {() => Promise<string>} deps.baseUrl
   * @param {() => Promise<{token?:string}>} deps.getAuth
   * @param {(auth:{token:string,user_id:string}) => Promise<void>} deps.setAuth
   */
  constructor({ baseUrl, getAuth, setAuth, fetch = globalThis.fetch.bind(globalThis), timeoutMs = 10000 }) {
    Object.assign(this, { baseUrl, getAuth, setAuth, fetch, timeoutMs });
    this._registering = null;
  }

  async _raw(method, path, { body, token } = {}) {
    const base = ((await this.baseUrl()) || DEFAULT_BACKEND_URL).replace(/\/+$/, "");
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await this.fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new NetworkError(`backend unreachable: ${error && error.message}`);
    }
    let data = null;
    const text = await response.text().catch(() => "");
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) throw new HttpError(response.status, data);
    return data;
  }

  /** The token, registering a new anonymous user on first use (POST /v1/users). */
  async token() {
    const auth = (await this.getAuth()) || {};
    if (auth.token) return auth.token;
    if (!this._registering) {
      this._registering = (async () => {
        const created = await this._raw("POST", "/v1/users", { body: {} });
        if (!created || typeof created.token !== "string") throw new HttpError(500, { detail: "no token" });
        await this.setAuth({ token: created.token, user_id: created.user_id || null });
        return created.token;
      })().finally(() => {
        this._registering = null;
      });
    }
    return this._registering;
  }

  async call(method, path, body) {
    return this._raw(method, path, { body, token: await this.token() });
  }

  /** Send one batch; classify the outcome for the queue. */
  async sendEvents(events) {
    let token;
    try {
      token = await this.token();
    } catch (error) {
      // Cannot register (yet): never a reason to drop events.
      return { status: "retry", detail: `registration failed: ${error.message}` };
    }
    try {
      const result = await this._raw("POST", "/v1/events", { body: { events }, token });
      return { status: "ok", detail: result };
    } catch (error) {
      if (error instanceof NetworkError) return { status: "retry", detail: error.message };
      if (error instanceof HttpError) {
        if (error.status >= 500 || error.status === 429 || error.status === 408) return { status: "retry", detail: error.message };
        if (error.status === 401) return { status: "auth", detail: error.problem };
        return { status: "rejected", detail: { status: error.status, problem: error.problem } };
      }
      return { status: "retry", detail: String(error) };
    }
  }

  saved() {
    return this.call("GET", "/v1/saved");
  }

  /**
   * GET /v1/recommendations for the `days` days ending at `until` (YYYY-MM-DD; absent: the
   * newest Daily Papers day), leaving out the arXiv ids in `exclude`.
   */
  recommendations(limit = 20, days = 7, { until = null, exclude = [] } = {}) {
    const query = new URLSearchParams({ limit: String(limit), days: String(days) });
    if (until) query.set("until", until);
    if (exclude.length) query.set("exclude", exclude.join(","));
    return this.call("GET", `/v1/recommendations?${query}`);
  }

  deleteMe() {
    return this.call("DELETE", "/v1/me");
  }

  /** Check a token pasted from another browser without storing it. */
  checkToken(token) {
    return this._raw("GET", "/v1/saved", { token });
  }
}

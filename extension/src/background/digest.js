// The email digest's messages: read, subscribe (or resend the confirmation), unsubscribe.
// Plugged into the background's message map (service.js); every call goes through the
// backend client.
import { HttpError, NetworkError } from "./backend.js";

export const FREQUENCIES = Object.freeze(["daily", "weekly"]);

/** A request body the API accepts, or an Error saying which field is wrong. */
export function digestRequest({ email, frequency, hourUtc, weekday }) {
  const address = typeof email === "string" ? email.trim() : "";
  if (!/^[^\s@]+@[^\s@]+$/.test(address) || address.length > 254) throw new Error("enter an email address");
  if (!FREQUENCIES.includes(frequency)) throw new Error("choose daily or weekly");
  const hour = Number(hourUtc);
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) throw new Error("choose an hour from 0 to 23 (UTC)");
  const body = { email: address, frequency, hour_utc: hour };
  if (frequency === "weekly") {
    const day = Number(weekday);
    if (!Number.isInteger(day) || day < 0 || day > 6) throw new Error("choose a weekday");
    body.weekday = day;
  }
  return body;
}

/** One line for the popup and the options page. */
export function digestLine(subscription) {
  const s = subscription || { status: "none" };
  const when = s.frequency === "weekly" ? "weekly" : "daily";
  switch (s.status) {
    case "pending":
      return `Email digest: check your inbox (${s.email}) to confirm`;
    case "active":
      return `Email digest: ${when} to ${s.email}`;
    case "suppressed":
      return `Email digest: paused, mail to ${s.email} bounced`;
    default:
      return "Email digest: off";
  }
}

function failure(error) {
  if (error instanceof NetworkError) return { ok: false, error: "The server is unreachable; try again later." };
  if (error instanceof HttpError && error.status === 429) return { ok: false, error: "Too many confirmation emails today; try again tomorrow." };
  if (error instanceof HttpError && error.problem && Array.isArray(error.problem.errors) && error.problem.errors.length) {
    return { ok: false, error: error.problem.errors.map((e) => `${e.field}: ${e.message}`).join("; ") };
  }
  return { ok: false, error: String((error && error.message) || error) };
}

export function digestHandlers({ backend }) {
  return {
    /** The subscription ({status: "none"} without one) and its one-line summary. */
    async getDigest() {
      try {
        const subscription = await backend.call("GET", "/v1/me/subscription");
        return { ok: true, subscription, line: digestLine(subscription) };
      } catch (error) {
        return { ...failure(error), line: "Email digest: status unavailable" };
      }
    },

    /** Subscribe or change the schedule; a new address (or the same pending one: resend)
     * gets a confirmation email. */
    async setDigest(fields) {
      let body;
      try {
        body = digestRequest(fields);
      } catch (error) {
        return { ok: false, error: error.message };
      }
      try {
        const { status } = await backend.call("PUT", "/v1/me/subscription", body);
        const subscription = await backend.call("GET", "/v1/me/subscription");
        return { ok: true, status, subscription, line: digestLine(subscription) };
      } catch (error) {
        return failure(error);
      }
    },

    async cancelDigest() {
      try {
        await backend.call("DELETE", "/v1/me/subscription");
        return { ok: true, subscription: { status: "none" }, line: digestLine(null) };
      } catch (error) {
        return failure(error);
      }
    },
  };
}

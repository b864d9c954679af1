import { call, api } from "../shared/messaging.js";
import { DEFAULT_BACKEND_URL } from "../shared/protocol.js";

const $ = (id) => document.getElementById(id);
const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost"]);

async function refresh() {
  const s = await call("getSettings");
  $("backend-url").value = s.backendUrl || DEFAULT_BACKEND_URL;
  $("token").value = s.token || "";
  $("token").placeholder = s.token ? "" : "created on first use";
  $("paused").checked = s.paused;
  const parts = [`${s.pending} event(s) waiting to be sent`];
  if (s.lastError) parts.push(`last problem: ${s.lastError}`);
  if (s.blocked === "auth") parts.push("the server rejected the token: paste a valid one or delete your data to start fresh");
  if (s.rejected) parts.push(`${s.rejected} event(s) rejected by the server (logged)`);
  $("sync-status").textContent = parts.join(" \u00b7 ");
}

$("save-url").addEventListener("click", async () => {
  const status = $("url-status");
  try {
    const url = new URL($("backend-url").value.trim());
    if (!LOCAL_HOSTS.has(url.hostname) && api.permissions) {
      // Host permissions are port-less (Firefox ignores a port in the pattern).
      const granted = await api.permissions.request({ origins: [`${url.protocol}//${url.hostname}/*`] });
      if (!granted) {
        status.textContent = "Permission to reach that server was not granted.";
        return;
      }
    }
    await call("setSettings", { backendUrl: url.href });
    status.textContent = "Saved.";
    await refresh();
  } catch (error) {
    status.textContent = `Not saved: ${error.message || error}`;
  }
});

$("show-token").addEventListener("click", (e) => {
  const shown = $("token").type === "text";
  $("token").type = shown ? "password" : "text";
  e.target.textContent = shown ? "Show" : "Hide";
  e.target.setAttribute("aria-pressed", String(!shown));
});

$("copy-token").addEventListener("click", async () => {
  try {
    await navigator.clipboard.writeText($("token").value);
    $("token-status").textContent = "Token copied.";
  } catch {
    $("token").type = "text";
    $("token").select();
    $("token-status").textContent = "Select and copy the token by hand.";
  }
});

$("use-token").addEventListener("click", async () => {
  const r = await call("setToken", { token: $("paste-token").value }).catch((e) => ({ ok: false, error: e.message }));
  $("token-status").textContent = r.ok ? "Linked: this browser now uses that account." : `Not linked: ${r.error}`;
  if (r.ok) $("paste-token").value = "";
  await refresh();
});

$("paused").addEventListener("change", (e) => call("setSettings", { paused: e.target.checked }));

$("delete").addEventListener("click", async () => {
  if (!confirm("Delete everything the paperfeed server holds about you? This cannot be undone.")) return;
  const r = await call("deleteAllData").catch((e) => ({ ok: false, error: e.message }));
  $("delete-status").textContent = r.ok ? "Deleted. paperfeed starts fresh with a new anonymous account." : `Not deleted: ${r.error}`;
  await refresh();
});

// -- email digest ------------------------------------------------------------------------
let digest = { status: "none" };

function hourLabel(hour) {
  const local = new Date(Date.UTC(2026, 0, 5, hour)).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return `${String(hour).padStart(2, "0")}:00 UTC (${local} here)`;
}

function showDigest(result) {
  if (result.subscription) digest = result.subscription;
  const active = digest.status !== "none";
  if (active) {
    $("digest-email").value = digest.email || "";
    $("digest-frequency").value = digest.frequency || "daily";
    $("digest-hour").value = String(digest.hour_utc ?? 7);
    $("digest-weekday").value = String(digest.weekday ?? 0);
  }
  const weekly = $("digest-frequency").value === "weekly";
  $("digest-weekday").hidden = !weekly;
  $("digest-weekday-label").hidden = !weekly;
  $("digest-save").textContent = active ? "Save changes" : "Subscribe";
  $("digest-resend").hidden = digest.status !== "pending";
  $("digest-cancel").hidden = !active;
  $("digest-status").textContent = result.line || "";
  if (digest.last_sent_at) $("digest-note").textContent = `Last sent ${digest.last_sent_at.slice(0, 16).replace("T", " ")} UTC.`;
}

function digestFields() {
  return {
    email: $("digest-email").value,
    frequency: $("digest-frequency").value,
    hourUtc: Number($("digest-hour").value),
    weekday: Number($("digest-weekday").value),
  };
}

async function digestAction(type, fields, done) {
  const r = await call(type, fields).catch((e) => ({ ok: false, error: e.message }));
  if (r.ok) showDigest(r);
  $("digest-note").textContent = r.ok ? done(r) : `Not done: ${r.error}`;
}

$("digest-hour").replaceChildren(
  ...Array.from({ length: 24 }, (_, hour) => new Option(hourLabel(hour), String(hour), hour === 7, hour === 7)),
);
$("digest-frequency").addEventListener("change", () => showDigest({ line: $("digest-status").textContent }));
$("digest-save").addEventListener("click", () =>
  digestAction("setDigest", digestFields(), (r) =>
    r.status === "pending" ? "We sent you an email: open its link to confirm." : "Saved."));
$("digest-resend").addEventListener("click", () =>
  digestAction("setDigest", { ...digestFields(), email: digest.email || $("digest-email").value },
    () => "Sent again: check your inbox."));
$("digest-cancel").addEventListener("click", () =>
  digestAction("cancelDigest", {}, () => "Unsubscribed: no more emails."));

call("getDigest").then(showDigest, (error) => {
  $("digest-status").textContent = String(error.message || error);
});

refresh().catch((error) => {
  $("sync-status").textContent = String(error.message || error);
});

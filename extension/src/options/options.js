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

refresh().catch((error) => {
  $("sync-status").textContent = String(error.message || error);
});

// sendMessage wrapper for extension pages (popup, options).
const api = globalThis.browser || globalThis.chrome;

export async function call(type, payload = {}) {
  const reply = await api.runtime.sendMessage({ type, ...payload });
  if (!reply || !reply.ok) throw new Error((reply && reply.error) || "no reply from background");
  return reply.result;
}

export { api };

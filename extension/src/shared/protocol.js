// Constants shared by the background, the popup and the options page (ES module).
// Content scripts (classic scripts) repeat the few they need in content/main.js.
export const DEFAULT_BACKEND_URL = "http://127.0.0.1:5000";
export const EVENT_TYPES = Object.freeze(["open", "save", "unsave", "dismiss"]);
export const SOURCES = Object.freeze(["list", "paper_page", "sidebar", "popup"]);
export const PAPER_ID_RE = /^\d{4}\.\d{4,5}$/;
export const MAX_BATCH = 100;
export const MAX_TITLE = 300;
export const DAY_RE = /^\d{4}-\d{2}-\d{2}$/;
export const MAX_DAYS = 90; // the API's largest window
export const MAX_EXCLUDE = 50; // the API's largest `exclude` list

// Test helpers: fixture pages in a happy-dom window, and a fake chrome.storage area.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Window } from "happy-dom";

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURES = join(here, "fixtures");

export function fixtureHtml(name) {
  return readFileSync(join(FIXTURES, name), "utf8");
}

/** A happy-dom window showing fixture `name` at `url` (scripts not run). */
export function fixtureWindow(name, url = "https://huggingface.co/papers") {
  const window = new Window({
    url,
    settings: { disableJavaScriptEvaluation: true, disableJavaScriptFileLoading: true, disableCSSFileLoading: true },
  });
  const doc = new window.DOMParser().parseFromString(fixtureHtml(name), "text/html");
  return { window, document: doc };
}

export function blankWindow(url = "https://huggingface.co/papers") {
  const window = new Window({ url, settings: { disableJavaScriptEvaluation: true } });
  window.document.write("<!doctype html><html><head></head><body><main></main></body></html>");
  return window;
}

/** In-memory stand-in for the {get,set,remove} wrapper over chrome.storage.local. */
export class FakeStorage {
  constructor(initial = {}) {
    this.data = new Map(Object.entries(structuredClone(initial)));
    this.writes = 0;
  }
  async get(key) {
    return this.data.has(key) ? structuredClone(this.data.get(key)) : undefined;
  }
  async set(key, value) {
    this.writes += 1;
    this.data.set(key, structuredClone(value));
  }
  async remove(key) {
    this.data.delete(key);
  }
  snapshot() {
    return Object.fromEntries([...this.data].map(([k, v]) => [k, structuredClone(v)]));
  }
}

export async function loadClassic(path) {
  await import(new URL(path, import.meta.url));
}

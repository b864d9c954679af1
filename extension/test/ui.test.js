// Rendering of the injected UI: shadow roots, automation hooks, textContent only.
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { blankWindow, loadClassic } from "./helpers.js";

let UI;
before(async () => {
  await loadClassic("../src/content/ui.js");
  UI = globalThis.paperfeedUI;
});

test("card controls: open shadow root, hooks, aria-pressed follows state", () => {
  const { document } = blankWindow();
  const host = UI.createControls(document, "2412.01824");
  document.body.append(host);
  assert.ok(host.shadowRoot, "open shadow root");
  const save = host.shadowRoot.querySelector('[data-paperfeed-action="save"]');
  const dismiss = host.shadowRoot.querySelector('[data-paperfeed-action="dismiss"]');
  assert.equal(save.getAttribute("data-paper-id"), "2412.01824");
  assert.equal(dismiss.getAttribute("data-paper-id"), "2412.01824");
  assert.equal(save.getAttribute("aria-pressed"), "false");
  UI.paintState(document, "2412.01824", { saved: true, dismissed: false });
  assert.equal(save.getAttribute("aria-pressed"), "true");
  assert.match(save.textContent, /Saved/);
  UI.paintState(document, "2412.01824", { saved: false, dismissed: true });
  assert.equal(save.getAttribute("aria-pressed"), "false");
  assert.equal(dismiss.getAttribute("aria-pressed"), "true");
  // Other papers are untouched.
  const other = UI.createControls(document, "2412.00131");
  document.body.append(other);
  UI.paintState(document, "2412.01824", { saved: true, dismissed: true });
  assert.equal(other.shadowRoot.querySelector("button").getAttribute("aria-pressed"), "false");
});

const hostile = '<img src=x onerror="alert(1)"><script>alert(2)</script>';

test("sidebar: items with title link, reason, Save and dismiss; hostile text stays text", () => {
  const { document } = blankWindow();
  const host = document.createElement("div");
  host.id = "paperfeed-root";
  document.body.append(host);
  const shadow = host.attachShadow({ mode: "open" });
  UI.renderSidebar(shadow, {
    status: "ok",
    items: [
      { paper_id: "2412.01824", title: hostile, score: 1, reason: { kind: "similar", text: hostile } },
      { paper_id: "2412.00131", title: "Plain", score: 0.5, reason: { kind: "trending", text: "Trending this week" } },
    ],
    saved: new Set(["2412.00131"]),
    collapsed: false,
  });
  const items = shadow.querySelectorAll("li");
  assert.equal(items.length, 2);
  const link = items[0].querySelector("a");
  assert.equal(link.getAttribute("href"), "/papers/2412.01824");
  assert.equal(link.textContent, hostile);
  assert.equal(shadow.querySelector("img"), null);
  assert.equal(shadow.querySelector("script"), null);
  assert.equal(items[0].querySelector(".reason").textContent, hostile);
  assert.equal(items[1].querySelector('[data-paperfeed-action="save"]').getAttribute("aria-pressed"), "true");
  assert.equal(items[0].querySelector('[data-paperfeed-action="save"]').getAttribute("aria-pressed"), "false");
  assert.equal(items[0].querySelector('[data-paperfeed-action="dismiss"]').getAttribute("data-paper-id"), "2412.01824");
  assert.equal(shadow.querySelector("h2").textContent, "Trending for you");
  assert.equal(shadow.querySelector("[data-paperfeed-toggle]").getAttribute("aria-expanded"), "true");
});

test("sidebar states: offline message, empty, collapsed", () => {
  const { document } = blankWindow();
  const host = document.createElement("div");
  const shadow = host.attachShadow({ mode: "open" });
  UI.renderSidebar(shadow, { status: "offline", items: [], collapsed: true, theme: "dark" });
  assert.equal(shadow.querySelector(".panel").getAttribute("data-theme"), "dark");
  assert.equal(shadow.querySelector(".panel").getAttribute("data-collapsed"), "true");
  assert.equal(shadow.querySelector(".status").textContent, "offline \u2014 your actions are kept and sent later");
  assert.equal(shadow.querySelector("[data-paperfeed-toggle]").getAttribute("aria-expanded"), "false");
  UI.renderSidebar(shadow, { status: "ok", items: [], collapsed: false });
  assert.equal(shadow.querySelector(".status").getAttribute("data-kind"), "empty");
  assert.equal(shadow.querySelectorAll("style").length, 1, "re-render replaces, does not append");
});

test("no innerHTML/outerHTML/insertAdjacentHTML/document.write anywhere in the extension source", () => {
  const walk = (dir) =>
    readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(`${dir}/${d.name}`) : [`${dir}/${d.name}`]));
  const files = walk(new URL("../src", import.meta.url).pathname).filter((f) => f.endsWith(".js"));
  assert.ok(files.length > 5);
  for (const f of files) {
    const src = readFileSync(f, "utf8");
    assert.doesNotMatch(src, /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write\(|\beval\(/, f);
  }
});

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
  assert.equal(shadow.querySelector("h2").textContent, "Trending for you \u00b7 last 7 days");
  assert.equal(shadow.querySelector(".window"), null, "no window in the response: no dates shown");
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
  assert.match(shadow.querySelector(".status").textContent, /save a few papers/);
  UI.renderSidebar(shadow, { status: "ok", items: [], collapsed: false, period: { kind: "month", from: "2023-02-01", until: "2023-02-28", days: 28 } });
  assert.equal(shadow.querySelector(".status").textContent, "Nothing to recommend from February 2023.");
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

function sidebarShadow() {
  const { document } = blankWindow();
  const host = document.createElement("div");
  document.body.append(host);
  return host.attachShadow({ mode: "open" });
}

const items = (n) => Array.from({ length: n }, (_, i) => ({
  paper_id: `2412.${String(i + 1).padStart(5, "0")}`, title: `Paper ${i + 1}`, score: 1 - i / 100,
  reason: { kind: "trending", text: "Trending this week" },
}));

test("the header names the period: a day, a week, a month, the last 7 days", () => {
  const table = [
    [{ kind: "day", from: "2026-12-01", until: "2026-12-01", days: 1 }, "Dec 1"],
    [{ kind: "week", from: "2026-11-24", until: "2026-11-30", days: 7 }, "Nov 24-30"],
    [{ kind: "week", from: "2026-11-30", until: "2026-12-06", days: 7 }, "Nov 30-Dec 6"],
    [{ kind: "week", from: "2026-12-28", until: "2027-01-03", days: 7 }, "Dec 28-Jan 3"],
    [{ kind: "month", from: "2026-11-01", until: "2026-11-30", days: 30 }, "November 2026"],
    [{ kind: "recent", from: null, until: null, days: 7 }, "last 7 days"],
    [null, "last 7 days"],
  ];
  const shadow = sidebarShadow();
  for (const [period, label] of table) {
    assert.equal(UI.periodLabel(period), label);
    UI.renderSidebar(shadow, { status: "ok", items: items(2), period, collapsed: false });
    assert.equal(shadow.querySelector("h2").textContent, `Trending for you \u00b7 ${label}`);
    assert.equal(shadow.querySelector(".period").getAttribute("data-period"), period ? period.kind : "recent");
  }
});

test("the window's dates from the response show under the header, with the year", () => {
  assert.equal(UI.windowLabel({ from: "2026-12-01", until: "2026-12-01" }), "Papers of Dec 1, 2026");
  assert.equal(UI.windowLabel({ from: "2026-11-24", until: "2026-11-30" }), "Papers of Nov 24-30, 2026");
  assert.equal(UI.windowLabel({ from: "2026-11-25", until: "2026-12-01" }), "Papers of Nov 25-Dec 1, 2026");
  assert.equal(UI.windowLabel({ from: "2026-12-28", until: "2027-01-03" }), "Papers of Dec 28, 2026-Jan 3, 2027");
  const shadow = sidebarShadow();
  UI.renderSidebar(shadow, { status: "ok", items: items(2), period: null, window: { from: "2026-11-25", until: "2026-12-01" }, collapsed: false });
  const dates = shadow.querySelector("header .window");
  assert.equal(dates.textContent, "Papers of Nov 25-Dec 1, 2026");
  assert.equal(dates.getAttribute("data-from"), "2026-11-25");
  assert.equal(dates.getAttribute("data-until"), "2026-12-01");
  assert.equal(dates.getAttribute("title"), "Daily Papers from 2026-11-25 to 2026-12-01");
});

test("compact strip: the header and the top 3 titles, a button to show all; collapsed wins", () => {
  const shadow = sidebarShadow();
  UI.renderSidebar(shadow, { status: "ok", items: items(10), saved: new Set(), collapsed: false, compact: true });
  assert.equal(shadow.querySelector(".panel").getAttribute("data-view"), "compact");
  const links = [...shadow.querySelectorAll("li a[data-paperfeed-rec]")];
  assert.deepEqual(links.map((a) => a.textContent), ["Paper 1", "Paper 2", "Paper 3"]);
  assert.equal(shadow.querySelectorAll(".reason, [data-paperfeed-action]").length, 0, "titles only");
  assert.equal(shadow.querySelector("[data-paperfeed-expand]").textContent, "Show all 10");
  assert.equal(shadow.querySelector("[data-paperfeed-toggle]").getAttribute("aria-expanded"), "false");

  UI.renderSidebar(shadow, { status: "ok", items: items(10), saved: new Set(), collapsed: false, compact: false });
  assert.equal(shadow.querySelector(".panel").getAttribute("data-view"), "full");
  assert.equal(shadow.querySelectorAll("li").length, 10);
  assert.equal(shadow.querySelector("[data-paperfeed-expand]"), null);
  assert.equal(shadow.querySelector("[data-paperfeed-toggle]").getAttribute("aria-expanded"), "true");

  UI.renderSidebar(shadow, { status: "ok", items: items(10), saved: new Set(), collapsed: true, compact: true });
  assert.equal(shadow.querySelector(".panel").getAttribute("data-view"), "collapsed");
  assert.equal(shadow.querySelector("[data-paperfeed-expand]"), null);

  // Three or fewer: the strip already shows everything.
  UI.renderSidebar(shadow, { status: "ok", items: items(3), saved: new Set(), collapsed: false, compact: true });
  assert.equal(shadow.querySelectorAll("li").length, 3);
  assert.equal(shadow.querySelector("[data-paperfeed-expand]"), null);
});

test("reason kinds the extension does not know show their text as it is", () => {
  const shadow = sidebarShadow();
  const reasons = [
    { kind: "because_you_opened", text: "Because you opened \u201cDiffusion Forcing\u201d" },
    { kind: "a_kind_from_the_future", text: "Some future reason" },
    { kind: "because_you_saved", text: "Because you saved \u201cX\u201d" },
  ];
  UI.renderSidebar(shadow, { status: "ok", items: items(3).map((item, i) => ({ ...item, reason: reasons[i] })), saved: new Set(), collapsed: false });
  const shown = [...shadow.querySelectorAll("li .reason")];
  assert.deepEqual(shown.map((p) => p.textContent), reasons.map((r) => r.text));
  assert.deepEqual(shown.map((p) => p.getAttribute("data-kind")), reasons.map((r) => r.kind));
});

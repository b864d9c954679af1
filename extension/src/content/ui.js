/*
 * ui.js: builds the injected UI (card/paper-page controls and the sidebar) inside
 * shadow roots. Every page- or server-supplied string goes through textContent.
 * Classic script; publishes globalThis.paperfeedUI. No chrome.* and no page knowledge.
 */
(function (root) {
  "use strict";

  const CONTROLS_CSS = `
:host { display: inline-flex; gap: 6px; margin: 4px 0; vertical-align: middle; font: 13px/1.2 system-ui, sans-serif; }
button { font: inherit; color: inherit; background: transparent; border: 1px solid currentColor; border-radius: 999px;
  padding: 3px 10px; cursor: pointer; opacity: .75; }
button:hover, button:focus-visible { opacity: 1; }
button[aria-pressed="true"] { opacity: 1; font-weight: 600; }
button[data-paperfeed-action="save"][aria-pressed="true"] { background: #fde68a; color: #78350f; border-color: #f59e0b; }
button[data-paperfeed-action="dismiss"][aria-pressed="true"] { text-decoration: line-through; }
`;

  const SIDEBAR_CSS = `
:host { all: initial; display: block; box-sizing: border-box; font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; }
:host([data-mode="side"]) { position: fixed; top: 72px; right: 8px; width: var(--pf-width, 280px); max-height: calc(100vh - 88px); z-index: 40; }
:host([data-mode="inline"]) { position: relative; width: auto; max-width: 1280px; margin: 12px auto; padding: 0 16px; }
.panel { --bg: #ffffff; --fg: #111827; --muted: #6b7280; --border: #e5e7eb; --accent: #f59e0b; --hover: #f9fafb; color: var(--fg); }
.panel[data-theme="dark"] { --bg: #111827; --fg: #e5e7eb; --muted: #9ca3af; --border: #374151; --hover: #1f2937; }
.panel { background: var(--bg); border: 1px solid var(--border); border-radius: 12px; box-shadow: 0 4px 14px rgba(0,0,0,.08);
  display: flex; flex-direction: column; max-height: inherit; overflow: hidden; }
header { display: flex; flex-wrap: wrap; align-items: center; column-gap: 10px; padding: 8px 12px; }
header h2 { font-size: 15px; margin: 0; flex: 1; }
.period { font-weight: 500; }
.toggle { font: inherit; background: none; border: 0; color: var(--fg); cursor: pointer; padding: 2px 4px; display: flex; gap: 6px; align-items: center; flex: 1 1 auto; min-width: 0; text-align: left; }
.window { color: var(--muted); font-size: 12px; margin: 0; }
:host([data-mode="side"]) .window { flex-basis: 100%; padding-left: 22px; }
button.more { font: 12px/1.2 system-ui, sans-serif; color: var(--fg); background: transparent; border: 1px solid var(--border);
  border-radius: 999px; padding: 2px 9px; cursor: pointer; }
button.more:hover { background: var(--hover); }
.toggle .chev { transition: transform .15s; display: inline-block; }
.toggle[aria-expanded="false"] .chev { transform: rotate(-90deg); }
.body { overflow: auto; padding: 0 12px 10px; border-top: 1px solid var(--border); }
.panel[data-collapsed="true"] .body { display: none; }
:host([data-mode="inline"]) .body { max-height: 264px; }
.panel[data-view="compact"] .body { padding: 2px 12px 6px; overflow: hidden; }
ol.strip li { padding: 2px 0; border: 0; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
ol.strip a { font-weight: 500; font-size: 13.5px; }
.status { color: var(--muted); font-size: 12.5px; margin: 8px 0; }
.status[data-kind="offline"] { color: #b45309; }
ol { list-style: none; margin: 0; padding: 0; }
li { padding: 8px 0; border-bottom: 1px solid var(--border); }
li:last-child { border-bottom: 0; }
a { color: var(--fg); text-decoration: none; font-weight: 600; }
a:hover { text-decoration: underline; }
.reason { color: var(--muted); font-size: 12.5px; margin: 2px 0 4px; }
.actions { display: flex; gap: 6px; }
button.act { font: 12px/1.2 system-ui, sans-serif; color: var(--fg); background: transparent; border: 1px solid var(--border);
  border-radius: 999px; padding: 2px 9px; cursor: pointer; }
button.act:hover { background: var(--hover); }
button.act[data-paperfeed-action="save"][aria-pressed="true"] { background: #fde68a; color: #78350f; border-color: var(--accent); font-weight: 600; }
`;

  function el(doc, tag, attrs = {}, text) {
    const node = doc.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function style(doc, css) {
    const s = doc.createElement("style");
    s.textContent = css;
    return s;
  }

  /** Set a Save or dismiss button's label and aria-pressed from state. */
  function paintButton(button, pressed) {
    const action = button.getAttribute("data-paperfeed-action");
    button.setAttribute("aria-pressed", pressed ? "true" : "false");
    if (action === "save") {
      button.textContent = pressed ? "\u2605 Saved" : "\u2606 Save";
      button.title = pressed ? "Saved \u2014 click to unsave" : "Save this paper";
    } else {
      button.textContent = pressed ? "Not interested \u2713" : "\u2715 Not interested";
      button.title = pressed ? "Hidden from your recommendations" : "Not interested: stop recommending this";
    }
  }

  function actionButtons(doc, paperId, cls) {
    const save = el(doc, "button", { type: "button", class: cls, "data-paperfeed-action": "save", "data-paper-id": paperId });
    const dismiss = el(doc, "button", { type: "button", class: cls, "data-paperfeed-action": "dismiss", "data-paper-id": paperId });
    paintButton(save, false);
    paintButton(dismiss, false);
    return [save, dismiss];
  }

  /**
   * Controls for one paper (a list card or the paper page): a host element with an open
   * shadow root holding Save and dismiss buttons. onAction(action, paperId, button).
   */
  function createControls(doc, paperId, { withDismiss = true } = {}) {
    const host = el(doc, "span", { "data-paperfeed-controls": paperId });
    const shadow = host.attachShadow({ mode: "open" });
    shadow.append(style(doc, CONTROLS_CSS));
    const [save, dismiss] = actionButtons(doc, paperId, "ctl");
    shadow.append(save);
    if (withDismiss) shadow.append(dismiss);
    return host;
  }

  /** All action buttons inside a root and the open shadow roots of its controls. */
  function buttonsIn(rootNode, paperId) {
    const found = [];
    const sel = paperId ? `[data-paperfeed-action][data-paper-id="${paperId}"]` : "[data-paperfeed-action]";
    const visit = (node) => {
      found.push(...node.querySelectorAll(sel));
      for (const h of node.querySelectorAll("[data-paperfeed-controls]")) if (h.shadowRoot) visit(h.shadowRoot);
    };
    visit(rootNode);
    return found;
  }

  /** Paint every button for paperId under rootNode with {saved, dismissed}. */
  function paintState(rootNode, paperId, { saved, dismissed }) {
    for (const b of buttonsIn(rootNode, paperId)) {
      paintButton(b, b.getAttribute("data-paperfeed-action") === "save" ? saved : dismissed);
    }
  }

  const OFFLINE_TEXT = "offline \u2014 your actions are kept and sent later";
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
  const MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  const STRIP_ITEMS = 3;

  function dayParts(iso) {
    const [y, m, d] = iso.split("-").map(Number);
    return { y, m, d, short: `${MONTHS[m - 1]} ${d}` };
  }

  /** "Dec 1", "Nov 24-30", "Nov 30-Dec 6" for YYYY-MM-DD days; with the year: "Nov 24-30, 2026". */
  function rangeLabel(from, until, withYear = false) {
    const a = dayParts(from);
    const b = dayParts(until);
    let text;
    if (from === until) text = a.short;
    else if (a.y === b.y && a.m === b.m) text = `${a.short}-${b.d}`;
    else if (a.y === b.y || !withYear) text = `${a.short}-${b.short}`;
    else return `${a.short}, ${a.y}-${b.short}, ${b.y}`;
    return withYear ? `${text}, ${b.y}` : text;
  }

  /** The header's name of a period from paperfeedHF.periodOf: "Dec 1", "Nov 24-30", "November 2026", "last 7 days". */
  function periodLabel(period) {
    if (!period || period.kind === "recent" || !period.from) return `last ${(period && period.days) || 7} days`;
    if (period.kind === "month") {
      const { y, m } = dayParts(period.from);
      return `${MONTH_NAMES[m - 1]} ${y}`;
    }
    return rangeLabel(period.from, period.until);
  }

  /** The days the server's list covers ({from, until}), with the year: "Papers of Nov 25-Dec 1, 2026". */
  function windowLabel(window) {
    return `Papers of ${rangeLabel(window.from, window.until, true)}`;
  }

  function statusLine(doc, model, items) {
    if (model.status === "offline") return el(doc, "p", { class: "status", "data-kind": "offline", role: "status" }, OFFLINE_TEXT);
    if (model.status === "error") return el(doc, "p", { class: "status", "data-kind": "error", role: "status" }, "Recommendations are unavailable right now.");
    if (model.status === "loading" && items.length === 0) return el(doc, "p", { class: "status", "data-kind": "loading" }, "Loading\u2026");
    if (items.length === 0 && model.period && model.period.from) {
      // A past period: the catalogue may hold none of its papers, so saving more would not help.
      return el(doc, "p", { class: "status", "data-kind": "empty" }, `Nothing to recommend from ${periodLabel(model.period)}.`);
    }
    if (items.length === 0) return el(doc, "p", { class: "status", "data-kind": "empty" }, "Nothing yet \u2014 save a few papers to get recommendations.");
    return null;
  }

  function fullItem(doc, item, model) {
    const li = el(doc, "li", { "data-paper-id": item.paper_id });
    li.append(el(doc, "a", { href: `/papers/${item.paper_id}`, "data-paperfeed-rec": item.paper_id }, item.title || item.paper_id));
    // Any reason kind, known or not, shows its text as the server wrote it.
    const reason = item.reason && typeof item.reason.text === "string" ? item.reason.text : "";
    if (reason) li.append(el(doc, "p", { class: "reason", "data-kind": item.reason.kind }, reason));
    const actions = el(doc, "div", { class: "actions" });
    const [save, dismiss] = actionButtons(doc, item.paper_id, "act");
    paintButton(save, model.saved && model.saved.has(item.paper_id));
    actions.append(save, dismiss);
    li.append(actions);
    return li;
  }

  function stripItem(doc, item) {
    const title = item.title || item.paper_id;
    const li = el(doc, "li", { "data-paper-id": item.paper_id });
    li.append(el(doc, "a", { href: `/papers/${item.paper_id}`, "data-paperfeed-rec": item.paper_id, title }, title));
    return li;
  }

  /**
   * Render the "Trending for you" panel into `shadow` (an open shadow root).
   * model: {status: "loading"|"ok"|"offline"|"error", items, saved:Set, collapsed, theme: "light"|"dark",
   *         period (paperfeedHF.periodOf), window ({from, until} or null), compact}
   * Views: collapsed (header only), compact (header and the top 3 titles, expands on a click:
   * `data-paperfeed-expand`), full. Returns nothing; the caller listens for clicks on the shadow root.
   */
  function renderSidebar(shadow, model) {
    const doc = shadow.ownerDocument;
    shadow.replaceChildren();
    shadow.append(style(doc, SIDEBAR_CSS));
    const items = Array.isArray(model.items) ? model.items : [];
    const view = model.collapsed ? "collapsed" : model.compact ? "compact" : "full";
    const panel = el(doc, "section", {
      class: "panel",
      "aria-label": "Trending for you (paperfeed)",
      "data-theme": model.theme === "dark" ? "dark" : "light",
      "data-collapsed": model.collapsed ? "true" : "false",
      "data-view": view,
    });
    const header = el(doc, "header");
    const toggle = el(doc, "button", { type: "button", class: "toggle", "data-paperfeed-toggle": "", "aria-expanded": view === "full" ? "true" : "false", "aria-controls": "pf-body" });
    toggle.append(el(doc, "span", { class: "chev", "aria-hidden": "true" }, "\u25be"));
    const h2 = el(doc, "h2", {}, "Trending for you");
    h2.append(el(doc, "span", { class: "period", "data-period": (model.period && model.period.kind) || "recent" }, ` \u00b7 ${periodLabel(model.period)}`));
    toggle.append(h2);
    header.append(toggle);
    if (model.window) {
      const { from, until } = model.window;
      header.append(el(doc, "p", { class: "window", "data-from": from, "data-until": until, title: `Daily Papers from ${from} to ${until}` }, windowLabel(model.window)));
    }
    if (view === "compact" && items.length > STRIP_ITEMS) {
      header.append(el(doc, "button", { type: "button", class: "more", "data-paperfeed-expand": "", "aria-controls": "pf-body" }, `Show all ${items.length}`));
    }
    panel.append(header);

    const body = el(doc, "div", { class: "body", id: "pf-body" });
    const status = statusLine(doc, model, items);
    if (status) body.append(status);
    if (items.length) {
      const list = el(doc, "ol", { class: view === "compact" ? "strip" : "full" });
      if (view === "compact") items.slice(0, STRIP_ITEMS).forEach((item) => list.append(stripItem(doc, item)));
      else items.forEach((item) => list.append(fullItem(doc, item, model)));
      body.append(list);
    }
    panel.append(body);
    shadow.append(panel);
  }

  root.paperfeedUI = Object.freeze({
    createControls, paintButton, paintState, buttonsIn, renderSidebar, periodLabel, windowLabel, rangeLabel,
    OFFLINE_TEXT, CONTROLS_CSS, SIDEBAR_CSS,
  });
})(globalThis);

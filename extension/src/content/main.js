/*
 * Content script: reads the page through paperfeedHF, renders through paperfeedUI, and
 * asks the background (runtime.sendMessage) for everything else. It never fetches.
 */
(function () {
  "use strict";
  if (globalThis.__paperfeedContent) return;
  globalThis.__paperfeedContent = true;

  const HF = globalThis.paperfeedHF;
  const UI = globalThis.paperfeedUI;
  const api = globalThis.browser || globalThis.chrome;
  const ROOT_ID = "paperfeed-root";
  const SIDE_WIDTH = 280;

  const state = {
    url: null,
    route: { kind: "other" },
    saved: new Set(),
    dismissed: new Set(),
    known: new Set(), // ids whose state we asked for
    collapsed: false,
    expanded: false, // the compact strip was opened on this page
    recs: { status: "loading", items: [], period: null, window: null },
    recsAt: 0,
    recsKey: null, // the window and exclusions the shown list was asked for
    dead: false,
  };
  let host = null; // sidebar host
  let scheduled = false;
  // The user's actions on this page, counted, and the count at each paper's latest action: a
  // page-state reply asked for before that action must not undo its optimistic state.
  let actions = 0;
  const actedAt = new Map();

  async function send(type, payload = {}) {
    if (state.dead) throw new Error("extension context gone");
    let reply;
    try {
      reply = await api.runtime.sendMessage({ type, ...payload });
    } catch (error) {
      if (/context invalidated/i.test(String(error))) state.dead = true;
      throw error;
    }
    if (!reply || !reply.ok) throw new Error((reply && reply.error) || "no reply from background");
    return reply.result;
  }

  function paint(paperId) {
    const s = { saved: state.saved.has(paperId), dismissed: state.dismissed.has(paperId) };
    UI.paintState(document, paperId, s);
    if (host && host.shadowRoot) UI.paintState(host.shadowRoot, paperId, s);
    for (const c of document.querySelectorAll(`[data-paperfeed-controls="${paperId}"]`)) {
      const card = c.closest("article");
      if (card) card.style.opacity = s.dismissed ? "0.5" : "";
    }
  }

  async function loadState(ids, force = false) {
    const wanted = force ? ids : ids.filter((id) => !state.known.has(id));
    if (!wanted.length) return;
    wanted.forEach((id) => state.known.add(id));
    const asked = actions;
    try {
      const r = await send("getPageState", { paperIds: wanted });
      for (const id of wanted) {
        if ((actedAt.get(id) || 0) > asked) continue; // acted on since we asked: ours is newer
        r.saved.includes(id) ? state.saved.add(id) : state.saved.delete(id);
        r.dismissed.includes(id) ? state.dismissed.add(id) : state.dismissed.delete(id);
      }
      wanted.forEach(paint);
      if (state.collapsed !== r.collapsed) {
        state.collapsed = r.collapsed;
        if (host) host.dataset.collapsed = String(state.collapsed);
        renderSidebar();
      }
    } catch (error) {
      wanted.forEach((id) => state.known.delete(id));
    }
  }

  async function act(action, paperId, title, source) {
    if (action === "save" && state.saved.has(paperId)) action = "unsave";
    if (action === "dismiss" && state.dismissed.has(paperId)) return; // no "undismiss" event exists
    // Optimistic: show the new state at once; the background keeps the event until sent.
    actions += 1;
    actedAt.set(paperId, actions);
    if (action === "save") state.saved.add(paperId);
    if (action === "unsave") state.saved.delete(paperId);
    if (action === "dismiss") state.dismissed.add(paperId);
    paint(paperId);
    if (action === "dismiss" && state.recs.items) {
      state.recs.items = state.recs.items.filter((i) => i.paper_id !== paperId);
      renderSidebar();
    }
    try {
      await send("action", { action, paperId, title, source });
    } catch (error) {
      console.warn("[paperfeed] action failed", error);
    }
    if (action === "save" || action === "dismiss") refreshRecs();
  }

  function titleFor(paperId) {
    const rec = (state.recs.items || []).find((i) => i.paper_id === paperId);
    if (rec) return rec.title;
    if (state.route.kind === "paper") {
      const p = HF.paperPage(document, location.href);
      if (p && p.paperId === paperId) return p.title;
    }
    const card = HF.listPapers(document).find((c) => c.paperId === paperId);
    return card ? card.title : "";
  }

  function onControlClick(event, source) {
    const button = event.composedPath().find((n) => n instanceof Element && n.hasAttribute("data-paperfeed-action"));
    if (!button) return false;
    event.preventDefault();
    event.stopPropagation();
    const paperId = button.getAttribute("data-paper-id");
    act(button.getAttribute("data-paperfeed-action"), paperId, titleFor(paperId), source);
    return true;
  }

  // ---- page decoration ----------------------------------------------------------
  function addControls(paperId, anchor, source, withDismiss) {
    const controls = UI.createControls(document, paperId, { withDismiss });
    controls.addEventListener("click", (e) => onControlClick(e, source));
    anchor.insertAdjacentElement("afterend", controls);
    return controls;
  }

  function decorate() {
    const ids = [];
    if (state.route.kind === "list") {
      for (const { paperId, card, titleEl } of HF.listPapers(document)) {
        ids.push(paperId);
        const existing = card.querySelector("[data-paperfeed-controls]");
        if (existing && existing.getAttribute("data-paperfeed-controls") === paperId) continue;
        if (existing) existing.remove(); // the page reused the card for another paper
        addControls(paperId, titleEl, "list", true);
        paint(paperId);
      }
    } else if (state.route.kind === "paper") {
      const page = HF.paperPage(document, location.href);
      if (page && page.titleEl) {
        ids.push(page.paperId);
        const next = page.titleEl.nextElementSibling;
        const ok = next && next.getAttribute("data-paperfeed-controls") === page.paperId;
        if (!ok) {
          document.querySelectorAll("[data-paperfeed-controls]").forEach((n) => n.closest("#" + ROOT_ID) || n.remove());
          addControls(page.paperId, page.titleEl, "paper_page", true);
          paint(page.paperId);
        }
      }
    }
    HF.checkStructure(document, location.href);
    if (ids.length) loadState(ids);
  }

  // ---- sidebar ------------------------------------------------------------------
  // Above the list (inline), the panel opens as a compact strip so the page's own list stays in view.
  function isCompact() {
    return Boolean(host) && host.dataset.mode === "inline" && !state.expanded;
  }

  function renderSidebar() {
    if (!host) return;
    const viewed = state.route.kind === "paper" ? state.route.paperId : null;
    host.dataset.compact = String(isCompact() && !state.collapsed);
    UI.renderSidebar(host.shadowRoot, {
      ...state.recs,
      items: (state.recs.items || []).filter((i) => i.paper_id !== viewed),
      saved: state.saved,
      collapsed: state.collapsed,
      compact: isCompact(),
      theme: host.dataset.theme || "light",
    });
  }

  function setCollapsed(collapsed) {
    state.collapsed = collapsed;
    host.dataset.collapsed = String(collapsed);
    renderSidebar();
    send("setCollapsed", { collapsed }).catch(() => {});
  }

  function createHost() {
    host = document.createElement("div");
    host.id = ROOT_ID;
    host.attachShadow({ mode: "open" });
    host.dataset.collapsed = String(state.collapsed);
    host.shadowRoot.addEventListener("click", (event) => {
      if (onControlClick(event, "sidebar")) return;
      const path = event.composedPath();
      const has = (attr) => path.some((n) => n instanceof Element && n.hasAttribute(attr));
      if (has("data-paperfeed-expand") || (has("data-paperfeed-toggle") && isCompact() && !state.collapsed)) {
        state.expanded = true; // the strip opens in full; the remembered collapsed state is untouched
        renderSidebar();
        return;
      }
      if (has("data-paperfeed-toggle")) {
        setCollapsed(!state.collapsed);
        return;
      }
      const link = path.find((n) => n instanceof Element && n.hasAttribute("data-paperfeed-rec"));
      if (link) {
        const paperId = link.getAttribute("data-paperfeed-rec");
        send("open", { paperId, title: titleFor(paperId), source: "sidebar" }).catch(() => {});
      }
    });
    renderSidebar();
  }

  function placeSidebar() {
    if (state.route.kind === "other") {
      if (host && host.isConnected) host.remove();
      return;
    }
    if (!host) createHost();
    const room = window.innerWidth - HF.contentRight(document);
    const side = room >= SIDE_WIDTH + 16;
    const theme = HF.isDark(document) ? "dark" : "light";
    if (host.dataset.theme !== theme) {
      host.dataset.theme = theme;
      renderSidebar();
    }
    if (side) {
      if (host.dataset.mode !== "side") {
        host.dataset.mode = "side";
        renderSidebar();
      }
      host.style.setProperty("--pf-width", `${Math.min(SIDE_WIDTH + 40, room - 16)}px`);
      if (host.parentNode !== document.body) document.body.append(host);
    } else {
      if (host.dataset.mode !== "inline") {
        host.dataset.mode = "inline";
        renderSidebar();
      }
      const anchor = HF.sidebarAnchor(document);
      if (host.parentNode !== anchor) anchor.prepend(host);
    }
  }

  /** What to ask the background for on this page: its period, without the paper being viewed. */
  function recsQuery() {
    const period = HF.periodOf(location.href) || HF.periodOf(`https://${HF.HOST}/papers`);
    const exclude = state.route.kind === "paper" ? [state.route.paperId] : [];
    return { period, request: { limit: 20, days: period.days, until: period.until, exclude } };
  }

  let recsSeq = 0;
  /** Ask for this page's list once `after` (e.g. recording the open of this page) has settled. */
  async function refreshRecs(after = null) {
    const seq = ++recsSeq;
    const { period, request } = recsQuery();
    state.recsKey = JSON.stringify(request);
    if (!(state.recs.items || []).length) {
      state.recs.period = period; // nothing shown yet: name the period being loaded
      renderSidebar();
    }
    try {
      await after; // the background sends queued events before asking, so the list reflects them
      const r = await send("getRecommendations", request);
      if (seq !== recsSeq) return;
      state.recs = { status: r.status, items: r.items || [], pending: r.pending, period, window: r.window || null };
      state.recsAt = Date.now();
      for (const id of r.saved || []) state.saved.add(id);
      (r.items || []).forEach((i) => state.known.add(i.paper_id));
      if ((r.items || []).length) loadState(r.items.map((i) => i.paper_id), true);
    } catch (error) {
      if (seq !== recsSeq) return;
      state.recs = { status: "error", items: [], period, window: null };
    }
    renderSidebar();
  }

  // ---- navigation -----------------------------------------------------------------
  // A visit is a path: hash or query changes on the same page are not new visits.
  function visitKey() {
    return location.origin + location.pathname;
  }

  function onNavigate() {
    state.url = visitKey();
    state.route = HF.classifyUrl(location.href);
    let opened = Promise.resolve();
    if (state.route.kind === "paper") {
      const page = HF.paperPage(document, location.href);
      opened = send("open", { paperId: state.route.paperId, title: page ? page.title : "", source: "paper_page" }).catch(() => {});
    }
    if (state.route.kind === "other") return;
    renderSidebar(); // a newly viewed paper leaves the list at once
    // Another period or another viewed paper is another list; the same one is refreshed after a minute.
    const stale = !state.recsAt || Date.now() - state.recsAt > 60000;
    if (stale || JSON.stringify(recsQuery().request) !== state.recsKey) refreshRecs(opened);
  }

  function tick() {
    scheduled = false;
    if (state.dead) return;
    if (visitKey() !== state.url) onNavigate();
    if (state.route.kind === "other") {
      placeSidebar();
      return;
    }
    decorate();
    placeSidebar();
  }

  function schedule(delay = 100) {
    if (scheduled) return;
    scheduled = true;
    setTimeout(tick, delay);
  }

  // Clicks on a paper in a list count as an "open" (the landing page does not count again).
  function onPageClick(event) {
    if (state.route.kind !== "list" || (event.type === "auxclick" && event.button !== 1)) return;
    const paperId = HF.clickedPaperId(event.target);
    if (!paperId) return;
    send("open", { paperId, title: titleFor(paperId), source: "list" }).catch(() => {});
  }
  document.addEventListener("click", onPageClick, true);
  document.addEventListener("auxclick", onPageClick, true);

  new MutationObserver(() => schedule()).observe(document.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ["class"] });
  window.addEventListener("popstate", () => schedule(0));
  window.addEventListener("resize", () => schedule(150));
  if (globalThis.navigation && navigation.addEventListener) navigation.addEventListener("navigatesuccess", () => schedule(0));
  setInterval(() => visitKey() !== state.url && schedule(0), 1000); // fallback for SPA navigation
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState !== "visible" || state.route.kind === "other") return;
    loadState([...state.known], true); // saved elsewhere shows as saved here
    if (Date.now() - state.recsAt > 60000) refreshRecs();
  });
  tick();
})();

/*
 * hf.js: the ONLY place that knows how huggingface.co/papers pages are built.
 *
 * URL patterns, selectors and the hydration-JSON format live here, each rule next to
 * the fixture pages it is tested against (extension/test/fixtures/, test/hf.test.js).
 * When the site changes, this file changes.
 *
 * Classic script (content scripts cannot be ES modules); it publishes
 * `globalThis.paperfeedHF`. Node tests import it for that side effect.
 */
(function (root) {
  "use strict";

  // New-style arXiv ids (YYMM.NNNN / YYMM.NNNNN) with an optional version we drop.
  // Fixtures: /papers/2412.01824, /papers/2405.15738v2, /papers/2608.19880#community
  const PAPER_PATH_RE = /^\/papers\/(\d{4}\.\d{4,5})(?:v\d+)?\/?$/;
  const PAPER_HREF_RE = /^(?:https:\/\/huggingface\.co)?\/papers\/(\d{4}\.\d{4,5})(?:v\d+)?\/?(?:[#?].*)?$/;
  // List pages. Fixtures: date-2024-12-03.html, week-2024-W49.html, month-2024-05.html,
  // trending.html; /papers itself redirects to a period page but is handled as a list.
  const LIST_RULES = [
    { kind: "index", re: /^\/papers\/?$/ },
    { kind: "date", re: /^\/papers\/date\/(\d{4}-\d{2}-\d{2})\/?$/ },
    { kind: "week", re: /^\/papers\/week\/(\d{4}-W\d{2})\/?$/ },
    { kind: "month", re: /^\/papers\/month\/(\d{4}-\d{2})\/?$/ },
    { kind: "trending", re: /^\/papers\/trending\/?$/ },
  ];
  const HOST = "huggingface.co";

  // Selectors (Tailwind class names change often: none are used for finding data).
  const SEL = {
    hydrater: "div.SVELTE_HYDRATER[data-target]",
    card: "article",
    cardTitleLink: "h3 a[href]",
    anyLink: "a[href]",
    paperTitle: "h1",
    main: "main",
  };
  const LIST_TARGET = "DailyPapers";
  const PAPER_TARGET = "PaperContent";

  const warned = new Set();
  function warnOnce(key, message) {
    if (warned.has(key)) return;
    warned.add(key);
    // One line, once per problem per page load: the site may have changed.
    console.warn(`[paperfeed] ${message}`);
  }

  /** Classify a URL: {kind: "list", list: "date"|..., period} | {kind: "paper", paperId} | {kind: "other"}. */
  function classifyUrl(href) {
    let url;
    try {
      url = new URL(href, `https://${HOST}/`);
    } catch {
      return { kind: "other" };
    }
    if (url.protocol !== "https:" || url.hostname !== HOST) return { kind: "other" };
    const path = url.pathname;
    const paper = PAPER_PATH_RE.exec(path);
    if (paper) return { kind: "paper", paperId: paper[1] };
    for (const rule of LIST_RULES) {
      const m = rule.re.exec(path);
      if (m) return { kind: "list", list: rule.kind, period: m[1] || null };
    }
    return { kind: "other" };
  }

  const DAY_MS = 86400000;
  const RECENT = Object.freeze({ kind: "recent", from: null, until: null, days: 7 });

  function isoDay(ms) {
    return new Date(ms).toISOString().slice(0, 10);
  }

  /** UTC midnight of "YYYY-MM-DD" in ms, or null when it is not a real calendar day. */
  function parseDay(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
    if (!m) return null;
    const ms = Date.UTC(+m[1], +m[2] - 1, +m[3]);
    return isoDay(ms) === text ? ms : null;
  }

  function spanOf(kind, fromMs, untilMs) {
    return { kind, from: isoDay(fromMs), until: isoDay(untilMs), days: Math.round((untilMs - fromMs) / DAY_MS) + 1 };
  }

  // ISO 8601 weeks: Monday to Sunday; week 1 is the week holding January 4th.
  function weekSpan(text) {
    const m = /^(\d{4})-W(\d{2})$/.exec(text);
    if (!m) return null;
    const year = +m[1];
    const week = +m[2];
    const jan4 = Date.UTC(year, 0, 4);
    const monday = jan4 - ((new Date(jan4).getUTCDay() + 6) % 7) * DAY_MS + (week - 1) * 7 * DAY_MS;
    const thursday = monday + 3 * DAY_MS; // a week belongs to the year of its Thursday
    if (week < 1 || new Date(thursday).getUTCFullYear() !== year) return null;
    return spanOf("week", monday, monday + 6 * DAY_MS);
  }

  function monthSpan(text) {
    const m = /^(\d{4})-(\d{2})$/.exec(text);
    if (!m || +m[2] < 1 || +m[2] > 12) return null;
    return spanOf("month", Date.UTC(+m[1], +m[2] - 1, 1), Date.UTC(+m[1], +m[2], 0));
  }

  /**
   * The Daily Papers period a page shows, i.e. the window to ask recommendations for:
   * {kind: "day"|"week"|"month", from, until, days} for /papers/date|week|month/... pages;
   * {kind: "recent", from: null, until: null, days: 7} (the newest days) for /papers,
   * /papers/trending, a paper page and a malformed period; null off the papers pages.
   */
  function periodOf(href) {
    const route = classifyUrl(href);
    if (route.kind === "other") return null;
    let span = null;
    if (route.list === "date") {
      const day = parseDay(route.period);
      span = day === null ? null : spanOf("day", day, day);
    } else if (route.list === "week") {
      span = weekSpan(route.period);
    } else if (route.list === "month") {
      span = monthSpan(route.period);
    }
    return span || { ...RECENT };
  }

  /** The arXiv id a link points to, or null (date, trending, author links give null). */
  function paperIdFromHref(href) {
    if (typeof href !== "string") return null;
    const m = PAPER_HREF_RE.exec(href.trim());
    return m ? m[1] : null;
  }

  /** Parse the props of the first hydration island for `target`, or null. */
  function readHydration(doc, target) {
    for (const el of doc.querySelectorAll(SEL.hydrater)) {
      if (el.getAttribute("data-target") !== target) continue;
      const raw = el.getAttribute("data-props");
      if (!raw) return null;
      try {
        return JSON.parse(raw); // the attribute value is already HTML-unescaped by the parser
      } catch {
        warnOnce(`hydration-json-${target}`, `hydration JSON of ${target} is not valid JSON`);
        return null;
      }
    }
    return null;
  }

  function cleanTitle(text) {
    return typeof text === "string" ? text.replace(/\s+/g, " ").trim().slice(0, 300) : "";
  }

  /** Map arXiv id -> title from the list's hydration JSON (may be stale after SPA navigation). */
  function hydratedTitles(doc) {
    const props = readHydration(doc, LIST_TARGET);
    const titles = new Map();
    const entries = props && Array.isArray(props.dailyPapers) ? props.dailyPapers : null;
    if (!entries) return titles;
    for (const entry of entries) {
      const paper = entry && entry.paper;
      if (paper && typeof paper.id === "string") {
        titles.set(paper.id.replace(/v\d+$/, ""), cleanTitle(paper.title || entry.title));
      }
    }
    return titles;
  }

  /**
   * Paper cards of a list page, in page order: [{paperId, title, card, titleEl}].
   * The DOM decides which cards exist (it is current after client-side navigation);
   * the hydration JSON only supplies clean titles when it agrees.
   */
  function listPapers(doc) {
    const titles = hydratedTitles(doc);
    const out = [];
    const seen = new Set();
    for (const card of doc.querySelectorAll(SEL.card)) {
      let link = card.querySelector(SEL.cardTitleLink);
      let paperId = link ? paperIdFromHref(link.getAttribute("href")) : null;
      if (!paperId) {
        link = [...card.querySelectorAll(SEL.anyLink)].find((a) => paperIdFromHref(a.getAttribute("href")));
        paperId = link ? paperIdFromHref(link.getAttribute("href")) : null;
      }
      if (!paperId || seen.has(paperId)) continue;
      seen.add(paperId);
      const titleEl = link.closest("h3") || link;
      out.push({ paperId, title: titles.get(paperId) || cleanTitle(link.textContent), card, titleEl });
    }
    return out;
  }

  /** The paper of a single-paper page: {paperId, title, titleEl} or null. */
  function paperPage(doc, href) {
    const route = classifyUrl(href);
    if (route.kind !== "paper") return null;
    const props = readHydration(doc, PAPER_TARGET);
    const hydrated = props && props.paper && typeof props.paper.id === "string" ? props.paper : null;
    // Stale props after client-side navigation: trust them only if they name this paper.
    const fresh = hydrated && hydrated.id.replace(/v\d+$/, "") === route.paperId ? hydrated : null;
    const titleEl = doc.querySelector(`${SEL.main} ${SEL.paperTitle}`) || doc.querySelector(SEL.paperTitle);
    const title = cleanTitle((fresh && fresh.title) || (titleEl && titleEl.textContent) || "");
    return { paperId: route.paperId, title, titleEl };
  }

  /** Is a click on this element a click on a paper (returns its id), e.g. a card title or thumbnail? */
  function clickedPaperId(target) {
    const link = target && target.closest ? target.closest(SEL.anyLink) : null;
    return link ? paperIdFromHref(link.getAttribute("href")) : null;
  }

  /** The element a narrow-window sidebar goes in front of (in the page flow). */
  function sidebarAnchor(doc) {
    const main = doc.querySelector(SEL.main);
    return main || doc.body;
  }

  /** Right edge (px) of the page's content column, for deciding if a sidebar fits beside it. */
  function contentRight(doc) {
    const main = doc.querySelector(SEL.main);
    if (!main) return Infinity;
    let right = 0;
    for (const el of main.querySelectorAll(":scope > *, :scope > * > *")) {
      if (el.id === "paperfeed-root") continue;
      const rect = el.getBoundingClientRect();
      if (rect.width > 0) right = Math.max(right, rect.right);
    }
    return right || Infinity;
  }

  /** HF dark mode: `html.dark`. */
  function isDark(doc) {
    return doc.documentElement.classList.contains("dark");
  }

  /** Check a page we expected to understand; warns once if its structure is unknown. */
  function checkStructure(doc, href) {
    const route = classifyUrl(href);
    if (route.kind === "list") {
      const n = listPapers(doc).length;
      if (n === 0 && doc.readyState === "complete") {
        warnOnce(`list-${route.list}`, `no paper cards recognised on ${route.list} page; leaving it alone`);
      }
      return n > 0;
    }
    if (route.kind === "paper") {
      const page = paperPage(doc, href);
      if (!page.titleEl) warnOnce("paper-title", "paper page title not recognised; Save button not placed");
      return Boolean(page.titleEl);
    }
    return false;
  }

  root.paperfeedHF = Object.freeze({
    HOST, SEL, LIST_TARGET, PAPER_TARGET,
    classifyUrl, periodOf, paperIdFromHref, readHydration, hydratedTitles, listPapers, paperPage,
    clickedPaperId, sidebarAnchor, contentRight, isDark, checkStructure, warnOnce,
    _resetWarnings: () => warned.clear(),
  });
})(globalThis);

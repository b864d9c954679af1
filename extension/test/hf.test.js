// Every rule of the page module (src/content/hf.js) against the saved fixture pages.
import { test, describe, before } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fixtureWindow, loadClassic } from "./helpers.js";

let HF;
before(async () => {
  await loadClassic("../src/content/hf.js");
  HF = globalThis.paperfeedHF;
});

// Ids and titles of the real API data each fixture was built from (scripts/make-fixtures.mjs).
const EXPECTED = JSON.parse(readFileSync(new URL("./fixtures/expected.json", import.meta.url), "utf8"));
const DAY_FILE = { "2024-12-03": "date-2024-12-03.html", "2024-05-27": "date-2024-05-27.html", "2026-08-21": "trending.html" };
const raw = (day) => EXPECTED[DAY_FILE[day]].map((e) => ({ paper: { id: e.id, title: e.title } }));

describe("classifyUrl", () => {
  const table = [
    ["https://huggingface.co/papers", { kind: "list", list: "index", period: null }],
    ["https://huggingface.co/papers/", { kind: "list", list: "index", period: null }],
    ["https://huggingface.co/papers/date/2024-12-03", { kind: "list", list: "date", period: "2024-12-03" }],
    ["https://huggingface.co/papers/week/2024-W49", { kind: "list", list: "week", period: "2024-W49" }],
    ["https://huggingface.co/papers/month/2024-12", { kind: "list", list: "month", period: "2024-12" }],
    ["https://huggingface.co/papers/trending", { kind: "list", list: "trending", period: null }],
    ["https://huggingface.co/papers/date/2024-12-03?q=x#top", { kind: "list", list: "date", period: "2024-12-03" }],
    ["https://huggingface.co/papers/2412.01824", { kind: "paper", paperId: "2412.01824" }],
    ["https://huggingface.co/papers/2412.01824v2", { kind: "paper", paperId: "2412.01824" }],
    ["https://huggingface.co/papers/2405.5738#community", { kind: "paper", paperId: "2405.5738" }],
    ["https://huggingface.co/papers/2608.19880?x=1", { kind: "paper", paperId: "2608.19880" }],
    ["https://huggingface.co/models", { kind: "other" }],
    ["https://huggingface.co/papers/date/yesterday", { kind: "other" }],
    ["https://huggingface.co/papers/2412.01824/discussion", { kind: "other" }],
    ["https://huggingface.co.evil.test/papers/2412.01824", { kind: "other" }],
    ["http://huggingface.co/papers/2412.01824", { kind: "other" }],
    ["https://arxiv.org/abs/2412.01824", { kind: "other" }],
    ["not a url at all", { kind: "other" }],
  ];
  for (const [url, expected] of table) {
    test(url, () => assert.deepEqual(HF.classifyUrl(url), expected));
  }
});

describe("periodOf: the window each page kind asks recommendations for", () => {
  const recent = { kind: "recent", from: null, until: null, days: 7 };
  const table = [
    // A day's page: that day.
    ["date/2024-12-03", { kind: "day", from: "2024-12-03", until: "2024-12-03", days: 1 }],
    ["date/2024-02-29?sort=upvotes", { kind: "day", from: "2024-02-29", until: "2024-02-29", days: 1 }],
    // A week's page: that ISO week, Monday to Sunday (week 1 holds January 4th).
    ["week/2024-W22", { kind: "week", from: "2024-05-27", until: "2024-06-02", days: 7 }],
    ["week/2024-W49", { kind: "week", from: "2024-12-02", until: "2024-12-08", days: 7 }],
    ["week/2025-W01", { kind: "week", from: "2024-12-30", until: "2025-01-05", days: 7 }],
    ["week/2026-W53", { kind: "week", from: "2026-12-28", until: "2027-01-03", days: 7 }],
    ["week/2021-W01", { kind: "week", from: "2021-01-04", until: "2021-01-10", days: 7 }],
    // A month's page: that month, whatever its length.
    ["month/2024-12", { kind: "month", from: "2024-12-01", until: "2024-12-31", days: 31 }],
    ["month/2024-02", { kind: "month", from: "2024-02-01", until: "2024-02-29", days: 29 }],
    ["month/2026-02", { kind: "month", from: "2026-02-01", until: "2026-02-28", days: 28 }],
    ["month/2026-11", { kind: "month", from: "2026-11-01", until: "2026-11-30", days: 30 }],
    // /papers, trending and a paper page: the newest 7 days.
    ["", recent],
    ["trending", recent],
    ["2412.01824", recent],
    ["2412.01824v2#community", recent],
    // Periods that do not exist fall back to the newest days rather than asking for nothing.
    ["date/2024-02-30", recent],
    ["date/2024-13-01", recent],
    ["week/2024-W53", recent],
    ["week/2024-W00", recent],
    ["month/2024-00", recent],
    ["month/2024-13", recent],
  ];
  for (const [path, expected] of table) {
    test(`/papers/${path}`, () => assert.deepEqual(HF.periodOf(`https://huggingface.co/papers/${path}`), expected));
  }
  test("pages off /papers have no period", () => {
    assert.equal(HF.periodOf("https://huggingface.co/models"), null);
    assert.equal(HF.periodOf("https://huggingface.co/papers/2412.01824/discussion"), null);
  });
});

describe("paperIdFromHref", () => {
  const table = [
    ["/papers/2412.01824", "2412.01824"],
    ["/papers/2412.01824v3", "2412.01824"],
    ["/papers/2412.01824#community", "2412.01824"],
    ["https://huggingface.co/papers/2412.01824", "2412.01824"],
    ["/papers/date/2024-12-03", null],
    ["/papers/trending", null],
    ["/papers", null],
    ["https://arxiv.org/abs/2412.01824", null],
    ["/2412.01824", null],
    [null, null],
  ];
  for (const [href, expected] of table) test(String(href), () => assert.equal(HF.paperIdFromHref(href), expected));
});

describe("list pages", () => {
  const cases = [
    ["date-2024-12-03.html", "https://huggingface.co/papers/date/2024-12-03", raw("2024-12-03"), true],
    ["date-2024-05-27.html", "https://huggingface.co/papers/date/2024-05-27", raw("2024-05-27"), true],
    ["week-2024-W22.html", "https://huggingface.co/papers/week/2024-W22", raw("2024-05-27"), true],
    ["month-2024-12.html", "https://huggingface.co/papers/month/2024-12", raw("2024-12-03").slice(0, 12), true],
    ["trending.html", "https://huggingface.co/papers/trending", raw("2026-08-21"), false],
  ];
  for (const [file, url, entries, hydrated] of cases) {
    test(`${file}: every card, in order, with its title`, () => {
      const { document } = fixtureWindow(file, url);
      assert.equal(HF.classifyUrl(url).kind, "list");
      const papers = HF.listPapers(document);
      assert.deepEqual(papers.map((p) => p.paperId), entries.map((e) => e.paper.id));
      for (const [i, p] of papers.entries()) {
        assert.equal(p.title, entries[i].paper.title.replace(/\s+/g, " ").trim());
        assert.equal(p.card.tagName, "ARTICLE");
        assert.equal(p.titleEl.tagName, "H3");
      }
      assert.equal(HF.hydratedTitles(document).size, hydrated ? entries.length : 0);
      assert.equal(HF.checkStructure(document, url), true);
    });
  }

  test("hydration JSON is read from the HTML-escaped data-props", () => {
    const { document } = fixtureWindow("date-2024-12-03.html");
    const props = HF.readHydration(document, "DailyPapers");
    assert.equal(props.dailyPapers.length, 25);
    assert.equal(props.dailyPapers[0].paper.id, "2412.01824");
    assert.equal(HF.readHydration(document, "PaperContent"), null);
  });

  test("stale hydration props after client-side navigation: the DOM decides", () => {
    const { document } = fixtureWindow("date-2024-12-03.html");
    const other = fixtureWindow("date-2024-05-27.html").document;
    // The SPA swaps the section but leaves the island's old props in place.
    const section = document.querySelector("section");
    section.replaceWith(document.importNode(other.querySelector("section"), true));
    const papers = HF.listPapers(document);
    assert.equal(papers[0].paperId, raw("2024-05-27")[0].paper.id);
    assert.equal(papers[0].title, raw("2024-05-27")[0].paper.title.replace(/\s+/g, " ").trim());
  });

  test("links that only look like papers are not cards (date, trending, #community)", () => {
    const { document } = fixtureWindow("date-2024-12-03.html");
    const ids = HF.listPapers(document).map((p) => p.paperId);
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(!ids.some((id) => !/^\d{4}\.\d{4,5}$/.test(id)));
  });

  test("clickedPaperId: card thumbnail and title links, not tabs", () => {
    const { document } = fixtureWindow("date-2024-12-03.html");
    const card = document.querySelector("article");
    assert.equal(HF.clickedPaperId(card.querySelector("a.thumb")), "2412.01824");
    assert.equal(HF.clickedPaperId(card.querySelector("h3 a")), "2412.01824");
    assert.equal(HF.clickedPaperId(document.querySelector("a.prev")), null);
    assert.equal(HF.clickedPaperId(card.querySelector("label")), null);
  });
});

describe("paper page", () => {
  test("paper-2412.01824.html: id, title and the title element", () => {
    const { document } = fixtureWindow("paper-2412.01824.html", "https://huggingface.co/papers/2412.01824");
    const page = HF.paperPage(document, "https://huggingface.co/papers/2412.01824");
    assert.equal(page.paperId, "2412.01824");
    assert.equal(page.title, raw("2024-12-03")[0].paper.title.replace(/\s+/g, " ").trim());
    assert.equal(page.titleEl.tagName, "H1");
    assert.equal(HF.readHydration(document, "PaperContent").paper.id, "2412.01824");
    assert.equal(HF.checkStructure(document, "https://huggingface.co/papers/2412.01824"), true);
  });

  test("stale PaperContent props (another paper) are ignored", () => {
    const { document } = fixtureWindow("paper-2412.01824.html", "https://huggingface.co/papers/2608.19880");
    const page = HF.paperPage(document, "https://huggingface.co/papers/2608.19880");
    assert.equal(page.paperId, "2608.19880");
    // Title comes from the DOM, not from the props of 2412.01824.
    assert.equal(page.title, document.querySelector("h1").textContent.replace(/\s+/g, " ").trim());
  });

  test("a list URL is not a paper page", () => {
    const { document } = fixtureWindow("paper-2412.01824.html");
    assert.equal(HF.paperPage(document, "https://huggingface.co/papers/trending"), null);
  });
});

describe("unrecognised structure", () => {
  test("no cards found, nothing thrown, one warning only", () => {
    const { document } = fixtureWindow("unknown-structure.html", "https://huggingface.co/papers/date/2024-12-03");
    Object.defineProperty(document, "readyState", { value: "complete" });
    HF._resetWarnings();
    const warnings = [];
    const orig = console.warn;
    console.warn = (...a) => warnings.push(a.join(" "));
    try {
      assert.deepEqual(HF.listPapers(document), []);
      assert.equal(HF.checkStructure(document, "https://huggingface.co/papers/date/2024-12-03"), false);
      assert.equal(HF.checkStructure(document, "https://huggingface.co/papers/date/2024-12-03"), false);
    } finally {
      console.warn = orig;
    }
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /no paper cards recognised/);
  });

  test("broken hydration JSON: falls back to the DOM, warns once", () => {
    const { document } = fixtureWindow("date-2024-12-03.html");
    document.querySelector("[data-target=DailyPapers]").setAttribute("data-props", "{not json");
    HF._resetWarnings();
    const orig = console.warn;
    let n = 0;
    console.warn = () => n++;
    try {
      assert.equal(HF.listPapers(document).length, 25);
      HF.listPapers(document);
    } finally {
      console.warn = orig;
    }
    assert.equal(n, 1);
  });
});

test("dark mode is html.dark", () => {
  const { document } = fixtureWindow("date-2024-12-03.html");
  assert.equal(HF.isDark(document), false);
  document.documentElement.classList.add("dark");
  assert.equal(HF.isDark(document), true);
});

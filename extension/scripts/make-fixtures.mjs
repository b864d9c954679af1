// Builds the fixture pages in test/fixtures/ from real /api/daily_papers responses.
//   node scripts/make-fixtures.mjs [/work/shared/datasets/hf-daily-papers/raw]
// The markup imitates huggingface.co/papers as public scrapers describe it (Svelte
// hydration islands with HTML-escaped JSON props, <article> cards, `h3 a` title links,
// upvotes in `label div.leading-none`). Output files are committed; rerun only to refresh.
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = join(dirname(fileURLToPath(import.meta.url)), "..", "test", "fixtures");
const rawDir = process.argv[2] || "/work/shared/datasets/hf-daily-papers/raw";
const load = (day) => JSON.parse(readFileSync(join(rawDir, `${day}.json`), "utf8"));

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
  .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
const oneLine = (s) => String(s).replace(/\s+/g, " ").trim();

const STYLE = `<style>
body{margin:0;font-family:sans-serif;background:#fff;color:#111}
html.dark body{background:#0b0f19;color:#e5e7eb}
header{height:56px;border-bottom:1px solid #ddd;display:flex;align-items:center;gap:16px;padding:0 16px}
.contents{display:contents}
.container{max-width:1280px;margin:0 auto;padding:0 16px;box-sizing:border-box}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:40px}
@media (max-width:900px){.grid{grid-template-columns:1fr}}
article{border:1px solid #e5e7eb;border-radius:12px;padding:12px}
.thumb{display:block;height:90px;background:#f3f4f6;border-radius:12px}
</style>`;

function page({ title, body, htmlClass = "" }) {
  return `<!doctype html>
<html class="${htmlClass}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>${esc(title)}</title>${STYLE}</head>
<body class="flex flex-col min-h-dvh bg-white dark:bg-gray-950 text-black">
<div class="flex min-h-dvh flex-col">
<header class="border-b border-gray-100"><nav class="container flex items-center">
<a href="/" class="mr-5">Hugging Face</a><a href="/models">Models</a> <a href="/datasets">Datasets</a>
<a href="/spaces">Spaces</a> <a href="/papers">Papers</a> <a href="/docs">Docs</a></nav></header>
${body}
<footer class="container py-6 text-gray-500">&copy; Hugging Face</footer>
</div>
</body>
</html>
`;
}

function card(entry) {
  const p = entry.paper;
  return `<article class="relative flex flex-col overflow-hidden rounded-xl border">
<a href="/papers/${p.id}" class="thumb shadow-alternate-sm peer relative block h-56 w-full cursor-pointer overflow-hidden rounded-xl bg-white md:h-64"></a>
<div class="from-gray-50-to-white rounded-xl bg-gradient-to-b pb-7 pl-2 pr-3 pt-3">
<div class="flex items-start gap-4"><div class="shrink-0">
<label class="shadow-alternate flex h-14 w-12 cursor-pointer select-none flex-col items-center justify-center rounded-lg border"><input type="checkbox" class="peer hidden"><svg class="text-sm" width="1em" height="1em" viewBox="0 0 12 12"><path d="M5.19 2.67a.94.94 0 0 1 1.62 0l3.31 5.72a.94.94 0 0 1-.82 1.4H2.7a.94.94 0 0 1-.82-1.4l3.31-5.7v-.02Z"></path></svg><div class="leading-none">${Number(p.upvotes) || 0}</div></label>
</div><div class="w-full">
<h3 class="mb-1 text-lg font-semibold leading-[1.2] hover:underline peer-hover:underline md:text-2xl"><a href="/papers/${p.id}" class="line-clamp-3 cursor-pointer text-balance">${esc(oneLine(p.title))}</a></h3>
<div class="flex items-center justify-between"><a href="/papers/${p.id}#community" class="flex items-center text-sm text-gray-400">${Number(entry.numComments) || 0}</a>
<ul class="flex items-center text-sm text-gray-400">${(p.authors || []).slice(0, 3).map((a) => `<li>${esc(a.name)}</li>`).join("")}<li>&middot; ${(p.authors || []).length} authors</li></ul></div>
</div></div></div>
</article>`;
}

function listPage({ title, entries, nav, hydrate = true }) {
  const inner = `<section class="container pb-20 pt-8">
<div class="mb-10 flex items-center justify-between"><h1 class="text-2xl font-bold">Daily Papers</h1>
<div class="flex gap-2">${nav}</div></div>
<div class="grid relative grid-cols-1 gap-14 lg:grid-cols-2">
${entries.map(card).join("\n")}
</div></section>`;
  const body = hydrate
    ? `<main class="flex flex-1 flex-col"><div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="${esc(JSON.stringify({ dailyPapers: entries, date: title }))}">${inner}</div></main>`
    : `<main class="flex flex-1 flex-col">${inner}</main>`;
  return page({ title: `${title} - Daily Papers - Hugging Face`, body });
}

const tabs = (daily, weekly, monthly, prev, next) =>
  `<a href="/papers/date/${daily}" class="tab">Daily</a> <a href="/papers/week/${weekly}" class="tab">Weekly</a> ` +
  `<a href="/papers/month/${monthly}" class="tab">Monthly</a> <a href="/papers/trending" class="tab">Trending</a> ` +
  (prev ? `<a href="/papers/date/${prev}" class="prev">&larr; Previous</a> ` : "") +
  (next ? `<a href="/papers/date/${next}" class="next">Next &rarr;</a>` : "");

function paperPage(entry) {
  const p = entry.paper;
  const props = { paper: p, canonical: `https://huggingface.co/papers/${p.id}` };
  const body = `<main class="flex flex-1 flex-col"><div class="SVELTE_HYDRATER contents" data-target="PaperContent" data-props="${esc(JSON.stringify(props))}">
<section class="container pt-8"><div class="mb-4"><a href="/papers/date/2024-12-03" class="text-sm">&larr; Daily Papers</a></div>
<h1 class="mb-2 text-3xl font-semibold md:text-4xl">${esc(oneLine(p.title))}</h1>
<p class="text-sm text-gray-500">Published on ${esc(p.publishedAt)}</p>
<div class="my-3 flex flex-wrap gap-1">${(p.authors || []).map((a) => `<span class="author">${esc(a.name)}</span>`).join(", ")}</div>
<div class="flex gap-2"><a href="https://arxiv.org/abs/${p.id}" class="btn">View arXiv page</a> <a href="https://arxiv.org/pdf/${p.id}" class="btn">View PDF</a></div>
<h2 class="mt-6 text-lg font-semibold">Abstract</h2><p class="text-gray-700">${esc(oneLine(p.summary || ""))}</p>
</section></div></main>`;
  return page({ title: `Paper page - ${oneLine(p.title)}`, body });
}

const d1203 = load("2024-12-03");
const d0527 = load("2024-05-27");
const d0821 = load("2026-08-21");
const out = {
  "date-2024-12-03.html": listPage({ title: "2024-12-03", entries: d1203, nav: tabs("2024-12-03", "2024-W49", "2024-12", "2024-12-02", "2024-12-04") }),
  "date-2024-12-04.html": listPage({ title: "2024-12-04", entries: d0821, nav: tabs("2024-12-04", "2024-W49", "2024-12", "2024-12-03", null) }),
  "date-2024-05-27.html": listPage({ title: "2024-05-27", entries: d0527, nav: tabs("2024-05-27", "2024-W22", "2024-05", null, "2024-05-28") }),
  "week-2024-W22.html": listPage({ title: "2024-W22", entries: d0527, nav: tabs("2024-05-27", "2024-W22", "2024-05") }),
  "month-2024-12.html": listPage({ title: "2024-12", entries: d1203.slice(0, 12), nav: tabs("2024-12-03", "2024-W49", "2024-12") }),
  // Trending without a DailyPapers island: the DOM must be enough.
  "trending.html": listPage({ title: "Trending", entries: d0821, nav: tabs("2024-12-03", "2024-W49", "2024-12"), hydrate: false }),
  "paper-2412.01824.html": paperPage(d1203[0]),
  "paper-2608.19880.html": paperPage(d0821[0]),
  // A redesign we do not understand: no article cards, no islands.
  "unknown-structure.html": page({ title: "Daily Papers", body: `<main><div class="feed"><div class="item"><span>Some paper</span></div></div></main>` }),
};
for (const [name, html] of Object.entries(out)) writeFileSync(join(here, name), html);
// What each page must yield, straight from the API data (tests must not need the raw files).
const expect = (entries) => entries.map((e) => ({ id: e.paper.id, title: oneLine(e.paper.title) }));
const expected = {
  "date-2024-12-03.html": expect(d1203),
  "date-2024-05-27.html": expect(d0527),
  "date-2024-12-04.html": expect(d0821),
  "week-2024-W22.html": expect(d0527),
  "month-2024-12.html": expect(d1203.slice(0, 12)),
  "trending.html": expect(d0821),
  "paper-2412.01824.html": expect([d1203[0]]),
  "paper-2608.19880.html": expect([d0821[0]]),
};
writeFileSync(join(here, "expected.json"), JSON.stringify(expected, null, 1) + "\n");
console.log(`wrote ${Object.keys(out).length} fixture pages to ${here}`);

import { test } from "node:test";
import assert from "node:assert/strict";
import { toBibTeX, toJSON, filterSaved } from "../src/shared/export.js";

const items = [
  { paper_id: "2412.01824", title: "X-Prompt: Towards Universal {In-Context} Image Generation & 100% more_fun", saved_at: "2026-11-26T10:00:00Z" },
  { paper_id: "2405.15738", title: "ConvLLaVA: Hierarchical Backbones", saved_at: "2026-11-20T10:00:00Z" },
];

test("BibTeX: one @misc per paper with the arXiv id as eprint, special characters escaped", () => {
  const bib = toBibTeX(items);
  assert.equal((bib.match(/@misc\{/g) || []).length, 2);
  assert.match(bib, /@misc\{arxiv:2412\.01824,/);
  assert.match(bib, /eprint = \{2412\.01824\},/);
  assert.match(bib, /archivePrefix = \{arXiv\},/);
  assert.match(bib, /url = \{https:\/\/arxiv\.org\/abs\/2405\.15738\},/);
  assert.match(bib, /title = \{\{X-Prompt: Towards Universal \\\{In-Context\\\} Image Generation \\& 100\\% more\\_fun\}\},/);
  assert.equal(toBibTeX([]), "");
});

test("JSON export lists the saved papers with links", () => {
  const data = JSON.parse(toJSON(items));
  assert.deepEqual(data.saved.map((p) => p.paper_id), ["2412.01824", "2405.15738"]);
  assert.equal(data.saved[0].url, "https://huggingface.co/papers/2412.01824");
  assert.equal(data.saved[1].arxiv_url, "https://arxiv.org/abs/2405.15738");
});

test("search matches every word in title or id, case-insensitively", () => {
  assert.deepEqual(filterSaved(items, "convllava").map((i) => i.paper_id), ["2405.15738"]);
  assert.deepEqual(filterSaved(items, "prompt 2412").map((i) => i.paper_id), ["2412.01824"]);
  assert.equal(filterSaved(items, "").length, 2);
  assert.equal(filterSaved(items, "nothing-like-this").length, 0);
});

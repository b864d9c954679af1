// Export of the saved list: BibTeX (arXiv ids as eprints) and JSON.

function bibEscape(text) {
  return String(text || "")
    .replace(/\s+/g, " ")
    .trim()
    .replace(/\\/g, "\\textbackslash{}")
    .replace(/([{}&%$#_])/g, "\\$1")
    .replace(/~/g, "\\textasciitilde{}")
    .replace(/\^/g, "\\textasciicircum{}");
}

/** One @misc entry per saved paper, keyed arxiv:<id>. */
export function toBibTeX(items) {
  return items
    .map((item) => {
      const id = item.paper_id;
      return [
        `@misc{arxiv:${id},`,
        `  title = {{${bibEscape(item.title || id)}}},`,
        `  eprint = {${id}},`,
        "  archivePrefix = {arXiv},",
        `  url = {https://arxiv.org/abs/${id}},`,
        `  note = {Saved ${bibEscape((item.saved_at || "").slice(0, 10))} from https://huggingface.co/papers/${id}},`,
        "}",
      ].join("\n");
    })
    .join("\n\n") + (items.length ? "\n" : "");
}

export function toJSON(items) {
  const papers = items.map((i) => ({
    paper_id: i.paper_id,
    title: i.title || "",
    saved_at: i.saved_at || null,
    url: `https://huggingface.co/papers/${i.paper_id}`,
    arxiv_url: `https://arxiv.org/abs/${i.paper_id}`,
  }));
  return JSON.stringify({ exported_at: new Date().toISOString(), saved: papers }, null, 2) + "\n";
}

/** Case-insensitive filter on title and id; every word must match. */
export function filterSaved(items, query) {
  const words = String(query || "").toLowerCase().split(/\s+/).filter(Boolean);
  if (!words.length) return items;
  return items.filter((i) => {
    const hay = `${i.title || ""} ${i.paper_id}`.toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

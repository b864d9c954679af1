import { call, api } from "../shared/messaging.js";
import { filterSaved, toBibTeX, toJSON } from "../shared/export.js";

const $ = (id) => document.getElementById(id);
let items = [];

function render() {
  const list = $("saved");
  const shown = filterSaved(items, $("search").value);
  list.replaceChildren(
    ...shown.map((item) => {
      const li = document.createElement("li");
      const a = document.createElement("a");
      a.href = `https://huggingface.co/papers/${item.paper_id}`;
      a.target = "_blank";
      a.rel = "noopener";
      a.textContent = item.title || item.paper_id;
      a.dataset.paperId = item.paper_id;
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = `arXiv:${item.paper_id}${item.saved_at ? ` \u00b7 saved ${item.saved_at.slice(0, 10)}` : ""}`;
      li.append(a, meta);
      return li;
    }),
  );
  $("empty").hidden = items.length > 0;
}

function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

async function load() {
  const [saved, settings] = await Promise.all([call("getSaved"), call("getSettings")]);
  items = saved.items;
  $("paused").checked = settings.paused;
  const notes = [];
  if (saved.status === "offline") notes.push("offline \u2014 your actions are kept and sent later");
  else if (saved.status === "error") notes.push("server error");
  if (saved.pending) notes.push(`${saved.pending} waiting to sync`);
  $("sync").textContent = notes.join(" \u00b7 ");
  render();
}

$("search").addEventListener("input", render);
$("export-bibtex").addEventListener("click", () => download("paperfeed-saved.bib", toBibTeX(items), "application/x-bibtex"));
$("export-json").addEventListener("click", () => download("paperfeed-saved.json", toJSON(items), "application/json"));
$("paused").addEventListener("change", (e) => call("setSettings", { paused: e.target.checked }));
for (const id of ["options", "privacy"]) {
  $(id).addEventListener("click", (e) => {
    if (id === "options") {
      e.preventDefault();
      api.runtime.openOptionsPage();
      window.close();
    }
  });
}
call("getDigest").then((r) => {
  $("digest").textContent = r.line;
}, () => {});
load().catch((error) => {
  $("sync").textContent = String(error.message || error);
});

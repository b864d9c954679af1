// The manifest works in both browsers and declares what it collects.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";

const root = new URL("../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("manifest.json", root), "utf8"));

test("one background for both browsers, as an ES module", () => {
  assert.equal(manifest.manifest_version, 3);
  assert.equal(manifest.background.service_worker, "src/background/main.js");
  assert.deepEqual(manifest.background.scripts, ["src/background/main.js"]);
  assert.equal(manifest.background.type, "module");
});

test("content scripts only on huggingface.co/papers, classic scripts in dependency order", () => {
  assert.equal(manifest.content_scripts.length, 1);
  const [cs] = manifest.content_scripts;
  assert.deepEqual(cs.matches, ["https://huggingface.co/papers*"]);
  assert.deepEqual(cs.js, ["src/content/hf.js", "src/content/ui.js", "src/content/main.js"]);
  for (const f of cs.js) assert.doesNotMatch(readFileSync(new URL(f, root), "utf8"), /^\s*(import|export)\s/m, f);
});

test("Firefox: id and data collection declared", () => {
  const gecko = manifest.browser_specific_settings.gecko;
  assert.ok(gecko.id);
  assert.ok(gecko.data_collection_permissions.required.includes("browsingActivity"));
});

test("every file the manifest names exists", () => {
  const files = [
    manifest.background.service_worker, ...manifest.content_scripts[0].js, manifest.action.default_popup,
    manifest.options_ui.page, ...Object.values(manifest.icons),
  ];
  for (const f of files) assert.ok(existsSync(new URL(f, root)), f);
  assert.ok(manifest.name.length <= 45);
});

#!/usr/bin/env node
// The JavaScript a first visit downloads before any page chunk: the entry chunk and
// everything it imports statically (not what it imports with import()), gzipped; and the
// same with the sign-in page and with the dashboard (PAGES). Reads Vite's build manifest;
// exits 1 when any is over the budget. Run after `npm run build`.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BUDGET_KB = 250;
// The sign-in page is what a first visit shows, and the dashboard is where signing in lands:
// each, with the entry, stays within the budget too. (The dashboard's charts — ECharts — and
// its date picker are chunks it imports with import(), loaded after its figures: reported,
// not counted.)
// The signed-in shell (menu, header) is a chunk of its own that every page after sign-in
// loads with the page: it is counted with the dashboard.
const PAGES = [
  { key: "src/pages/LoginPage.tsx", name: "sign-in page", with: [] },
  { key: "src/pages/dashboard/DashboardPage.tsx", name: "dashboard", with: ["src/layout/AppShell.tsx"] },
];
// Heavy lazy pages with a budget of their own: the JavaScript the page downloads on top of
// the entry (its chunk and everything it imports statically that the entry does not have).
// The journey editor carries React Flow, dagre and the inspectors' form controls.
const LAZY_PAGES = [{ key: "src/pages/journeys/JourneyPage.tsx", name: "journey editor", budgetKb: 400 }];
const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "..", "..", "src", "kairos", "console_dist");
const manifestPath = join(outDir, ".vite", "manifest.json");

if (!existsSync(manifestPath)) {
  console.error(`no build manifest at ${manifestPath}: run \`npm run build\` first`);
  process.exit(1);
}

/** @type {Record<string, {file: string, isEntry?: boolean, isDynamicEntry?: boolean, imports?: string[], dynamicImports?: string[], css?: string[], src?: string}>} */
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));

/** @param {string} file */
const gzipped = (file) => gzipSync(readFileSync(join(outDir, file)), { level: 9 }).length;
/** @param {number} bytes */
const kb = (bytes) => (bytes / 1024).toFixed(1);

/**
 * Chunks reached from `key` through static imports only, the chunk itself included.
 * @param {string} key
 * @param {Set<string>} [seen]
 * @returns {Set<string>}
 */
function staticClosure(key, seen = new Set()) {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const dep of manifest[key]?.imports ?? []) staticClosure(dep, seen);
  return seen;
}

/**
 * The import() targets of `key` and of what it imports statically, leaving out `skip`'s
 * (the entry's import() targets are every page).
 * @param {string} key
 * @param {Set<string>} skip
 * @returns {Set<string>}
 */
function dynamicFrom(key, skip) {
  const out = new Set();
  for (const k of staticClosure(key)) {
    if (!skip.has(k)) for (const d of manifest[k]?.dynamicImports ?? []) out.add(d);
  }
  return out;
}

/** @param {Set<string>} keys */
function jsBytes(keys) {
  let total = 0;
  for (const key of keys) {
    const chunk = manifest[key];
    if (chunk && chunk.file.endsWith(".js")) total += gzipped(chunk.file);
  }
  return total;
}

const entries = Object.keys(manifest).filter((k) => manifest[k]?.isEntry);
if (entries.length !== 1) {
  console.error(`expected one entry chunk in the manifest, found ${entries.length}`);
  process.exit(1);
}
const entryKey = /** @type {string} */ (entries[0]);
const initial = staticClosure(entryKey);
const initialBytes = jsBytes(initial);

console.log(`initial JavaScript (entry + static imports, ${initial.size} chunks): ${kb(initialBytes)} KB gzipped (budget ${BUDGET_KB} KB)`);

// For information: each lazily loaded page on top of what the first visit already has.
for (const key of manifest[entryKey]?.dynamicImports ?? []) {
  const extra = new Set([...staticClosure(key)].filter((k) => !initial.has(k)));
  const name = manifest[key]?.src ?? key;
  console.log(`  + ${name}: ${kb(jsBytes(extra))} KB (first visit with this page: ${kb(initialBytes + jsBytes(extra))} KB)`);
}

let failed = false;
if (initialBytes > BUDGET_KB * 1024) {
  console.error(`over budget: initial JavaScript ${kb(initialBytes)} KB > ${BUDGET_KB} KB gzipped`);
  failed = true;
}
for (const page of PAGES) {
  if (!manifest[page.key]) {
    console.error(`${page.key} is not in the manifest`);
    failed = true;
    continue;
  }
  const closure = new Set([...initial, ...staticClosure(page.key)]);
  for (const extra of page.with) for (const k of staticClosure(extra)) closure.add(k);
  const bytes = jsBytes(closure);
  console.log(`${page.name} first visit: ${kb(bytes)} KB gzipped (budget ${BUDGET_KB} KB)`);
  if (bytes > BUDGET_KB * 1024) {
    console.error(`over budget: ${page.name} ${kb(bytes)} KB > ${BUDGET_KB} KB gzipped`);
    failed = true;
  }
  // What the page loads next, on its own (its import() chunks and theirs).
  const later = new Set();
  for (const lazy of dynamicFrom(page.key, new Set([...initial, ...page.with]))) {
    for (const k of staticClosure(lazy)) if (!closure.has(k)) later.add(k);
  }
  if (later.size > 0) {
    console.log(`  then loaded lazily by the ${page.name} (its import() chunks): ${kb(jsBytes(later))} KB`);
  }
}
for (const page of LAZY_PAGES) {
  if (!manifest[page.key]) {
    console.error(`${page.key} is not in the manifest`);
    failed = true;
    continue;
  }
  const own = new Set([...staticClosure(page.key)].filter((k) => !initial.has(k)));
  const bytes = jsBytes(own);
  console.log(`${page.name} (lazy, on top of the entry): ${kb(bytes)} KB gzipped (budget ${page.budgetKb} KB)`);
  if (bytes > page.budgetKb * 1024) {
    console.error(`over budget: ${page.name} ${kb(bytes)} KB > ${page.budgetKb} KB gzipped`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);

#!/usr/bin/env node
// The JavaScript a first visit downloads before any page chunk: the entry chunk and
// everything it imports statically (not what it imports with import()), gzipped.
// Reads Vite's build manifest; exits 1 over the budget. Run after `npm run build`.
import { readFileSync, existsSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BUDGET_KB = 250;
// The sign-in page is what a first visit shows: with the entry it stays within the budget too.
const LOGIN_PAGE = "src/pages/LoginPage.tsx";
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
if (manifest[LOGIN_PAGE]) {
  const login = new Set([...initial, ...staticClosure(LOGIN_PAGE)]);
  const loginBytes = jsBytes(login);
  console.log(`sign-in page first visit: ${kb(loginBytes)} KB gzipped (budget ${BUDGET_KB} KB)`);
  if (loginBytes > BUDGET_KB * 1024) {
    console.error(`over budget: sign-in page ${kb(loginBytes)} KB > ${BUDGET_KB} KB gzipped`);
    failed = true;
  }
} else {
  console.error(`${LOGIN_PAGE} is not in the manifest`);
  failed = true;
}
process.exit(failed ? 1 : 0);

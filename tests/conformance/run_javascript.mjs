// node run_javascript.mjs CASES.json LICENSE.mjs: every case of the conformance suite through the
// JavaScript verifier `charter verifier export --language javascript` wrote; prints each
// disagreement (case, verifier, expected, actual) and exits 1 when there is one.
import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";

const [casesPath, licensePath] = process.argv.slice(2);
const verifier = await import(pathToFileURL(licensePath).href);
const expand = (value) =>
  value === null || typeof value === "string" ? value : value.map((piece) => (typeof piece === "string" ? piece : piece.repeat.repeat(piece.count))).join("");
// Values as JSON.parse gives them: BigInt as Number, plain objects.
const normal = (value) => JSON.parse(JSON.stringify(value, (_, v) => (typeof v === "bigint" ? Number(v) : v)));

const suite = JSON.parse(readFileSync(casesPath, "utf8"));
let failures = 0;
for (const test of suite.cases) {
  const verdict = verifier.verify(expand(test.token), { now: test.now, leeway: test.leeway, buildTime: test.build_time,
    revocations: expand(test.revocations), keys: test.keys, product: test.product });
  if (verdict.status !== test.status) {
    failures++;
    console.log(`case ${test.name}, verifier javascript: expected ${test.status}, actual ${verdict.status} (${verdict.detail})`);
  } else if (test.status === "valid" && !isDeepStrictEqual(normal(verdict.claims), test.claims)) {
    failures++;
    console.log(`case ${test.name}, verifier javascript: expected claims ${JSON.stringify(test.claims)}, actual ${JSON.stringify(normal(verdict.claims))}`);
  }
}

for (const test of suite.activation_cases) {
  const verdict = verifier.verifyActivation(expand(test.token), test.fingerprint, { now: test.now, leeway: test.leeway, keys: test.keys,
    product: test.product });
  if (verdict.status !== test.status) {
    failures++;
    console.log(`case ${test.name}, verifier javascript: expected ${test.status}, actual ${verdict.status} (${verdict.detail})`);
  } else if (test.status === "valid" && !isDeepStrictEqual(normal(verdict.claims), test.claims)) {
    failures++;
    console.log(`case ${test.name}, verifier javascript: expected claims ${JSON.stringify(test.claims)}, actual ${JSON.stringify(normal(verdict.claims))}`);
  }
}

// The startup cases: each in a fresh folder holding its files.
const { mkdtempSync, mkdirSync, writeFileSync, rmSync } = await import("node:fs");
const { tmpdir } = await import("node:os");
const { join } = await import("node:path");
const root = mkdtempSync(join(tmpdir(), "charter-conformance"));
const previous = process.cwd();
for (const test of suite.startup_cases) {
  const folder = join(root, test.name);
  mkdirSync(folder);
  const places = test.files.concat(test.revocation_file ? [test.revocation_file] : []);
  for (const place of places) {
    if (place.directory) mkdirSync(join(folder, place.name));
    else if (place.content !== null) writeFileSync(join(folder, place.name), expand(place.content));
  }
  if (test.env === null) delete process.env.CHARTER_CONFORMANCE_LICENSE;
  else process.env.CHARTER_CONFORMANCE_LICENSE = test.env;
  process.chdir(folder);
  let result;
  try {
    result = verifier.check({ env: test.no_env ? null : "CHARTER_CONFORMANCE_LICENSE", files: test.files.map((f) => f.name),
      mode: test.mode, graceDays: test.grace_days, renewUrl: test.renew_url,
      renewalWarningDays: test.renewal_warning_days ?? undefined, // null: not configured, so the default applies
      revocationFile: test.revocation_file ? test.revocation_file.name : null, buildTime: test.build_time, now: test.now,
      keys: test.keys, product: test.product });
  } finally {
    process.chdir(previous);
    delete process.env.CHARTER_CONFORMANCE_LICENSE;
  }
  const actual = [result.status, result.valid, result.warning, result.message];
  const expected = [test.status, test.valid, test.warning, test.message];
  if (!isDeepStrictEqual(actual, expected)) {
    failures++;
    console.log(`case ${test.name}, verifier javascript: expected ${JSON.stringify(expected)}, actual ${JSON.stringify(actual)}`);
  }
}
rmSync(root, { recursive: true, force: true });
const total = suite.cases.length + suite.startup_cases.length + suite.activation_cases.length;
console.log(`javascript: ${total - failures} of ${total} cases agree`);
process.exitCode = failures ? 1 : 0;

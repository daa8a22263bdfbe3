// The customer's program: uses the acme-pro package, whose import checks the license.
// Prints the licensee and entitlements, or why acme-pro may not run (exit status 1).
let acme;
try {
  acme = await import("./index.mjs");
} catch (error) {
  if (error.constructor.name !== "LicenseError") throw error;
  process.stderr.write(error.message + "\n");
  process.exit(1);
}

if (acme.LICENSE) {
  console.log(`licensed to ${acme.LICENSE.licensee} (${acme.LICENSE.id})`);
  console.log(`entitlements: ${acme.LICENSE.entitlements.length ? acme.LICENSE.entitlements.join(", ") : "none"}`);
}

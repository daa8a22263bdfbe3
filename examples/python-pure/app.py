"""The customer's program: uses acme_pro, whose import checks the license.

Prints the licensee and entitlements, or why acme_pro may not run (exit status 1).
"""
import sys

try:
    import acme_pro
except ImportError as error:  # acme_pro.LicenseError
    print(error, file=sys.stderr)
    sys.exit(1)

if acme_pro.LICENSE:
    print(f"licensed to {acme_pro.LICENSE.licensee} ({acme_pro.LICENSE.id})")
    print("entitlements: " + (", ".join(acme_pro.LICENSE.entitlements) or "none"))

#!/bin/sh
# Writes the generated modules of acme_pro: license.py (charter verifier export --language
# python: the license check, with our public keys inside) and _build_info.py (the release's
# build time: SOURCE_DATE_EPOCH, else now). CHARTER names the charter CLI (default: charter);
# its data directory comes from CHARTER_DATA_DIR or ./charter-data.
set -eu
cd "$(dirname "$0")"
"${CHARTER:-charter}" verifier export --language python --product acme-pro > acme_pro/license.py.tmp
mv acme_pro/license.py.tmp acme_pro/license.py
printf 'BUILD_TIME = %s  # written by build.sh\n' "${SOURCE_DATE_EPOCH:-$(date +%s)}" > acme_pro/_build_info.py

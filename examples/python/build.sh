#!/bin/sh
# Writes the generated modules of acme_pro: _charter_keys.py (charter key export --format
# python) and _build_info.py (the release's build time: SOURCE_DATE_EPOCH, else now).
# CHARTER names the charter CLI (default: charter); its data directory comes from
# CHARTER_DATA_DIR or ./charter-data.
set -eu
cd "$(dirname "$0")"
"${CHARTER:-charter}" key export --format python > acme_pro/_charter_keys.py.tmp
mv acme_pro/_charter_keys.py.tmp acme_pro/_charter_keys.py
printf 'BUILD_TIME = %s  # written by build.sh\n' "${SOURCE_DATE_EPOCH:-$(date +%s)}" > acme_pro/_build_info.py

#!/bin/sh
# Writes the generated modules of acme-pro: license.mjs (charter verifier export --language
# javascript: the license check, with our public keys inside, node:crypto only) and
# build_info.mjs (the release's build time: SOURCE_DATE_EPOCH, else now). CHARTER names the
# charter CLI (default: charter); its data directory comes from CHARTER_DATA_DIR or ./charter-data.
set -eu
cd "$(dirname "$0")"
"${CHARTER:-charter}" verifier export --language javascript --product acme-pro > license.mjs.tmp
mv license.mjs.tmp license.mjs
printf 'export const BUILD_TIME = %s; // written by build.sh\n' "${SOURCE_DATE_EPOCH:-$(date +%s)}" > build_info.mjs

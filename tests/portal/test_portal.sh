#!/usr/bin/env bash
# The customer portal in headless Chromium (tests/portal/browser.py, one browser per step)
# against one charter-server on 127.0.0.1, and the customer's real Bundler: sign in with a key
# and see the end date; a wrong key's error on the page; a download credential created in the
# browser installs the gem with Bundler, and once revoked in the browser Bundler is refused with
# the sentence; a form without its CSRF token is refused; a customer name with <script> and a
# product name with quotes render as text; another customer's license id in a URL is a 404.
#
# usage: test_portal.sh CHARTER CHARTER_SERVER WORK_DIR   (exit 77: no Chromium here)
set -euo pipefail

python=/usr/bin/python3
browser_py=$(dirname "${BASH_SOURCE[0]}")/browser.py
if [[ ! -x /usr/bin/chromium || ! -x /usr/bin/chromedriver ]] || ! $python -c 'import selenium' 2>/dev/null; then
    echo "skipped: chromium, chromium-driver or python3-selenium is not installed (scripts/setup installs them)"
    exit 77
fi

# shellcheck source=../rubygems/source_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/../rubygems/source_server.sh" "$@"

# browser STEP ARGS…: one step in a fresh browser; its output on stdout.
browser() {
    local status=0
    $python "$browser_py" "$base_url" "$work" "$@" || status=$?
    [[ $status == 0 ]] || fail "browser step $1 (exit $status)"
}

make_vendor "$work/charter-data"
now=$(date -u +%s)
day=86400
read -r license_id key < <(issue_for_jane --product acme-pro --expires 1y --updates-until 1y)
end_date=$("$charter" show "$license_id" --json | sed -n 's/^  "expires_at": "\([0-9-]*\)T.*/\1/p')
[[ -n $end_date ]] || fail "no end date for $license_id"

# Another customer, whose name is markup, with a license of a product whose name has quotes.
"$charter" product add quoted --name "The \"Quoted\" Product's <b>Edition</b>" >/dev/null
other_customer=$("$charter" customer add --email mallory@example.com --name '<script>document.title="owned"</script><i data-injected=1>x</i>')
read -r other_license other_key < <("$charter" issue --customer mallory@example.com --product quoted --json \
    | sed -n -e 's/^  "id": "\(lic_[^"]*\)".*/\1/p' -e 's/^  "key": "\([^"]*\)".*/\1/p' | paste -sd ' ')
[[ -n $other_license && -n $other_customer ]] || fail "no license for the other customer"

build_gem "$work/gem-src" acme-pro 1.0.0
"$charter" release add --product acme-pro --released-at "$(rfc3339 $((now - day)))" "$work/gem-src/acme-pro-1.0.0.gem" >/dev/null \
    || fail "release add"

start_source_server
base_url=http://127.0.0.1:$port

browser sign-in-with-key "$key" "$license_id" "$end_date"
browser wrong-key "${key%?????}AAAAA" >"$work/wrong-key.out"

# A CI credential made in the browser installs the gem with the real Bundler.
secret=$(browser create-credential "$key" "$license_id" ci)
[[ $secret == cdl_* ]] || fail "no credential secret from the browser: '$secret'"
customer=$(client_env customer)
printf 'source "%s"\n\ngem "acme-pro"\n' "$source_url" >"$work/customer/app/Gemfile"
(cd "$work/customer/app" && $customer bundle config set --global 127.0.0.1 "ci:$secret") >/dev/null || fail "bundle config set"
(cd "$work/customer/app" && $customer bundle install) >"$work/install.log" 2>&1 \
    || fail "bundle install with the credential made in the portal: $(cat "$work/install.log")"
grep -q "acme-pro (1.0.0)" "$work/customer/app/Gemfile.lock" || fail "acme-pro 1.0.0 not installed"

# Revoked in the browser: Bundler is refused with the sentence.
browser revoke-credential "$key" "$license_id" ci
rm -f "$work/customer/app/Gemfile.lock"
rm -rf "$work/customer/bundle" "$work/customer/home/.bundle/cache" "$work/customer/home/.gem" "$work/customer/home/.cache"
if (cd "$work/customer/app" && $customer bundle install) >"$work/revoked.log" 2>&1; then
    fail "bundle install with a revoked credential succeeded"
fi
credential_id=$("$charter" credential list "$license_id" --json | sed -n 's/.*"id": "\(cred_[^"]*\)".*/\1/p' | head -n 1)
sentence="credential $credential_id (\"ci\") was revoked on $(date -u +%F); ask the vendor for a new credential, or use the license key"
shows "$work/revoked.log" "$sentence" || fail "Bundler does not show '$sentence': $(cat "$work/revoked.log")"

browser csrf "$key" "$license_id"
browser escaping "$other_key" '<script>document.title="owned"</script><i data-injected=1>x</i>' \
    "The \"Quoted\" Product's <b>Edition</b>"
browser other-customer "$key" "$license_id" "$other_license"

# Every sign-in, sign-out and change is audited with the customer as actor.
jane=$("$charter" customer show jane@example.com --json | sed -n 's/^  "id": "\(cus_[^"]*\)".*/\1/p')
audit=$("$charter" audit --json)
for action in portal.sign_in portal.sign_out credential.create credential.revoke; do
    grep -q "\"actor\": \"customer:$jane\"" <<<"$(grep -B3 -A3 "\"action\": \"$action\"" <<<"$audit")" \
        || fail "no $action audit row with actor customer:$jane"
done
echo "ok: the portal in Chromium (sign-in, wrong key, credential with Bundler, CSRF, escaping, ownership)"

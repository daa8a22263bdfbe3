#!/usr/bin/env bash
# The private RubyGems source with the real clients (docs/rubygems.md): Debian's Bundler and
# RubyGems against charter-server on 127.0.0.1, each run with an empty HOME, no other gem
# source, a private install path and no network besides the loopback server.
#
# usage: test_rubygems.sh CHARTER CHARTER_SERVER WORK_DIR
set -euo pipefail

# shellcheck source=source_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/source_server.sh" "$@"

# --- The vendor: a data directory, two products, licenses of every kind ----------------------

make_vendor "$work/charter-data"

# issue ARGS…: prints "lic_… v4.public.…"
issue() { issue_for_jane "$@"; }
now=$(date -u +%s)
day=86400

read -r _ valid < <(issue --product acme-pro --expires 1y)
# Issued 40 days ago with updates until 10 days ago: covers releases published before then.
read -r _ old < <(CHARTER_NOW=$(rfc3339 $((now - 40 * day))) issue --product acme-pro --expires 1y \
    --updates-until "$(rfc3339 $((now - 10 * day)))")
read -r revoked_id revoked < <(issue --product acme-pro --expires 1y)
read -r other_id other_product < <(issue --product acme-basic --expires 1y)
# Expired 30 days ago; acme-pro keeps no access after expiry (the default).
read -r expired_id expired < <(CHARTER_NOW=$(rfc3339 $((now - 40 * day))) issue --product acme-pro \
    --expires "$(rfc3339 $((now - 30 * day)))")
# Updates ended 35 days ago, before every release of acme-pro.
read -r ended_id ended < <(CHARTER_NOW=$(rfc3339 $((now - 40 * day))) issue --product acme-pro --expires 1y \
    --updates-until "$(rfc3339 $((now - 35 * day)))")
# A key of another vendor (a key this server does not know).
"$charter" --data-dir "$work/other-vendor" init --issuer "Other Inc." >/dev/null
"$charter" --data-dir "$work/other-vendor" product add acme-pro >/dev/null
"$charter" --data-dir "$work/other-vendor" customer add --email joe@example.com >/dev/null
unknown=$("$charter" --data-dir "$work/other-vendor" issue --product acme-pro --customer joe@example.com 2>/dev/null)
"$charter" revoke "$revoked_id" --reason "chargeback" >/dev/null 2>&1
[[ $valid == v4.public.* ]] || fail "no license key issued: '$valid'"

# --- Two gems built here: acme-pro depends on acme-base (~> and >=), and has a platform build -

gems=$work/gem-src
build_gem "$gems/base-1.0.3" acme-base 1.0.3
build_gem "$gems/base-1.1.0" acme-base 1.1.0
build_gem "$gems/pro" acme-pro 1.2.0 ruby 's.add_dependency "acme-base", "~> 1.0", ">= 1.0.2"'
build_gem "$gems/pro-linux" acme-pro 1.2.0 x86_64-linux 's.add_dependency "acme-base", "~> 1.0", ">= 1.0.2"'
build_gem "$gems/basic" acme-lite 0.9.0 # of the product acme-basic: acme-pro licenses never see it

# Published 30 days ago (covered by the old license), except acme-base 1.1.0 (published now).
"$charter" release add --product acme-pro --released-at "$(rfc3339 $((now - 30 * day)))" \
    "$gems/base-1.0.3/acme-base-1.0.3.gem" "$gems/pro/acme-pro-1.2.0.gem" \
    "$gems/pro-linux/acme-pro-1.2.0-x86_64-linux.gem" >/dev/null || fail "release add (gems)"
"$charter" release add --product acme-pro "$gems/base-1.1.0/acme-base-1.1.0.gem" >/dev/null || fail "release add 1.1.0"
"$charter" release add --product acme-basic "$gems/basic/acme-lite-0.9.0.gem" >/dev/null || fail "release add acme-lite"
"$charter" release list --product acme-pro | grep -q "acme-pro-1.2.0-x86_64-linux.gem" || fail "platform gem not listed by filename"
echo "not a gem" >"$work/broken.gem"
if "$charter" release add --product acme-pro "$work/broken.gem" 2>"$work/broken.err"; then
    fail "a file that is not a gem was accepted"
fi
grep -q "is not a gem" "$work/broken.err" || fail "no reason for refusing broken.gem: $(cat "$work/broken.err")"

# --- The server --------------------------------------------------------------------------------

start_source_server

# --- HTTP contract (curl) ----------------------------------------------------------------------

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[[ $(status -I -u "license:$valid" "$source_url") == 200 ]] || fail "HEAD /rubygems/ with a key is not 200"
# A key that is fine gets the standard reason phrase.
for path in "" versions info/acme-pro specs.4.8.gz gems/acme-base-1.1.0.gem; do
    [[ $(curl -s -D - -o /dev/null -u "license:$valid" "$source_url$path" | head -n 1 | tr -d '\r') == "HTTP/1.1 200 OK" ]] \
        || fail "GET /rubygems/$path with a valid key: not '200 OK'"
done
[[ $(status -I "$source_url") == 401 ]] || fail "HEAD /rubygems/ without a key is not 401"
curl -s -I "${source_url}versions" | grep -qi '^WWW-Authenticate: Basic realm=' || fail "401 without WWW-Authenticate"
[[ $(status "${source_url}info/acme-pro") == 401 ]] || fail "GET /info without a key is not 401"
[[ $(status -u "license:$valid" "${source_url}info/acme-pro") == 200 ]] || fail "GET /info with a key is not 200"
curl -s -u "license:$valid" "${source_url}versions" >"$work/versions"
head -n 2 "$work/versions" | tail -n 1 | grep -qx -- "---" || fail "versions header: $(cat "$work/versions")"
curl -s -u "license:$valid" "${source_url}info/acme-pro" >"$work/info-pro"
grep -Eq "^acme-pro (1.2.0,1.2.0-x86_64-linux|1.2.0-x86_64-linux,1.2.0) $(md5sum <"$work/info-pro" | cut -c1-32)\$" "$work/versions" \
    || fail "versions line of acme-pro: $(cat "$work/versions")"
grep -q "^1.2.0-x86_64-linux acme-base:~> 1.0&>= 1.0.2|checksum:[0-9a-f]\{64\}\$" "$work/info-pro" \
    || fail "info line: $(cat "$work/info-pro")"
etag=$(curl -s -D - -o /dev/null -u "license:$valid" "${source_url}versions" | tr -d '\r' | sed -n 's/^[Ee][Tt][Aa][Gg]: //p')
[[ $etag == "\"$(md5sum <"$work/versions" | cut -c1-32)\"" ]] || fail "versions ETag $etag is not the quoted MD5"
[[ $(status -u "license:$valid" -H "If-None-Match: $etag" "${source_url}versions") == 304 ]] || fail "no 304 for a matching ETag"
curl -s -D - -o /dev/null -u "license:$valid" "${source_url}versions" | grep -qi '^Repr-Digest: sha-256=:' || fail "no Repr-Digest"
# Clients that accept gzip get the index gzipped (compressed once, not per request), the same
# bytes once decoded, under the same ETag; "gzip;q=0" means the plain body.
curl -s -D "$work/versions-gzip.headers" -o "$work/versions.gz" -H "Accept-Encoding: gzip" -u "license:$valid" "${source_url}versions"
grep -qi '^Content-Encoding: gzip' "$work/versions-gzip.headers" || fail "versions not gzipped: $(cat "$work/versions-gzip.headers")"
grep -qi "^ETag: $etag" "$work/versions-gzip.headers" || fail "the gzipped versions has another ETag"
gzip -dc <"$work/versions.gz" | cmp -s - "$work/versions" || fail "the gzipped versions is not the versions"
curl -s -D - -o /dev/null -H "Accept-Encoding: gzip;q=0, identity" -u "license:$valid" "${source_url}versions" \
    | grep -qi '^Content-Encoding' && fail "versions gzipped for gzip;q=0"
# A gem published here that a license may have nothing of: 402 with the reason, in the body and
# as the reason phrase; /versions names it without versions, so that Bundler asks. A name
# nobody publishes: an empty 200.
[[ $(status -u "license:$other_product" "${source_url}info/acme-pro") == 402 ]] || fail "/info of another product's gem is not 402"
curl -s -D - -o /dev/null -u "license:$other_product" "${source_url}info/acme-pro" | head -n 1 | tr -d '\r' \
    | grep -qx "HTTP/1.1 402 license $other_id is for acme-basic, not acme-pro; use a license key for acme-pro" \
    || fail "no reason phrase for another product's gem: $(curl -s -D - -o /dev/null -u "license:$other_product" "${source_url}info/acme-pro")"
curl -s -u "license:$other_product" "${source_url}versions" | grep -qx "acme-pro -0 0\{32\}" \
    || fail "/versions does not name acme-pro for the acme-basic license: $(curl -s -u "license:$other_product" "${source_url}versions")"
[[ -z $(curl -s -u "license:$valid" "${source_url}info/rails") ]] || fail "/info of a gem nobody publishes here is not empty"
[[ $(status -u "license:$valid" "${source_url}info/rails") == 200 ]] || fail "/info of a gem nobody publishes here is not 200"
curl -s -u "license:$old" "${source_url}info/acme-base" | grep -q "^1.1.0 " && fail "release after updates_until is visible"
curl -s -u "license:$old" "${source_url}info/acme-base" | grep -q "^1.0.3 " || fail "release before updates_until is invisible"
[[ $(status -u "license:$old" "${source_url}gems/acme-base-1.1.0.gem") == 402 ]] || fail "download after updates_until not refused"
[[ $(status -u "license:$revoked" "${source_url}gems/acme-base-1.0.3.gem") == 402 ]] || fail "revoked license downloaded"
# A license that may have nothing is refused on every index path, the root included.
for path in "" versions info/acme-pro specs.4.8.gz latest_specs.4.8.gz quick/Marshal.4.8/acme-pro-1.2.0.gemspec.rz; do
    [[ $(status -u "license:$expired" "$source_url$path") == 402 ]] || fail "GET /rubygems/$path with an expired license is not 402"
    [[ $(status -I -u "license:$revoked" "$source_url$path") == 402 ]] || fail "HEAD /rubygems/$path with a revoked license is not 402"
done
ruby -rzlib -e 'specs = Marshal.load(Zlib.gunzip(STDIN.read)); exit(specs.map { |n, v, p| "#{n}-#{v}-#{p}" }.sort ==
  ["acme-base-1.0.3-ruby", "acme-base-1.1.0-ruby", "acme-pro-1.2.0-ruby", "acme-pro-1.2.0-x86_64-linux"] ? 0 : 1)' \
    < <(curl -s -u "license:$valid" "${source_url}specs.4.8.gz") || fail "specs.4.8.gz does not list the four gems"

# Paths no route matches: without a valid key, 401 and the challenge like every route, whatever
# the method, so that a stranger cannot tell which paths exist; with a valid key, 404.
bad_key=v4.public.bm90IGEga2V5
for path in api/v1/dependencies "api/v1/dependencies?gems=acme-pro" nonexistent info/acme-pro/extra quick/ gems/; do
    [[ $(status "$source_url$path") == 401 ]] || fail "GET /rubygems/$path without a key is not 401"
    [[ $(status -I "$source_url$path") == 401 ]] || fail "HEAD /rubygems/$path without a key is not 401"
    [[ $(status -u "license:$bad_key" "$source_url$path") == 402 ]] || fail "GET /rubygems/$path with a bad key is not 402"
    [[ $(status -X POST -d x "$source_url$path") == 401 ]] || fail "POST /rubygems/$path without a key is not 401"
    curl -s -I "$source_url$path" | grep -qi '^WWW-Authenticate: Basic realm=' || fail "HEAD /rubygems/$path: no WWW-Authenticate"
    curl -s -o /dev/null -D - "$source_url$path" | grep -qi '^WWW-Authenticate: Basic realm=' \
        || fail "GET /rubygems/$path: no WWW-Authenticate"
    [[ $(status -u "license:$valid" "$source_url$path") == 404 ]] || fail "GET /rubygems/$path with a key is not 404"
done
[[ $(status "http://127.0.0.1:$port/rubygems") == 401 ]] || fail "GET /rubygems without a key is not 401"
[[ $(status -X DELETE "${source_url}versions") == 401 ]] || fail "DELETE /rubygems/versions without a key is not 401"
[[ $(status -X DELETE -u "license:$valid" "${source_url}versions") == 405 ]] || fail "DELETE /rubygems/versions with a key is not 405"

# --- Bundler ---------------------------------------------------------------------------------

gemfile() { # NAME GEM
    printf 'source "%s"\n\ngem "%s"\n' "$source_url" "$2" >"$work/$1/app/Gemfile"
}
host_key=BUNDLE_127__0__0__1 # Bundler 2.3 looks credentials up by the URL, then by host (no port)

env_ok=$(client_env bundle-ok)
gemfile bundle-ok acme-pro
(cd "$work/bundle-ok/app" && $env_ok "$host_key=license:$valid" bundle install) >"$work/bundle-ok.log" 2>&1 \
    || fail "bundle install with a valid key: $(cat "$work/bundle-ok.log")"
out=$(cd "$work/bundle-ok/app" && $env_ok "$host_key=license:$valid" bundle exec ruby -e 'require "acme-pro"; require "acme-base"; puts "#{Acme_pro::VERSION} #{Acme_pro::PLATFORM} #{Acme_base::VERSION}"' 2>&1) \
    || fail "bundle exec: $out"
[[ $out == "1.2.0 x86_64-linux 1.1.0" ]] || fail "bundle exec loaded '$out', expected the platform build and acme-base 1.1.0"

# A second install with a warm cache: the index answers 304.
before=$(wc -l <"$work/server.out")
(cd "$work/bundle-ok/app" && rm -f Gemfile.lock && $env_ok "$host_key=license:$valid" bundle install) >"$work/bundle-again.log" 2>&1 \
    || fail "second bundle install: $(cat "$work/bundle-again.log")"
tail -n +$((before + 1)) "$work/server.out" | grep '"path":"/rubygems/versions"' | grep -q '"status":304' \
    || fail "the second bundle install got no 304 for /versions: $(tail -n +$((before + 1)) "$work/server.out")"

# Without a credential: Bundler's own message.
env_none=$(client_env bundle-none)
gemfile bundle-none acme-pro
if (cd "$work/bundle-none/app" && $env_none bundle install) >"$work/bundle-none.log" 2>&1; then
    fail "bundle install without a credential succeeded"
fi
grep -q "Authentication is required" "$work/bundle-none.log" || fail "no 'Authentication is required': $(cat "$work/bundle-none.log")"
env_none=$(client_env gem-none)
if (cd "$work/gem-none" && $env_none gem install --clear-sources --source "$source_url" --no-document acme-pro) \
    >"$work/gem-none.log" 2>&1; then
    fail "gem install without a credential succeeded"
fi
shows "$work/gem-none.log" "bad response send your license key: HTTP Basic with the key as the password, or Authorization: Bearer KEY 401" \
    || fail "gem install without a credential: $(cat "$work/gem-none.log")"

# A key that cannot install: the customer's terminal shows the server's sentence.
declare -A sentence=(
    [revoked]="license $revoked_id has been revoked (on $(date -u +%F)); contact the vendor for a new key"
    [expired]="license $expired_id expired on $(date -u -d "@$((now - 30 * day))" +%F); renew it to download acme-pro releases"
    [other_product]="license $other_id is for acme-basic, not acme-pro; use a license key for acme-pro"
    [ended]="license $ended_id: updates ended on $(date -u -d "@$((now - 35 * day))" +%F) and acme-pro 1.2.0 was released on $(date -u -d "@$((now - 30 * day))" +%F); download an earlier release or renew the license"
    [unknown]=$(curl -s -u "license:$unknown" "${source_url}versions" | ruby -rjson -e 'print JSON.parse(STDIN.read)["error"]["message"]')
)
[[ ${sentence[unknown]} == "the license key is not valid: "* ]] || fail "the unknown key's refusal: '${sentence[unknown]}'"
for who in revoked expired other_product ended unknown; do
    env_bad=$(client_env "bundle-$who")
    gemfile "bundle-$who" acme-pro
    if (cd "$work/bundle-$who/app" && $env_bad "$host_key=license:${!who}" bundle install) >"$work/bundle-$who.log" 2>&1; then
        fail "bundle install with a $who license succeeded"
    fi
    shows "$work/bundle-$who.log" "bad response ${sentence[$who]} 402" \
        || fail "bundle install ($who) does not show '${sentence[$who]}': $(cat "$work/bundle-$who.log")"
    env_bad=$(client_env "gem-$who")
    if (cd "$work/gem-$who" && $env_bad gem install --clear-sources --source "http://license:${!who}@127.0.0.1:$port/rubygems/" \
        --no-document acme-pro) >"$work/gem-$who.log" 2>&1; then
        fail "gem install with a $who license succeeded"
    fi
    shows "$work/gem-$who.log" "bad response ${sentence[$who]} 402" \
        || fail "gem install ($who) does not show '${sentence[$who]}': $(cat "$work/gem-$who.log")"
done

# updates_until: the old license installs acme-base 1.0.3, never 1.1.0.
env_old=$(client_env bundle-old)
gemfile bundle-old acme-base
(cd "$work/bundle-old/app" && $env_old "$host_key=license:$old" bundle install) >"$work/bundle-old.log" 2>&1 \
    || fail "bundle install with an old license: $(cat "$work/bundle-old.log")"
grep -q "acme-base (1.0.3)" "$work/bundle-old/app/Gemfile.lock" || fail "old license did not get acme-base 1.0.3: $(cat "$work/bundle-old/app/Gemfile.lock")"
# Pinned to a version released after updates_until: the clients say which versions the key
# covers (their own words; docs/rubygems.md, "What your customer sees").
env_pinned=$(client_env bundle-pinned)
printf 'source "%s"\n\ngem "acme-base", "1.1.0"\n' "$source_url" >"$work/bundle-pinned/app/Gemfile"
if (cd "$work/bundle-pinned/app" && $env_pinned "$host_key=license:$old" bundle install) >"$work/bundle-pinned.log" 2>&1; then
    fail "bundle install of acme-base 1.1.0 with the old license succeeded"
fi
shows "$work/bundle-pinned.log" "The source contains the following gems matching 'acme-base': * acme-base-1.0.3" \
    || fail "bundle install (pinned past updates_until): $(cat "$work/bundle-pinned.log")"
env_pinned=$(client_env gem-pinned)
if (cd "$work/gem-pinned" && $env_pinned gem install --clear-sources --source "http://license:$old@127.0.0.1:$port/rubygems/" \
    --no-document acme-base -v 1.1.0) >"$work/gem-pinned.log" 2>&1; then
    fail "gem install of acme-base 1.1.0 with the old license succeeded"
fi
shows "$work/gem-pinned.log" "Could not find a valid gem 'acme-base' (= 1.1.0) in any repository" \
    || fail "gem install (pinned past updates_until): $(cat "$work/gem-pinned.log")"

# --- gem install (the legacy index), the credential in the URL ---------------------------------

env_gem=$(client_env gem-install)
(cd "$work/gem-install" && $env_gem gem install --clear-sources --source "http://license:$valid@127.0.0.1:$port/rubygems/" \
    --no-document acme-pro) >"$work/gem-install.log" 2>&1 || fail "gem install: $(cat "$work/gem-install.log")"
ls "$work/gem-install/gems/gems" | grep -q "^acme-pro-1.2.0-x86_64-linux\$" || fail "gem install did not install the platform build"
ls "$work/gem-install/gems/gems" | grep -q "^acme-base-1.1.0\$" || fail "gem install did not install acme-base 1.1.0"

env_gem_old=$(client_env gem-old)
(cd "$work/gem-old" && $env_gem_old gem install --clear-sources --source "http://license:$old@127.0.0.1:$port/rubygems/" \
    --no-document acme-base) >"$work/gem-old.log" 2>&1 || fail "gem install (old license): $(cat "$work/gem-old.log")"
ls "$work/gem-old/gems/gems" | grep -q "^acme-base-1.0.3\$" || fail "old license: not acme-base 1.0.3"

# gem fetch: the file itself, byte for byte.
env_fetch=$(client_env gem-fetch)
(cd "$work/gem-fetch" && $env_fetch gem fetch --clear-sources --source "http://license:$valid@127.0.0.1:$port/rubygems/" \
    acme-base) >"$work/gem-fetch.log" 2>&1 || fail "gem fetch: $(cat "$work/gem-fetch.log")"
cmp -s "$work/gem-fetch/acme-base-1.1.0.gem" "$gems/base-1.1.0/acme-base-1.1.0.gem" \
    || fail "gem fetch did not get acme-base-1.1.0.gem as released: $(cat "$work/gem-fetch.log")"

# gem search -r: exactly the gems each license covers, at the versions it covers.
# search_names LICENSE: "name (versions)" lines, sorted.
search_names() {
    local env_search
    env_search=$(client_env gem-search)
    (cd "$work/gem-search" && $env_search gem search -r --clear-sources --source "http://license:$1@127.0.0.1:$port/rubygems/" \
        acme) 2>"$work/gem-search.err" | grep '^acme' | sort | paste -sd ';'
}
found=$(search_names "$valid")
[[ $found == "acme-base (1.1.0);acme-pro (1.2.0 ruby x86_64-linux)" ]] || fail "gem search -r (acme-pro license): '$found' $(cat "$work/gem-search.err")"
found=$(search_names "$old")
[[ $found == "acme-base (1.0.3);acme-pro (1.2.0 ruby x86_64-linux)" ]] || fail "gem search -r (old license): '$found'"
found=$(search_names "$other_product")
[[ $found == "acme-lite (0.9.0)" ]] || fail "gem search -r (acme-basic license): '$found'"

# gem sources -a checks the source (its specs.4.8.gz) before adding it to the empty HOME's
# configuration: with the credential it is added, without one RubyGems refuses it.
env_sources=$(client_env gem-sources)
(cd "$work/gem-sources" && $env_sources gem sources -a "http://license:$valid@127.0.0.1:$port/rubygems/") \
    >"$work/gem-sources.log" 2>&1 || fail "gem sources -a with a credential: $(cat "$work/gem-sources.log")"
(cd "$work/gem-sources" && $env_sources gem sources -l) | grep -q "@127.0.0.1:$port/rubygems/\$" \
    || fail "gem sources -a did not record the source: $(cd "$work/gem-sources" && $env_sources gem sources -l)"
env_sources_none=$(client_env gem-sources-none)
if (cd "$work/gem-sources-none" && $env_sources_none gem sources -a "$source_url") >"$work/gem-sources-none.log" 2>&1; then
    fail "gem sources -a without a credential succeeded: $(cat "$work/gem-sources-none.log")"
fi
grep -q "401" "$work/gem-sources-none.log" || fail "gem sources -a without a credential: no 401 in $(cat "$work/gem-sources-none.log")"
(cd "$work/gem-sources-none" && $env_sources_none gem sources -l) | grep -q "127.0.0.1:$port" \
    && fail "gem sources -a without a credential recorded the source"

# --- A gem uploaded over HTTP (POST /v1/products/{id}/releases) --------------------------------

upload_token=$("$charter" token create --scope upload | head -n 1)
build_gem "$gems/extra" acme-extra 2.0.0 ruby 's.add_dependency "acme-base", ">= 1.0"'
upload() { # FILE FILENAME
    curl -s -o "$work/upload.json" -w '%{http_code}' --data-binary "@$1" -H 'Content-Type: application/octet-stream' \
        -H "Authorization: Bearer $upload_token" "http://127.0.0.1:$port/v1/products/acme-pro/releases?filename=$2"
}
artifacts_before=$(ls -A "$CHARTER_DATA_DIR/artifacts" | sort)
[[ $(upload "$work/broken.gem" acme-extra-2.0.0.gem) == 422 ]] || fail "a broken .gem upload is not 422: $(cat "$work/upload.json")"
grep -q '"invalid_gem"' "$work/upload.json" && grep -q "acme-extra-2.0.0.gem is not a gem: " "$work/upload.json" \
    || fail "no reason for refusing the broken upload: $(cat "$work/upload.json")"
[[ $(ls -A "$CHARTER_DATA_DIR/artifacts" | sort) == "$artifacts_before" ]] || fail "a refused upload left a file in artifacts/"
"$charter" release list --product acme-pro | grep -q acme-extra && fail "a refused upload was recorded as a release"
# The server's own filename is the gem's: NAME-VERSION.gem, whatever the upload was called.
[[ $(upload "$gems/extra/acme-extra-2.0.0.gem" extra.gem) == 201 ]] || fail "gem upload: $(cat "$work/upload.json")"
grep -q '"filename":"acme-extra-2.0.0.gem"' "$work/upload.json" && grep -q '"version":"2.0.0"' "$work/upload.json" \
    || fail "gem upload answer: $(cat "$work/upload.json")"
[[ $(upload "$gems/extra/acme-extra-2.0.0.gem" acme-extra-2.0.0.gem) == 409 ]] || fail "a second upload of the gem is not 409"
curl -s -u "license:$valid" "${source_url}versions" | grep -q "^acme-extra 2.0.0 " || fail "uploaded gem not in /versions"
curl -s -u "license:$valid" "${source_url}info/acme-extra" | grep -q "^2.0.0 acme-base:>= 1.0|checksum:" \
    || fail "uploaded gem's /info: $(curl -s -u "license:$valid" "${source_url}info/acme-extra")"
env_extra=$(client_env gem-extra)
(cd "$work/gem-extra" && $env_extra gem install --clear-sources --source "http://license:$valid@127.0.0.1:$port/rubygems/" \
    --no-document acme-extra) >"$work/gem-extra.log" 2>&1 || fail "gem install of the uploaded gem: $(cat "$work/gem-extra.log")"
ls "$work/gem-extra/gems/gems" | grep -q "^acme-extra-2.0.0\$" || fail "gem install did not install the uploaded acme-extra"

# --- Download credentials: one per environment (docs/rubygems.md) -----------------------------

read -r cred_license_id cred_key < <(issue --product acme-pro --expires 1y)
ci_secret=$("$charter" credential create "$cred_license_id" --name ci 2>/dev/null)
ci_id=$("$charter" credential list "$cred_license_id" --json | ruby -rjson -e 'print JSON.parse(STDIN.read)[0]["id"]')
[[ $ci_secret == cdl_* ]] || fail "no credential made: '$ci_secret'"
env_cred=$(client_env bundle-credential)
gemfile bundle-credential acme-pro
(cd "$work/bundle-credential/app" && $env_cred "$host_key=ci:$ci_secret" bundle install) >"$work/bundle-credential.log" 2>&1 \
    || fail "bundle install with a credential: $(cat "$work/bundle-credential.log")"
grep -q "acme-pro (1.2.0" "$work/bundle-credential/app/Gemfile.lock" || fail "the credential did not install acme-pro"
# Revoked: refused with the sentence, while the license key still installs.
"$charter" credential revoke "$ci_id" >/dev/null 2>&1 || fail "credential revoke"
env_cred=$(client_env bundle-credential-revoked)
gemfile bundle-credential-revoked acme-pro
if (cd "$work/bundle-credential-revoked/app" && $env_cred "$host_key=ci:$ci_secret" bundle install) \
    >"$work/bundle-credential-revoked.log" 2>&1; then
    fail "bundle install with a revoked credential succeeded"
fi
shows "$work/bundle-credential-revoked.log" "bad response credential $ci_id (\"ci\") was revoked on $(date -u +%F); ask the vendor for a new credential, or use the license key 402" \
    || fail "bundle install (revoked credential): $(cat "$work/bundle-credential-revoked.log")"
env_cred=$(client_env bundle-credential-key)
gemfile bundle-credential-key acme-pro
(cd "$work/bundle-credential-key/app" && $env_cred "$host_key=license:$cred_key" bundle install) >"$work/bundle-credential-key.log" 2>&1 \
    || fail "bundle install with the key of a license whose credential was revoked: $(cat "$work/bundle-credential-key.log")"

# Over its requests a minute (a server with a limit of 3): 429, and Bundler prints the sentence;
# the license key is not affected.
stop_server
start_source_server --credential-request-limit 3
laptop=$("$charter" credential create "$cred_license_id" --name laptop 2>/dev/null)
laptop_id=$("$charter" credential list "$cred_license_id" --json | ruby -rjson -e 'print JSON.parse(STDIN.read)[1]["id"]')
for _ in 1 2 3; do
    [[ $(status -u "laptop:$laptop" "${source_url}versions") == 200 ]] || fail "a request within the credential's limit was refused"
done
too_many="too many requests with credential \"laptop\" ($laptop_id) of license $cred_license_id; retry in"
curl -s -D "$work/429.headers" -o /dev/null -u "laptop:$laptop" "${source_url}versions"
head -n 1 "$work/429.headers" | tr -d '\r' | grep -qF "HTTP/1.1 429 $too_many" || fail "the 4th request: $(cat "$work/429.headers")"
grep -qi '^Retry-After: [0-9]' "$work/429.headers" || fail "429 without Retry-After: $(cat "$work/429.headers")"
env_cred=$(client_env bundle-credential-429)
gemfile bundle-credential-429 acme-pro
if (cd "$work/bundle-credential-429/app" && $env_cred "$host_key=laptop:$laptop" bundle install) >"$work/bundle-credential-429.log" 2>&1; then
    fail "bundle install over the credential's limit succeeded"
fi
shows "$work/bundle-credential-429.log" "bad response $too_many" || fail "bundle install (429): $(cat "$work/bundle-credential-429.log")"
env_cred=$(client_env bundle-credential-429-key)
gemfile bundle-credential-429-key acme-pro
(cd "$work/bundle-credential-429-key/app" && $env_cred "$host_key=license:$cred_key" bundle install) \
    >"$work/bundle-credential-429-key.log" 2>&1 || fail "the license key beside a limited credential: $(cat "$work/bundle-credential-429-key.log")"

echo "ok: bundle install, bundle exec, 304s, authentication (every path), the refusals' sentences in bundle install's and" \
    "gem install's output (revoked, expired, another product's key, updates ended, unknown key, no key), updates_until (pinned past it too)," \
    "gem install, gem fetch, gem search, gem sources, gems uploaded over HTTP, download credentials (installed with, revoked, 429)"

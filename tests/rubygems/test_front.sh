#!/usr/bin/env bash
# The RubyGems source through the shipped nginx front (docs/deploy/nginx.conf, which caches each
# credential's index answers for 1 to 2 seconds; docs/operations.md "Deployment behind nginx"), over
# HTTPS on loopback, against charter-server itself on the same data: two licenses entitled to
# different releases each get, through the front, exactly what charter-server gives them; the
# compact index's validators, gzip and Range answers are charter-server's; real Bundler and `gem`
# install through it; a suspension and a revocation reach the customer (status, sentence) within
# the cache's time, and nothing stale is served after, nor when charter-server is down.
#
# usage: test_front.sh CHARTER CHARTER_SERVER WORK_DIR   (exit 77: skipped, nginx cannot run here)
set -euo pipefail

# shellcheck source=source_server.sh
source "$(dirname "${BASH_SOURCE[0]}")/source_server.sh" "$@"
# shellcheck source=../support/nginx_front.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/nginx_front.sh"
missing=$(nginx_front_missing | paste -sd " ")
if [[ -n $missing ]]; then
    echo "skipped: $missing not installed (scripts/setup installs it)"
    exit 77
fi
trap 'stop_nginx_front; stop_server' EXIT

# --- Two licenses that see different releases --------------------------------------------------

make_vendor "$work/charter-data"
now=$(date -u +%s)
day=86400
read -r full_id full < <(issue_for_jane --product acme-pro --expires 1y)
# Updates until 10 days ago: sees the releases published before, not acme-base 1.1.0.
read -r old_id old < <(CHARTER_NOW=$(rfc3339 $((now - 40 * day))) issue_for_jane --product acme-pro --expires 1y \
    --updates-until "$(rfc3339 $((now - 10 * day)))")
[[ $full == v4.public.* && $old == v4.public.* ]] || fail "no license keys issued"

gems=$work/gem-src
build_gem "$gems/base-1.0.3" acme-base 1.0.3
build_gem "$gems/base-1.1.0" acme-base 1.1.0
build_gem "$gems/pro" acme-pro 1.2.0 ruby 's.add_dependency "acme-base", "~> 1.0", ">= 1.0.2"'
"$charter" release add --product acme-pro --released-at "$(rfc3339 $((now - 30 * day)))" \
    "$gems/base-1.0.3/acme-base-1.0.3.gem" "$gems/pro/acme-pro-1.2.0.gem" >/dev/null || fail "release add"
"$charter" release add --product acme-pro "$gems/base-1.1.0/acme-base-1.1.0.gem" >/dev/null || fail "release add 1.1.0"

start_source_server --accel-redirect /_charter_artifacts
start_nginx_front "$work/nginx" "$port" "$CHARTER_DATA_DIR/artifacts" || fail "the front did not start"
direct=$source_url
front=https://127.0.0.1:$front_https_port/rubygems/
front_log=$work/nginx/access.log
# HTTP/1.1 as Bundler and gem speak it (HTTP/2 has no reason phrase).
tls=(--cacert "$front_cert" --http1.1)

# answer NAME URL [CURL ARGS…]: $work/answers/NAME.body and NAME.head (status line, then the
# headers a client relies on, lower-cased names, sorted).
mkdir -p "$work/answers"
answer() {
    local name=$1 url=$2
    shift 2
    curl -s "${tls[@]}" -D "$work/answers/$name.raw" -o "$work/answers/$name.body" "$@" "$url" || fail "curl $url"
    tr -d '\r' <"$work/answers/$name.raw" | awk 'NR == 1 { print; next }
        { name = tolower(substr($0, 1, index($0, ":") - 1)) }
        name ~ /^(etag|repr-digest|content-encoding|content-length|cache-control|vary|www-authenticate|content-range)$/ {
            print name substr($0, index($0, ":")) }' | sed '1s#^HTTP/[0-9.]* #HTTP #' \
        | { IFS= read -r status_line; echo "$status_line"; sort; } >"$work/answers/$name.head"
}
# same NAME: the front's answer NAME.front is charter-server's NAME.direct, status line, headers
# and bytes.
same() {
    cmp -s "$work/answers/$1.direct.head" "$work/answers/$1.front.head" \
        || fail "$1: the front answered $(cat "$work/answers/$1.front.head"), charter-server $(cat "$work/answers/$1.direct.head")"
    cmp -s "$work/answers/$1.direct.body" "$work/answers/$1.front.body" || fail "$1: the front's body is not charter-server's"
}

# --- Each customer its own view, as charter-server makes it; three rounds, interleaved, so that
# --- the later ones come from the front's cache ----------------------------------------------

for round in 1 2 3; do
    for who in full old; do
        for path in versions names info/acme-base info/acme-pro info/rails; do
            name=$who-${path//\//-}
            answer "$name.direct" "$direct$path" -u "license:${!who}"
            answer "$name.front" "$front$path" -u "license:${!who}"
            same "$name"
            grep -q '^HTTP 200' "$work/answers/$name.front.head" || fail "$name: $(cat "$work/answers/$name.front.head")"
        done
    done
done
grep -q '^1.1.0 ' "$work/answers/full-info-acme-base.front.body" || fail "the full license does not see acme-base 1.1.0"
grep -q '^1.1.0 ' "$work/answers/old-info-acme-base.front.body" && fail "the old license sees acme-base 1.1.0 through the front"
grep -q '^1.0.3 ' "$work/answers/old-info-acme-base.front.body" || fail "the old license does not see acme-base 1.0.3"
cmp -s "$work/answers/full-versions.front.body" "$work/answers/old-versions.front.body" \
    && fail "both licenses got the same /versions"
# The cache answers: every path was a hit at least once. The rounds above may each take longer
# than the copy's second on a loaded machine, so each path is also asked twice back to back, up
# to 20 times, until the second of a pair is a hit (the access log line of the last request).
for path in versions names info/acme-base; do
    hit=no
    for _ in $(seq 20); do
        curl -s "${tls[@]}" -o /dev/null -u "license:$full" "$front$path" || fail "curl $front$path"
        curl -s "${tls[@]}" -o /dev/null -u "license:$full" "$front$path" || fail "curl $front$path"
        if tail -n 1 "$front_log" | grep "\"GET /rubygems/$path HTTP" | grep -q 'cache=HIT'; then
            hit=yes
            break
        fi
    done
    [[ $hit == yes ]] || fail "the front never answered /rubygems/$path from its cache: $(grep "/rubygems/$path " "$front_log" | tail -n 4)"
done
# nginx's cache files hold a hash of the credential, never the key.
grep -rqF "$full" "$work/nginx/charter_index" && fail "a license key is written in the front's cache"
grep -rqF "$(printf 'license:%s' "$full" | base64 -w0)" "$work/nginx/charter_index" \
    && fail "an Authorization header is written in the front's cache"

# --- Validators, gzip, Range: charter-server's answers ----------------------------------------

etag=$(sed -n 's/^etag: //p' "$work/answers/full-versions.front.head")
[[ -n $etag ]] || fail "no ETag through the front"
grep -q '^repr-digest: sha-256=:' "$work/answers/full-versions.front.head" || fail "no Repr-Digest through the front"
for round in 1 2; do
    answer not-modified.direct "${direct}versions" -u "license:$full" -H "If-None-Match: $etag"
    answer not-modified.front "${front}versions" -u "license:$full" -H "If-None-Match: $etag"
    grep -q '^HTTP 304' "$work/answers/not-modified.front.head" || fail "If-None-Match: $(cat "$work/answers/not-modified.front.head")"
    grep -qF "etag: $etag" "$work/answers/not-modified.front.head" || fail "304 without its ETag"
    answer stale-etag.front "${front}versions" -u "license:$full" -H 'If-None-Match: "0123"'
    grep -q '^HTTP 200' "$work/answers/stale-etag.front.head" || fail "another ETag: $(cat "$work/answers/stale-etag.front.head")"
    # Bundler's append request: charter-server sends indexes whole (Bundler checks the whole
    # body), and so does the front.
    answer range.direct "${direct}versions" -u "license:$full" -H "Range: bytes=100-"
    answer range.front "${front}versions" -u "license:$full" -H "Range: bytes=100-"
    same range
    for coding in gzip "gzip;q=0, identity" "deflate, gzip"; do
        name=coding-${coding//[^a-z]/}
        answer "$name.direct" "${direct}versions" -u "license:$full" -H "Accept-Encoding: $coding"
        answer "$name.front" "${front}versions" -u "license:$full" -H "Accept-Encoding: $coding"
        same "$name"
    done
    grep -q '^content-encoding: gzip' "$work/answers/coding-gzip.front.head" || fail "gzip not kept through the front"
    grep -q '^content-encoding' "$work/answers/coding-gzipqidentity.front.head" && fail "gzipped for gzip;q=0"
    # Without a credential, or a wrong one: charter-server's refusals, never cached.
    answer anonymous.direct "${direct}versions"
    answer anonymous.front "${front}versions"
    same anonymous
    answer wrong.direct "${direct}versions" -u "license:v4.public.bm90IGEga2V5"
    answer wrong.front "${front}versions" -u "license:v4.public.bm90IGEga2V5"
    same wrong
done
grep -q '^HTTP 401' "$work/answers/anonymous.front.head" || fail "no 401 without a key: $(cat "$work/answers/anonymous.front.head")"
grep -q '^HTTP 402 the license key is not valid' "$work/answers/wrong.front.head" \
    || fail "a wrong key: $(cat "$work/answers/wrong.front.head")"

# An expired copy is revalidated with charter-server (If-None-Match, 304) and the client, who
# sent no validator, still gets the whole index.
answer revalidated.front "${front}versions" -u "license:$full"
sleep 2.5
before=$(wc -l <"$front_log")
answer revalidated.front "${front}versions" -u "license:$full"
answer revalidated.direct "${direct}versions" -u "license:$full"
same revalidated
tail -n +$((before + 1)) "$front_log" | grep -q 'cache=REVALIDATED' \
    || fail "the expired copy was not revalidated: $(tail -n +$((before + 1)) "$front_log")"

# --- Bundler and gem through the front ----------------------------------------------------------

host_key=BUNDLE_127__0__0__1
gemfile() { printf 'source "%s"\n\ngem "acme-pro"\n' "$front" >"$work/$1/app/Gemfile"; }
bundle_install() { # NAME KEY: bundle install through the front, its output in $work/NAME.log
    local client
    client=$(client_env "$1")
    gemfile "$1"
    (cd "$work/$1/app" && rm -f Gemfile.lock && $client "SSL_CERT_FILE=$front_cert" "$host_key=license:$2" bundle install) \
        >"$work/$1.log" 2>&1
}
gem_install() { # NAME KEY
    local client
    client=$(client_env "$1")
    (cd "$work/$1" && $client "SSL_CERT_FILE=$front_cert" gem install --clear-sources \
        --source "https://license:$2@127.0.0.1:$front_https_port/rubygems/" --no-document acme-pro) >"$work/$1.log" 2>&1
}
bundle_install bundle-full "$full" || fail "bundle install through the front: $(cat "$work/bundle-full.log")"
grep -q 'acme-base 1.1.0' "$work/bundle-full.log" || fail "the full license did not install acme-base 1.1.0: $(cat "$work/bundle-full.log")"
bundle_install bundle-old "$old" || fail "bundle install (old) through the front: $(cat "$work/bundle-old.log")"
grep -q 'acme-base 1.0.3' "$work/bundle-old.log" || fail "the old license did not install acme-base 1.0.3: $(cat "$work/bundle-old.log")"
# Again with Bundler's copy of the index: If-None-Match answered 304 (by the front or
# charter-server).
before=$(wc -l <"$front_log")
bundle_install bundle-full "$full" || fail "second bundle install through the front: $(cat "$work/bundle-full.log")"
tail -n +$((before + 1)) "$front_log" | grep '"GET /rubygems/versions HTTP' | grep -q '" 304 ' \
    || fail "the second bundle install got no 304 for /versions: $(tail -n +$((before + 1)) "$front_log")"
gem_install gem-full "$full" || fail "gem install through the front: $(cat "$work/gem-full.log")"

# --- A suspension, then a revocation, reach the customer through the front --------------------

# refused_within WHO SENTENCE: with the front's cache warm for WHO's key (a request just before
# the change), polls /versions through the front (at most 30 s; the front's bound is 2 s) until
# it answers 402; then checks the sentence, and that 40 more requests, 8 at a time, are all
# refused (nothing stale comes back).
refused_within() {
    local who=$1 sentence=$2 started tries=0
    started=$(date +%s.%N)
    while true; do
        answer refusal.front "${front}versions" -u "license:${!who}"
        grep -q '^HTTP 402' "$work/answers/refusal.front.head" && break
        grep -q '^HTTP 200' "$work/answers/refusal.front.head" || fail "while waiting: $(cat "$work/answers/refusal.front.head")"
        tries=$((tries + 1))
        ((tries < 300)) || fail "$who is still answered 200 through the front 30 s after the change"
        sleep 0.1
    done
    echo "$who refused through the front $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }') s after the change"
    head -n 1 "$work/answers/refusal.front.head" | grep -qxF "HTTP 402 $sentence" \
        || fail "the refusal's status line: $(head -n 1 "$work/answers/refusal.front.head"), not 402 $sentence"
    grep -qF "\"message\":\"$sentence\"" "$work/answers/refusal.front.body" || fail "the refusal's body: $(cat "$work/answers/refusal.front.body")"
    answer refusal.direct "${direct}versions" -u "license:${!who}"
    same refusal
    local statuses
    statuses=$(seq 40 | xargs -P 8 -I{} curl -s "${tls[@]}" -o /dev/null -w '%{http_code}\n' -u "license:${!who}" "${front}versions" | sort | uniq -c)
    [[ $(echo $statuses) == "40 402" ]] || fail "after the refusal, the front answered: $statuses"
}
warm() { # WHO: the key's /versions in the front's cache
    answer warm.front "${front}versions" -u "license:${!1}"
    answer warm.front "${front}versions" -u "license:${!1}"
    grep -q '^HTTP 200' "$work/answers/warm.front.head" || fail "warm $1: $(cat "$work/answers/warm.front.head")"
}

warm old
"$charter" suspend "$old_id" --reason "invoice 42 unpaid" >/dev/null || fail "charter suspend"
suspended="license $old_id is suspended since $(date -u +%F) (invoice 42 unpaid); contact the vendor to reinstate it"
refused_within old "$suspended"
bundle_install bundle-suspended "$old" && fail "bundle install with a suspended license succeeded through the front"
shows "$work/bundle-suspended.log" "bad response $suspended 402" \
    || fail "bundle install (suspended) does not show the sentence: $(cat "$work/bundle-suspended.log")"
# The other customer is untouched.
answer untouched.front "${front}versions" -u "license:$full"
grep -q '^HTTP 200' "$work/answers/untouched.front.head" || fail "the other license: $(cat "$work/answers/untouched.front.head")"
"$charter" reinstate "$old_id" >/dev/null || fail "charter reinstate"
for tries in $(seq 300); do
    answer reinstated.front "${front}versions" -u "license:$old"
    grep -q '^HTTP 200' "$work/answers/reinstated.front.head" && break
    ((tries < 300)) || fail "the reinstated license is still refused through the front after 30 s"
    sleep 0.1
done

warm full
"$charter" revoke "$full_id" --reason chargeback >/dev/null 2>&1 || fail "charter revoke"
revoked="license $full_id has been revoked (on $(date -u +%F)); contact the vendor for a new key"
refused_within full "$revoked"
gem_install gem-revoked "$full" && fail "gem install with a revoked license succeeded through the front"
shows "$work/gem-revoked.log" "bad response $revoked 402" \
    || fail "gem install (revoked) does not show the sentence: $(cat "$work/gem-revoked.log")"
bundle_install bundle-revoked "$full" && fail "bundle install with a revoked license succeeded through the front"
shows "$work/bundle-revoked.log" "bad response $revoked 402" \
    || fail "bundle install (revoked) does not show the sentence: $(cat "$work/bundle-revoked.log")"

# charter-server down: once the copy has expired, the front says so (502) rather than serve it.
warm old
stop_server
server_pid=
for tries in $(seq 300); do
    answer down.front "${front}versions" -u "license:$old"
    grep -q '^HTTP 502' "$work/answers/down.front.head" && break
    grep -q '^HTTP 200' "$work/answers/down.front.head" || fail "with charter-server down: $(cat "$work/answers/down.front.head")"
    ((tries < 300)) || fail "the front still answers 200 30 s after charter-server stopped"
    sleep 0.1
done
statuses=$(seq 20 | xargs -P 4 -I{} curl -s "${tls[@]}" -o /dev/null -w '%{http_code}\n' -u "license:$old" "${front}versions" | sort | uniq -c)
[[ $(echo $statuses) == "20 502" ]] || fail "with charter-server down, the front answered: $statuses"

echo "ok: the RubyGems source through the shipped nginx front"

#!/usr/bin/env bash
# Builds one of examples/ against the installed package, with public keys exported by the
# charter CLI from a fresh data directory, then runs it with every kind of license key and
# checks its exit status and that its message names the real cause.
#
# Usage: run_example.sh EXAMPLE CHARTER PREFIX LIBDIR WORK_DIR EXAMPLES_DIR [EXTRA_FLAGS]
#   EXAMPLE      c-app | cpp-app | ruby-gem | ruby-fiddle | python | python-pure | node
#   (ruby-gem also needs CHARTER_SERVER, the charter-server binary: it is installed with Bundler
#   from charter-server's RubyGems source)
#   CHARTER      the charter CLI
#   PREFIX       where `cmake --install` put libcharter-verify (the ctest fixture charter_installed)
#   LIBDIR       its library folder under PREFIX (lib, lib64, lib/x86_64-linux-gnu)
#   EXTRA_FLAGS  compiler and linker flags for the C and C++ examples (sanitizer builds)
set -euo pipefail

example=$1 charter=$2 prefix=$3 libdir=$4 work=$5 examples=$6 extra_flags=${7:-}
library_dir=$prefix/$libdir

rm -rf "$work"
mkdir -p "$work"
cd "$work"

# shellcheck source=../support/vendor.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/vendor.sh"

# --- The vendor's side: a data directory, products, a customer, and keys of every kind ------

make_vendor "$work/charter-data"

# issue [CHARTER_NOW] ARGS…: prints "lic_… v4.public.…"
issue() {
    local now=$1
    shift
    CHARTER_NOW=$now issue_for_jane "$@"
}
base=$(date -u +%s)
day=86400

read -r _ valid < <(issue "" --product acme-pro --expires 1y --name "Jane Doe" --entitlement sso --entitlement audit-log)
# Issued 40 days ago for 37 days: expired 3 days ago, inside the examples' 14-day grace period.
read -r _ in_grace < <(issue "$(rfc3339 $((base - 40 * day)))" --product acme-pro --expires 37d)
# Issued 60 days ago for 30 days: expired 30 days ago, past the grace period.
read -r _ expired < <(issue "$(rfc3339 $((base - 60 * day)))" --product acme-pro --expires 30d)
expired_on=$(date -u -d "@$((base - 30 * day))" +%Y-%m-%d)
# Issued an hour ago for 10 days: 9 whole days left, inside the default 14-day renewal warning.
read -r ending_id ending < <(issue "$(rfc3339 $((base - 3600)))" --product acme-pro --expires 10d)
ending_on=$(date -u -d "@$((base - 3600 + 10 * day))" +%Y-%m-%d)
read -r _ other_product < <(issue "" --product acme-basic --expires 1y)
read -r revoked_id revoked < <(issue "" --product acme-pro --expires 1y)
"$charter" revoke "$revoked_id" --reason "chargeback" >/dev/null 2>&1
# One character of the signed payload changed.
position=40
replacement=A
[[ ${valid:position:1} == A ]] && replacement=B
tampered=${valid:0:position}$replacement${valid:position+1}

for key in "$valid" "$in_grace" "$expired" "$ending" "$other_product" "$revoked"; do
    [[ $key == v4.public.* ]] || fail "the charter CLI did not issue a license key: '$key'"
done

# --- Build the example as a vendor's CI would --------------------------------------------------

cp -R "$examples/$example" src
export PKG_CONFIG_PATH=$library_dir/pkgconfig
# Variables every run of the program gets (the environment is otherwise empty).
run_env=(PATH="$PATH")
case $example in
c-app)
    make -C src CHARTER="$charter" CFLAGS="-O2 $extra_flags" >build.log 2>&1 || { cat build.log; fail "make"; }
    # pkg-config gives no rpath: the loader finds the library as in a non-default prefix.
    run_env+=(LD_LIBRARY_PATH="$library_dir")
    program=("$work/src/acme-pro")
    ;;
cpp-app)
    { cmake -S src -B build -DCMAKE_PREFIX_PATH="$prefix" -DCHARTER_EXECUTABLE="$charter" \
        -DCMAKE_CXX_FLAGS="$extra_flags" -DCMAKE_EXE_LINKER_FLAGS="$extra_flags" \
        && cmake --build build; } >build.log 2>&1 || { cat build.log; fail "cmake"; }
    program=("$work/build/acme-pro")
    ;;
ruby-gem)
    # The pure-Ruby gem, as a customer gets it: built with gem build, published on charter-server's
    # RubyGems source, installed with Bundler; libcharter-verify is nowhere on the loader path.
    (cd src && CHARTER=$charter rake build) >build.log 2>&1 || { cat build.log; fail "rake build"; }
    "$charter" release add --product acme-pro src/acme-pro-1.0.0.gem >/dev/null || fail "release add"
    [[ -n ${CHARTER_SERVER:-} ]] || fail "CHARTER_SERVER is not set"
    for _ in 1 2 3 4 5; do
        "$CHARTER_SERVER" --listen 127.0.0.1:0 --threads 2 >server.out 2>server.err &
        server_pid=$!
        for _ in $(seq 100); do
            grep -q "listening on" server.out 2>/dev/null && break
            sleep 0.1
        done
        port=$(sed -n 's/^listening on http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' server.out | head -n 1)
        [[ -n $port ]] || fail "charter-server did not start: $(cat server.err)"
        # Bundler takes any failure mentioning 401 or 403 for a bad credential, the URL included.
        [[ $port == *401* || $port == *403* ]] || break
        kill "$server_pid"
        wait "$server_pid" 2>/dev/null || true
    done
    mkdir -p app bundle-home
    printf 'source "http://127.0.0.1:%s/rubygems/"\n\ngem "acme-pro"\n' "$port" >app/Gemfile
    bundler_env=(BUNDLE_GEMFILE="$work/app/Gemfile" BUNDLE_PATH="$work/bundle" BUNDLE_APP_CONFIG="$work/app/.bundle"
        BUNDLE_USER_HOME="$work/bundle-home/.bundle" BUNDLE_DISABLE_VERSION_CHECK=true BUNDLE_SILENCE_ROOT_WARNING=true
        BUNDLE_IGNORE_MESSAGES=true LANG=C.UTF-8)
    (cd app && env -i PATH="$PATH" HOME="$work/bundle-home" "${bundler_env[@]}" BUNDLE_127__0__0__1="license:$valid" \
        bundle install) >install.log 2>&1 || { cat install.log; kill "$server_pid"; fail "bundle install from charter-server"; }
    kill "$server_pid"
    wait "$server_pid" 2>/dev/null || true
    grep -q "acme-pro (1.0.0)" app/Gemfile.lock || fail "acme-pro is not in Gemfile.lock: $(cat app/Gemfile.lock)"
    installed=$(find bundle -path '*/gems/acme-pro-1.0.0' -type d)
    [[ -n $installed && -f $installed/lib/acme/pro/license.rb ]] || fail "acme-pro was not installed under bundle/"
    [[ -z $(find "$installed" -name '*.so*') ]] || fail "the gem carries a shared library"
    if grep -rqE 'fiddle|Fiddle|charter-verify\.so' "$installed/lib"; then fail "the gem uses Fiddle or libcharter-verify"; fi
    run_env+=("${bundler_env[@]}")
    env -i "${run_env[@]}" ruby -e 'require "fiddle"; begin; Fiddle.dlopen("libcharter-verify.so.0"); exit 1; rescue Fiddle::DLError; end' \
        || fail "libcharter-verify.so.0 is on the loader path of the customer's machine"
    program=(bundle exec ruby "$work/src/app.rb")
    ;;
ruby-fiddle)
    { (cd src && CHARTER=$charter rake build) \
        && gem install --local --no-document --install-dir "$work/gems" src/acme-pro-1.0.0.gem; } >build.log 2>&1 \
        || { cat build.log; fail "rake build / gem install"; }
    run_env+=(GEM_HOME="$work/gems" GEM_PATH="$work/gems" ACME_PRO_CHARTER_LIBRARY="$library_dir/libcharter-verify.so.0")
    program=(ruby "$work/src/app.rb")
    ;;
python)
    CHARTER=$charter sh src/build.sh >build.log 2>&1 || { cat build.log; fail "build.sh"; }
    run_env+=(PYTHONPATH="$work/src" PYTHONDONTWRITEBYTECODE=1 ACME_PRO_CHARTER_LIBRARY="$library_dir/libcharter-verify.so.0")
    program=(python3 "$work/src/app.py")
    ;;
python-pure)
    CHARTER=$charter sh src/build.sh >build.log 2>&1 || { cat build.log; fail "build.sh"; }
    run_env+=(PYTHONPATH="$work/src" PYTHONDONTWRITEBYTECODE=1)
    program=(/usr/bin/python3 "$work/src/app.py")
    ;;
node)
    CHARTER=$charter sh src/build.sh >build.log 2>&1 || { cat build.log; fail "build.sh"; }
    program=(node "$work/src/app.mjs")
    ;;
*)
    fail "unknown example $example"
    ;;
esac

# --- The customer's side -----------------------------------------------------------------------

# A machine: a working directory with ./config/ (the revocation list the release ships) and a HOME.
machine=$work/machine
home=$work/home
reset_machine() {
    rm -rf "$machine" "$home"
    mkdir -p "$machine/config" "$home"
    "$charter" revocations export --product acme-pro >"$machine/config/acme-pro.revocations"
}

cases=0
# expect NAME STATUS TEXT… -- [VAR=value…]: runs the example, checks its exit status and that
# its output (stdout and stderr) contains each TEXT.
expect() {
    local name=$1 want=$2
    shift 2
    local texts=()
    while [[ $1 != -- ]]; do
        texts+=("$1")
        shift
    done
    shift
    local output status=0
    output=$(cd "$machine" && env -i "${run_env[@]}" HOME="$home" "$@" "${program[@]}" 2>&1) || status=$?
    cases=$((cases + 1))
    if [[ $status != "$want" ]]; then
        fail "$example, $name: exit status $status, expected $want; output:"$'\n'"$output"
    fi
    for text in "${texts[@]}"; do
        if [[ $output != *"$text"* ]]; then
            fail "$example, $name: output lacks '$text'; output:"$'\n'"$output"
        fi
    done
    echo "ok: $example, $name"
}

reset_machine
expect "valid key in ACME_PRO_LICENSE" 0 "licensed to Jane Doe (lic_" "entitlements: sso, audit-log" -- ACME_PRO_LICENSE="$valid"
if output=$(cd "$machine" && env -i "${run_env[@]}" HOME="$home" ACME_PRO_LICENSE="$valid" "$revocations" "${program[@]}" 2>&1 >/dev/null) \
    && [[ -n $output ]]; then
    fail "$example: a valid key with the revocation list present printed on stderr: $output"
fi

printf '\n  %s  \r\n' "$valid" >"$machine/config/acme-pro.license"
expect "valid key in ./config/acme-pro.license (with whitespace)" 0 "licensed to Jane Doe" --
rm "$machine/config/acme-pro.license"

mkdir -p "$home/.config/acme-pro"
printf '%s\n' "$valid" >"$home/.config/acme-pro/license"
expect "valid key in ~/.config/acme-pro/license" 0 "licensed to Jane Doe" --
rm "$home/.config/acme-pro/license"

expect "ending in 10 days, inside the default renewal warning" 0 "warning" \
    "the license $ending_id for acme-pro ends on $ending_on (in 9 days); renew at https://acme.example/renew" \
    -- ACME_PRO_LICENSE="$ending"
expect "expired, inside the grace period" 0 "warning" "keeps working until" "(grace period of 14 days)" \
    "renew at https://acme.example/renew" -- ACME_PRO_LICENSE="$in_grace"
expect "expired, past the grace period" 1 "expired on $expired_on and its grace period of 14 days ended on" \
    "renew at https://acme.example/renew" "places looked at, in order" -- ACME_PRO_LICENSE="$expired"
expect "key for another product" 1 "the license key in ACME_PRO_LICENSE is for another product (acme-basic), not acme-pro" \
    -- ACME_PRO_LICENSE="$other_product"
expect "tampered key" 1 "the license key in ACME_PRO_LICENSE was altered or is not a license key for acme-pro" \
    -- ACME_PRO_LICENSE="$tampered"
# The Ruby, Python and Node examples read a revocation list only when ACME_PRO_REVOCATIONS names it.
revocations=ACME_PRO_REVOCATIONS=./config/acme-pro.revocations
expect "revoked key, with the revocation list" 1 "the license $revoked_id for acme-pro has been revoked; contact Acme Inc." \
    -- ACME_PRO_LICENSE="$revoked" "$revocations"
no_key="no license key found: set ACME_PRO_LICENSE"
expect "no key anywhere" 1 "$no_key" "./config/acme-pro.license" "~/.config/acme-pro/license" \
    "1. environment variable ACME_PRO_LICENSE: not set" --

rm "$machine/config/acme-pro.revocations"
expect "revocation list missing: valid, with a warning" 0 "licensed to Jane Doe" \
    "the revocation list ./config/acme-pro.revocations was not found, so revocations were not checked" \
    -- ACME_PRO_LICENSE="$valid" "$revocations"
reset_machine

case $example in
ruby-gem | ruby-fiddle | python | python-pure | node)
    # No revocation list configured: a valid key runs without a word on stderr (the examples
    # used to warn about ./config/acme-pro.revocations on every start).
    rm "$machine/config/acme-pro.revocations"
    if ! output=$(cd "$machine" && env -i "${run_env[@]}" HOME="$home" ACME_PRO_LICENSE="$valid" "${program[@]}" 2>&1 >/dev/null) \
        || [[ -n $output ]]; then
        fail "$example: a valid key without a configured revocation list printed on stderr: $output"
    fi
    echo "ok: $example, no revocation list configured: no warning"
    reset_machine
    ;;
esac

case $example in
ruby-fiddle | python)
    # libcharter-verify cannot be loaded: the product's own message, no backtrace.
    expect "libcharter-verify missing" 1 "acme-pro: cannot check the license: $work/nowhere/libcharter-verify.so.0 could not be loaded" \
        "install libcharter-verify and libsodium, or set ACME_PRO_CHARTER_LIBRARY" \
        -- ACME_PRO_LICENSE="$valid" ACME_PRO_CHARTER_LIBRARY="$work/nowhere/libcharter-verify.so.0"
    if output=$(cd "$machine" && env -i "${run_env[@]}" HOME="$home" ACME_PRO_LICENSE="$valid" \
        ACME_PRO_CHARTER_LIBRARY="$work/nowhere/libcharter-verify.so.0" "${program[@]}" 2>&1); [[ $output == *Traceback* || $output == *"from "*".rb:"* ]]; then
        fail "$example: a missing library printed a backtrace: $output"
    fi
    ;;
esac

if [[ $example == ruby-gem || $example == ruby-fiddle ]]; then
    # Configure once, used twice: the credential Bundler sends to the vendor's gem source.
    expect "valid key as Bundler's credential (BUNDLE_GEMS__ACME__EXAMPLE)" 0 "licensed to Jane Doe" \
        -- BUNDLE_GEMS__ACME__EXAMPLE="license:$valid"
    expect "revoked key as Bundler's credential" 1 "has been revoked" "4. Bundler's credential for gems.acme.example: found" \
        -- BUNDLE_GEMS__ACME__EXAMPLE="license:$revoked" "$revocations"
    expect "no key: Bundler's credential is one of the places" 1 "$no_key" \
        "or set Bundler's credential for gems.acme.example" --
    # The same through `bundle config` and `bundle exec` (Bundler loaded, its settings read).
    if [[ $example == ruby-fiddle ]]; then
        printf 'gem "acme-pro", path: "%s"\n' "$work/src" >"$machine/Gemfile"
        (cd "$machine" && env -i "${run_env[@]}" HOME="$home" bundle config set --local gems.acme.example "license:$valid" >/dev/null \
            && env -i "${run_env[@]}" HOME="$home" bundle install --local >/dev/null 2>&1) \
            || fail "ruby-fiddle: bundle config / bundle install --local"
        program=(bundle exec ruby "$work/src/app.rb")
        expect "valid key in Bundler's config, under bundle exec" 0 "licensed to Jane Doe" --
    else
        # The customer's app, installed from charter-server: the host form, then the URL form.
        bundle_config() { (cd "$work/app" && env -i "${run_env[@]}" HOME="$home" bundle config "$@" >/dev/null) || fail "bundle config $*"; }
        bundle_config set --local gems.acme.example "license:$valid"
        expect "valid key in Bundler's config (host form), under bundle exec" 0 "licensed to Jane Doe" --
        bundle_config unset --local gems.acme.example
        bundle_config set --local https://gems.acme.example/ "license:$valid"
        expect "valid key in Bundler's config (URL form), under bundle exec" 0 "licensed to Jane Doe" --
        bundle_config unset --local https://gems.acme.example/
        expect "Bundler's credential (URL form) in the environment" 0 "licensed to Jane Doe" \
            -- "BUNDLE_HTTPS://GEMS__ACME__EXAMPLE/=license:$valid"
    fi
fi

echo "$example: $cases cases passed"

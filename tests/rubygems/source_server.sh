# Sourced by the RubyGems shell tests with the test's own arguments:
#   source source_server.sh CHARTER CHARTER_SERVER WORK_DIR
# Sets $charter, $server and a fresh $work, sources ../support/vendor.sh, and stops the server
# this file starts (charter-server on 127.0.0.1 for the real clients, its output in
# $work/server.out) when the test exits; also the clients' private environments.

charter=$1
server=$2
work=$3
rm -rf "$work"
mkdir -p "$work"

# shellcheck source=../support/vendor.sh
source "$(dirname "${BASH_SOURCE[0]}")/../support/vendor.sh"

# fail MESSAGE…: on stderr with the end of the server's output, exit 1.
fail() {
    echo "FAIL: $*" >&2
    [[ -f $work/server.out ]] && tail -n 30 "$work/server.out" >&2
    exit 1
}

server_pid=
stop_server() {
    if [[ -n $server_pid ]]; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
}
trap stop_server EXIT

# start_source_server [OPTION…]: starts charter-server (with the options) on the data directory
# of $CHARTER_DATA_DIR; sets $server_pid, $port and $source_url. Bundler takes any failure whose message contains "401" or "403" for a
# bad credential, the URL included (bundler/fetcher/index.rb): a port with those digits would
# hide every refusal's reason behind "Bad username or password", so the server is started again
# on another one.
start_source_server() {
    local url
    for _ in 1 2 3 4 5; do
        "$server" --listen 127.0.0.1:0 --threads 4 --auth-failure-limit 1000 "$@" >"$work/server.out" 2>"$work/server.err" &
        server_pid=$!
        for _ in $(seq 100); do
            grep -q "listening on" "$work/server.out" 2>/dev/null && break
            sleep 0.1
        done
        url=$(sed -n 's/^listening on \(http:[^ ]*\).*/\1/p' "$work/server.out" | head -n 1)
        [[ -n $url ]] || fail "charter-server did not start: $(cat "$work/server.err")"
        port=${url##*:}
        port=${port%%/*}
        [[ $port == *401* || $port == *403* ]] || break
        stop_server
        server_pid=
    done
    source_url=http://127.0.0.1:$port/rubygems/
}

# client_env NAME: an empty HOME and private paths; nothing from the machine's configuration.
client_env() {
    local name=$1
    mkdir -p "$work/$name/home" "$work/$name/app"
    echo "env -i PATH=/usr/bin:/bin HOME=$work/$name/home LANG=C.UTF-8 GEM_HOME=$work/$name/gems GEM_PATH=$work/$name/gems" \
        "BUNDLE_PATH=$work/$name/bundle BUNDLE_USER_HOME=$work/$name/home/.bundle BUNDLE_DISABLE_VERSION_CHECK=true" \
        "BUNDLE_GEMFILE=$work/$name/app/Gemfile BUNDLE_APP_CONFIG=$work/$name/app/.bundle BUNDLE_SILENCE_ROOT_WARNING=true" \
        "BUNDLE_IGNORE_MESSAGES=true BUNDLE_RETRY=0 http_proxy= https_proxy= no_proxy=127.0.0.1"
}

# shows LOG SENTENCE: the log has the sentence (Bundler wraps long lines: whitespace is compared
# loosely).
shows() { # LOG SENTENCE
    tr -s ' \n' '  ' <"$1" | grep -qF -- "$2"
}

# build_gem DIR NAME VERSION [PLATFORM] [EXTRA]: DIR/NAME-VERSION[-PLATFORM].gem by `gem build`.
build_gem() {
    local dir=$1 name=$2 version=$3 platform=${4:-ruby} extra=${5:-}
    local module=${name//-/_}
    mkdir -p "$dir/lib"
    echo "module ${module^}; VERSION = '$version'; PLATFORM = '$platform'; end" >"$dir/lib/$name.rb"
    cat >"$dir/$name.gemspec" <<GEMSPEC
Gem::Specification.new do |s|
  s.name = "$name"
  s.version = "$version"
  s.summary = "$name for tests"
  s.authors = ["Acme Inc."]
  s.licenses = ["Nonstandard"]
  s.files = ["lib/$name.rb"]
  s.platform = "$platform"
  $extra
end
GEMSPEC
    (cd "$dir" && HOME=$dir gem build "$name.gemspec" >/dev/null 2>&1) || fail "gem build $name $version"
}

# Sourced by shell tests and scripts/bench-front: the shipped front (docs/deploy/nginx.conf) on
# loopback, its placeholders filled in with free ports and paths of a work folder, in front of a
# charter-server already running. Needs Debian's nginx (/usr/sbin/nginx), its set-misc module
# and openssl (scripts/setup installs them).
#
#   start_nginx_front DIR UPSTREAM_PORT ARTIFACTS [SED_EXPRESSION…]
#
# writes DIR/cert.pem (a self-signed certificate for 127.0.0.1) and DIR/nginx.conf, starts nginx
# in the foreground and sets $nginx_pid, $front_https_port (the customers' HTTPS listener),
# $front_plain_port (the same server block over plain HTTP, added here for benchmarks) and
# $front_cert. Each SED_EXPRESSION is applied to the configuration after the placeholders are
# filled in (e.g. '/^ *limit_req zone=/d'). stop_nginx_front stops it.

nginx_modules=${CHARTER_NGINX_MODULES:-/usr/lib/nginx/modules}

# nginx_front_missing: prints what is missing to run the front here, nothing when all is there.
nginx_front_missing() {
    local program
    for program in /usr/sbin/nginx openssl; do
        command -v "$program" >/dev/null || echo "$program"
    done
    [[ -f $nginx_modules/ngx_http_set_misc_module.so ]] || echo "libnginx-mod-http-set-misc"
}

# free_loopback_port: a port nothing listens on (nginx cannot take port 0). Bundler takes any
# failure whose message contains "401" or "403" for a bad credential, the URL included
# (bundler/fetcher/index.rb): no such digits.
free_loopback_port() {
    local port
    while true; do
        port=$(shuf -i 20000-60000 -n 1)
        [[ $port == *401* || $port == *403* ]] && continue
        (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
    done
}

start_nginx_front() {
    local dir=$1 upstream_port=$2 artifacts=$3
    shift 3
    local source_dir
    source_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
    mkdir -p "$dir"
    front_cert=$dir/cert.pem
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$dir/key.pem" -out "$front_cert" \
        -days 2 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 2>/dev/null
    local attempt extra=()
    for expression in "$@"; do extra+=(-e "$expression"); done
    # A port free a moment ago may be taken before nginx binds it: a few tries.
    for attempt in 1 2 3 4 5; do
        front_https_port=$(free_loopback_port)
        front_plain_port=$(free_loopback_port)
        local redirect_port
        redirect_port=$(free_loopback_port)
        sed -e "s#\${CHARTER_SERVER_NAME}#localhost#" \
            -e "s#\${CHARTER_HTTPS_LISTEN}#127.0.0.1:$front_https_port#" \
            -e "s#\${CHARTER_HTTP_LISTEN}#127.0.0.1:$redirect_port#" \
            -e "s#\${CHARTER_TLS_CERT}#$front_cert#" \
            -e "s#\${CHARTER_TLS_KEY}#$dir/key.pem#" \
            -e "s#\${CHARTER_UPSTREAM}#127.0.0.1:$upstream_port#" \
            -e "s#\${CHARTER_ARTIFACTS}#$artifacts#" \
            -e "s#\${CHARTER_NGINX_USER}#$(id -un)#" \
            -e "s#\${CHARTER_NGINX_MODULES}#$nginx_modules#" \
            -e "s#\${CHARTER_NGINX_\(RUN\|LOGS\|STATE\)}#$dir#" \
            -e "s#^\( *\)listen 127.0.0.1:$front_https_port ssl http2;#&\n\1listen 127.0.0.1:$front_plain_port;#" \
            "${extra[@]}" \
            "$source_dir/docs/deploy/nginx.conf" >"$dir/nginx.conf"
        if grep -v '^ *#' "$dir/nginx.conf" | grep -q '\${CHARTER_'; then
            echo "a placeholder of docs/deploy/nginx.conf is not filled in: $(grep -v '^ *#' "$dir/nginx.conf" | grep '\${CHARTER_')" >&2
            return 1
        fi
        /usr/sbin/nginx -p "$dir/" -c "$dir/nginx.conf" -g 'daemon off;' 2>"$dir/stderr" &
        nginx_pid=$!
        local _
        for _ in $(seq 500); do
            if (echo >"/dev/tcp/127.0.0.1/$front_https_port") 2>/dev/null \
                && (echo >"/dev/tcp/127.0.0.1/$front_plain_port") 2>/dev/null; then
                return 0
            fi
            kill -0 "$nginx_pid" 2>/dev/null || break
            sleep 0.02
        done
        stop_nginx_front
    done
    echo "nginx did not start: $(cat "$dir/stderr" "$dir/error.log" 2>/dev/null)" >&2
    return 1
}

stop_nginx_front() {
    if [[ -n ${nginx_pid:-} ]]; then
        kill "$nginx_pid" 2>/dev/null || true
        wait "$nginx_pid" 2>/dev/null || true
        nginx_pid=
    fi
}

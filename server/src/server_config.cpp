#include "charter/server/server_config.hpp"

#include "charter/keygen/ops/public_url.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace charter::server {

namespace {

Result<int64_t> parse_number(std::string const& text, std::string const& option, int64_t min, int64_t max)
{
    int64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < min || value > max)
        return make_error(ErrorKind::invalid_input, option + " \"" + text + "\" must be a whole number from " + std::to_string(min)
                + " to " + std::to_string(max));
    return value;
}

Result<void> parse_listen(std::string const& text, ServerConfig& config)
{
    auto colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0)
        return make_error(ErrorKind::invalid_input, "--listen \"" + text + "\" must be HOST:PORT, e.g. 127.0.0.1:8420");
    auto port = parse_number(text.substr(colon + 1), "--listen port", 0, 65535);
    if (!port)
        return port.error();
    config.host = text.substr(0, colon);
    if (config.host.size() > 2 && config.host.front() == '[' && config.host.back() == ']')
        config.host = config.host.substr(1, config.host.size() - 2);
    config.port = int(*port);
    return {};
}

// A branding value shown on every portal page: one line, printable, not too long.
Result<void> check_portal_text(std::string const& value, std::string const& option)
{
    if (value.empty() || value.size() > 200)
        return make_error(ErrorKind::invalid_input, option + " must be 1 to 200 bytes long");
    for (unsigned char c : value) {
        if (c < 0x20 || c == 0x7f)
            return make_error(ErrorKind::invalid_input, option + " must be one line of printable text");
    }
    return {};
}

// A URL for the portal's pages (and, for the logo, its Content-Security-Policy): no spaces,
// quotes or separators that could end an attribute or a policy directive.
Result<void> check_portal_url(std::string const& value, std::string const& option)
{
    if (auto checked = check_portal_text(value, option); !checked)
        return checked;
    if (value.find_first_of(" \"'<>;,\\") != std::string::npos)
        return make_error(ErrorKind::invalid_input, option + " \"" + value + "\" must be a URL without spaces, quotes, ; or ,");
    return {};
}

double channel_luminance(int value)
{
    double c = value / 255.0;
    return c <= 0.03928 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

// #rgb or #rrggbb, dark enough that the white text of buttons and the header on it keeps a
// contrast of 4.5:1 (WCAG AA for normal text).
Result<void> check_accent_colour(std::string const& value, std::string const& option)
{
    bool hex = (value.size() == 4 || value.size() == 7) && value[0] == '#'
        && std::all_of(value.begin() + 1, value.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); });
    if (!hex)
        return make_error(ErrorKind::invalid_input, option + " \"" + value + "\" must be a colour like #1d4ed8 or #14b");
    auto channel = [&](int index) {
        std::string digits = value.size() == 4 ? std::string(2, value[1 + index]) : value.substr(1 + 2 * index, 2);
        return std::stoi(digits, nullptr, 16);
    };
    double luminance = 0.2126 * channel_luminance(channel(0)) + 0.7152 * channel_luminance(channel(1))
        + 0.0722 * channel_luminance(channel(2));
    double contrast = 1.05 / (luminance + 0.05);
    if (contrast < 4.5) {
        char text[16];
        std::snprintf(text, sizeof text, "%.1f", contrast);
        return make_error(ErrorKind::invalid_input, option + " \"" + value + "\" gives white text a contrast of " + text
                + ":1; choose a darker colour (at least 4.5:1)");
    }
    return {};
}

// Adds the webhook secrets of `text` (separated by commas, newlines or spaces); `source` names
// where they came from. A message never contains a secret.
Result<void> add_stripe_secrets(ServerConfig& config, std::string const& text, std::string const& source)
{
    std::string secret;
    auto flush = [&]() -> Result<void> {
        if (secret.empty())
            return {};
        if (secret.rfind("whsec_", 0) != 0)
            return make_error(ErrorKind::invalid_input, source + " holds a value that is not a webhook signing secret (they start with "
                    "whsec_; never give Charter an API key): copy the endpoint's signing secret from Stripe's dashboard");
        config.stripe_webhook_secrets.push_back(std::move(secret));
        secret.clear();
        return {};
    };
    for (char c : text) {
        if (c == ',' || c == '\n' || c == '\r' || c == ' ' || c == '\t') {
            if (auto added = flush(); !added)
                return added;
        } else {
            secret += c;
        }
    }
    return flush();
}

// Applies one option; `value` comes from the command line or the environment.
Result<void> apply(ServerConfig& config, std::string const& option, std::string const& value)
{
    if (option == "--data-dir") {
        config.data_dir = value;
    } else if (option == "--database") {
        if (value.rfind("postgres://", 0) != 0 && value.rfind("postgresql://", 0) != 0)
            return make_error(ErrorKind::invalid_input, "--database must be a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE); leave it out to use charter.db in the data directory");
        config.database_url = value;
    } else if (option == "--listen") {
        return parse_listen(value, config);
    } else if (option == "--threads") {
        auto threads = parse_number(value, option, 1, 1024);
        if (!threads)
            return threads.error();
        config.threads = size_t(*threads);
    } else if (option == "--tls-cert") {
        config.tls_cert = value;
    } else if (option == "--tls-key") {
        config.tls_key = value;
    } else if (option == "--max-body") {
        auto bytes = parse_number(value, option, 1024, int64_t(1) << 30);
        if (!bytes)
            return bytes.error();
        config.max_body_bytes = size_t(*bytes);
    } else if (option == "--read-timeout") {
        auto seconds = parse_number(value, option, 1, 300);
        if (!seconds)
            return seconds.error();
        config.read_timeout_seconds = int(*seconds);
        config.write_timeout_seconds = int(*seconds);
    } else if (option == "--max-upload") {
        auto bytes = parse_number(value, option, 1024, int64_t(1) << 40);
        if (!bytes)
            return bytes.error();
        config.max_upload_bytes = *bytes;
    } else if (option == "--upload-timeout") {
        auto seconds = parse_number(value, option, 1, 86400);
        if (!seconds)
            return seconds.error();
        config.upload_timeout_seconds = int(*seconds);
    } else if (option == "--accel-redirect") {
        if (value.empty() || value.front() != '/')
            return make_error(ErrorKind::invalid_input, "--accel-redirect \"" + value + "\" must be an nginx location path like /protected-artifacts");
        config.accel_redirect = value.back() == '/' ? value.substr(0, value.size() - 1) : value;
    } else if (option == "--downloads-log-limit") {
        auto lines = parse_number(value, option, 1, 1000000);
        if (!lines)
            return lines.error();
        config.downloads_log_limit = *lines;
    } else if (option == "--downloads-log-retention") {
        auto days = parse_number(value, option, 0, 36500);
        if (!days)
            return days.error();
        config.downloads_log_retention_days = *days;
    } else if (option == "--auth-failure-limit") {
        auto limit = parse_number(value, option, 1, 1000000);
        if (!limit)
            return limit.error();
        config.auth_failures_per_minute = int(*limit);
    } else if (option == "--credential-request-limit") {
        auto limit = parse_number(value, option, 0, 1000000);
        if (!limit)
            return limit.error();
        config.credential_requests_per_minute = *limit;
    } else if (option == "--license-request-limit") {
        auto limit = parse_number(value, option, 0, 1000000);
        if (!limit)
            return limit.error();
        config.license_requests_per_minute = *limit;
    } else if (option == "--public-url") {
        auto url = ops::parse_public_url(value, option);
        if (!url)
            return url.error();
        config.public_url = *url;
    } else if (option == "--smtp-url") {
        config.mail.smtp_url = value;
    } else if (option == "--smtp-user") {
        config.mail.smtp_user = value;
    } else if (option == "--smtp-password-file") {
        config.mail.smtp_password_file = value;
    } else if (option == "--smtp-tls") {
        config.mail.smtp_tls = value;
    } else if (option == "--mail-from") {
        config.mail.mail_from = value;
    } else if (option == "--mail-reply-to") {
        config.mail.mail_reply_to = value;
    } else if (option == "--mail-lease") {
        config.mail.mail_lease = value;
    } else if (option == "--portal-name") {
        if (auto checked = check_portal_text(value, option); !checked)
            return checked;
        config.portal_name = value;
    } else if (option == "--portal-logo-url") {
        if (!value.starts_with("https://") && !(value.starts_with("/") && !value.starts_with("//")))
            return make_error(ErrorKind::invalid_input, option + " \"" + value + "\" must be an https:// URL or a path on this server like /logo.png");
        if (auto checked = check_portal_url(value, option); !checked)
            return checked;
        config.portal_logo_url = value;
    } else if (option == "--portal-accent") {
        if (auto checked = check_accent_colour(value, option); !checked)
            return checked;
        config.portal_accent = value;
    } else if (option == "--portal-support") {
        if (auto checked = check_portal_text(value, option); !checked)
            return checked;
        config.portal_support = value;
    } else if (option == "--portal-billing-url") {
        // Where the page's "Manage billing" link leads (Stripe's customer portal, the vendor's
        // account page): an absolute http(s) URL with a host, never a relative or javascript: one.
        auto host = value.substr(value.find("://") == std::string::npos ? value.size() : value.find("://") + 3);
        if ((!value.starts_with("https://") && !value.starts_with("http://")) || host.empty() || host.front() == '/')
            return make_error(ErrorKind::invalid_input, option + " \"" + value
                    + "\" must be an http:// or https:// URL with a host, like https://billing.example.com/account");
        if (auto checked = check_portal_url(value, option); !checked)
            return checked;
        config.portal_billing_url = value;
    } else if (option == "--trusted-proxy") {
        config.trusted_proxies.clear();
        size_t start = 0;
        while (start <= value.size()) {
            auto comma = value.find(',', start);
            auto address = value.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
            if (address.empty() || address.find_first_of(" \t") != std::string::npos)
                return make_error(ErrorKind::invalid_input, option + " \"" + value + "\" must be addresses separated by commas, e.g. 127.0.0.1,::1");
            config.trusted_proxies.push_back(address);
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
    } else if (option == "--stripe-webhook-secret-file") {
        std::ifstream file(value, std::ios::binary);
        std::ostringstream text;
        if (!file || !(text << file.rdbuf()))
            return make_error(ErrorKind::invalid_input, "--stripe-webhook-secret-file " + value + " cannot be read (missing or not permitted)");
        auto before = config.stripe_webhook_secrets.size();
        if (auto added = add_stripe_secrets(config, text.str(), "--stripe-webhook-secret-file " + value); !added)
            return added;
        if (config.stripe_webhook_secrets.size() == before)
            return make_error(ErrorKind::invalid_input, "--stripe-webhook-secret-file " + value + " holds no secret (whsec_…)");
    } else if (option == "--stripe-tolerance") {
        auto seconds = parse_number(value, option, 1, 86400);
        if (!seconds)
            return seconds.error();
        config.stripe_tolerance_seconds = *seconds;
    } else {
        return make_error(ErrorKind::invalid_input, "unknown option " + option + " (see --help)");
    }
    return {};
}

struct EnvOption {
    char const* variable;
    char const* option;
};

constexpr EnvOption env_options[] = {
    { "CHARTER_DATA_DIR", "--data-dir" },
    { "CHARTER_DATABASE_URL", "--database" },
    { "CHARTER_LISTEN", "--listen" },
    { "CHARTER_THREADS", "--threads" },
    { "CHARTER_TLS_CERT", "--tls-cert" },
    { "CHARTER_TLS_KEY", "--tls-key" },
    { "CHARTER_MAX_BODY", "--max-body" },
    { "CHARTER_READ_TIMEOUT", "--read-timeout" },
    { "CHARTER_AUTH_FAILURE_LIMIT", "--auth-failure-limit" },
    { "CHARTER_CREDENTIAL_REQUEST_LIMIT", "--credential-request-limit" },
    { "CHARTER_LICENSE_REQUEST_LIMIT", "--license-request-limit" },
    { "CHARTER_MAX_UPLOAD", "--max-upload" },
    { "CHARTER_UPLOAD_TIMEOUT", "--upload-timeout" },
    { "CHARTER_ACCEL_REDIRECT", "--accel-redirect" },
    { "CHARTER_DOWNLOADS_LOG_LIMIT", "--downloads-log-limit" },
    { "CHARTER_DOWNLOADS_LOG_RETENTION", "--downloads-log-retention" },
    { "CHARTER_PUBLIC_URL", "--public-url" },
    { "CHARTER_SMTP_URL", "--smtp-url" },
    { "CHARTER_SMTP_USER", "--smtp-user" },
    { "CHARTER_SMTP_PASSWORD_FILE", "--smtp-password-file" },
    { "CHARTER_SMTP_TLS", "--smtp-tls" },
    { "CHARTER_MAIL_FROM", "--mail-from" },
    { "CHARTER_MAIL_REPLY_TO", "--mail-reply-to" },
    { "CHARTER_MAIL_LEASE", "--mail-lease" },
    { "CHARTER_PORTAL_NAME", "--portal-name" },
    { "CHARTER_PORTAL_LOGO_URL", "--portal-logo-url" },
    { "CHARTER_PORTAL_ACCENT", "--portal-accent" },
    { "CHARTER_PORTAL_SUPPORT", "--portal-support" },
    { "CHARTER_PORTAL_BILLING_URL", "--portal-billing-url" },
    { "CHARTER_TRUSTED_PROXY", "--trusted-proxy" },
    { "CHARTER_STRIPE_WEBHOOK_SECRET_FILE", "--stripe-webhook-secret-file" },
    { "CHARTER_STRIPE_TOLERANCE", "--stripe-tolerance" },
};

}

char const* server_usage()
{
    return "usage: charter-server [--data-dir DIR] [--database postgres://…] [--listen HOST:PORT] [--threads N]\n"
           "                      [--tls-cert FILE --tls-key FILE] [--max-body BYTES]\n"
           "                      [--read-timeout SECONDS] [--auth-failure-limit N]\n"
           "                      [--max-upload BYTES] [--upload-timeout SECONDS]\n"
           "                      [--accel-redirect PREFIX]\n"
           "                      [--downloads-log-limit N] [--downloads-log-retention DAYS]\n"
           "                      [--credential-request-limit N] [--license-request-limit N]\n"
           "                      [--public-url URL] [--smtp-url URL] [--smtp-user USER]\n"
           "                      [--smtp-password-file FILE] [--smtp-tls optional|required|off]\n"
           "                      [--mail-from ADDRESS] [--mail-reply-to ADDRESS] [--mail-lease SECONDS]\n"
           "                      [--portal-name NAME] [--portal-logo-url URL] [--portal-accent #RRGGBB]\n"
           "                      [--portal-support ADDRESS] [--portal-billing-url URL]\n"
           "                      [--trusted-proxy ADDRESS[,ADDRESS…]]\n"
           "                      [--stripe-webhook-secret-file FILE] [--stripe-tolerance SECONDS]\n"
           "\n"
           "Serves Charter's admin API, online validation and customer downloads.\n"
           "Every option can also be set in the environment: CHARTER_DATA_DIR, CHARTER_DATABASE_URL, CHARTER_LISTEN,\n"
           "CHARTER_THREADS, CHARTER_TLS_CERT, CHARTER_TLS_KEY, CHARTER_MAX_BODY,\n"
           "CHARTER_READ_TIMEOUT, CHARTER_AUTH_FAILURE_LIMIT, CHARTER_MAX_UPLOAD,\n"
           "CHARTER_UPLOAD_TIMEOUT, CHARTER_ACCEL_REDIRECT, CHARTER_DOWNLOADS_LOG_LIMIT,\n"
           "CHARTER_DOWNLOADS_LOG_RETENTION, CHARTER_CREDENTIAL_REQUEST_LIMIT,\n"
           "CHARTER_LICENSE_REQUEST_LIMIT, CHARTER_PUBLIC_URL, CHARTER_SMTP_URL, CHARTER_SMTP_USER,\n"
           "CHARTER_SMTP_PASSWORD_FILE, CHARTER_SMTP_TLS, CHARTER_MAIL_FROM, CHARTER_MAIL_REPLY_TO,\n"
           "CHARTER_MAIL_LEASE, CHARTER_PORTAL_NAME, CHARTER_PORTAL_LOGO_URL,\n"
           "CHARTER_PORTAL_ACCENT, CHARTER_PORTAL_SUPPORT, CHARTER_PORTAL_BILLING_URL,\n"
           "CHARTER_TRUSTED_PROXY (options win;\n"
           "the SMTP password itself only as CHARTER_SMTP_PASSWORD). A passphrase-protected\n"
           "signing key is unlocked with CHARTER_PASSPHRASE.\n"
           "Defaults: --data-dir ./charter-data, the database charter.db in it unless --database names a\n"
           "PostgreSQL database (its password from the URL, PGPASSFILE or PGPASSWORD; signing keys stay in keys/),\n"
           "--listen 127.0.0.1:8420 (port 0 picks a free one),\n"
           "--threads 16, --max-body 1048576, --read-timeout 5, --auth-failure-limit 20 (per address per minute),\n"
           "--max-upload 1073741824, --upload-timeout 600 (the whole body of a release upload).\n"
           "With --accel-redirect PREFIX, authorised downloads are answered with\n"
           "X-Accel-Redirect: PREFIX/<sha256> for nginx to serve from the artifacts folder.\n"
           "The downloads log keeps at most --downloads-log-limit lines per license per hour (default 1000)\n"
           "and deletes lines older than --downloads-log-retention days (default 365; 0 keeps them).\n"
           "Download requests a minute: --credential-request-limit per download credential (default 1200),\n"
           "--license-request-limit per license, key and credentials together (default 0: no limit); 429 over it.\n"
           "--public-url: the address customers reach the server at (https://gems.acme.example), for links in mail\n"
           "and the customer portal.\n"
           "With --smtp-url (and --mail-from, --public-url) the server delivers the mail outbox (docs/mail.md).\n"
           "The customer portal (/portal/) shows --portal-name (default: the issuer), --portal-logo-url,\n"
           "--portal-accent (default #1d4ed8), --portal-support and --portal-billing-url. Requests from a\n"
           "--trusted-proxy address with X-Forwarded-Proto: https count as HTTPS (the portal's Secure cookie).\n"
           "Stripe webhooks (POST /v1/webhooks/stripe, docs/billing.md): the endpoint's signing secrets in\n"
           "CHARTER_STRIPE_WEBHOOK_SECRET (comma-separated) or --stripe-webhook-secret-file (one per line);\n"
           "--stripe-tolerance: the oldest signature timestamp accepted, in seconds (default 300).\n";
}

Result<ServerConfig> parse_server_config(std::vector<std::string> const& args)
{
    ServerConfig config;
    for (auto const& [variable, option] : env_options) {
        char const* value = std::getenv(variable);
        if (!value || !*value)
            continue;
        if (auto applied = apply(config, option, value); !applied)
            return make_error(ErrorKind::invalid_input, std::string(variable) + ": " + applied.error().message);
    }
    if (char const* secrets = std::getenv("CHARTER_STRIPE_WEBHOOK_SECRET"); secrets && *secrets) {
        if (auto added = add_stripe_secrets(config, secrets, "CHARTER_STRIPE_WEBHOOK_SECRET"); !added)
            return added.error();
    }
    for (size_t i = 0; i < args.size(); ++i) {
        std::string option = args[i];
        if (option == "--help" || option == "-h") {
            config.help = true;
            return config;
        }
        std::string value;
        if (auto equals = option.find('='); equals != std::string::npos && option.starts_with("--")) {
            value = option.substr(equals + 1);
            option = option.substr(0, equals);
        } else {
            if (i + 1 >= args.size())
                return make_error(ErrorKind::invalid_input, option.starts_with("--") ? option + " needs a value"
                                                                                      : "unexpected argument \"" + option + "\"");
            value = args[++i];
        }
        if (auto applied = apply(config, option, value); !applied)
            return applied.error();
    }
    ops::mail_options_from_environment(config.mail);
    if (config.tls_cert.has_value() != config.tls_key.has_value())
        return make_error(ErrorKind::invalid_input, "--tls-cert and --tls-key go together");
    return config;
}

}

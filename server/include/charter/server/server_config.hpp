#pragma once
// charter-server's settings: command-line options, each with an environment variable
// fallback (docs/operations.md lists them).

#include "charter/keygen/ops/mail_delivery.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace charter::server {

struct ServerConfig {
    std::optional<std::string> data_dir;     // --data-dir, CHARTER_DATA_DIR
    std::optional<std::string> database_url; // --database, CHARTER_DATABASE_URL (PostgreSQL; default charter.db)
    std::string host { "127.0.0.1" };        // --listen HOST:PORT, CHARTER_LISTEN
    int port { 8420 };
    size_t threads { 16 };                   // --threads, CHARTER_THREADS
    std::optional<std::string> tls_cert;     // --tls-cert, CHARTER_TLS_CERT
    std::optional<std::string> tls_key;      // --tls-key, CHARTER_TLS_KEY
    size_t max_body_bytes { 1 << 20 };       // --max-body, CHARTER_MAX_BODY (JSON bodies)
    int read_timeout_seconds { 5 };          // --read-timeout, CHARTER_READ_TIMEOUT
    int write_timeout_seconds { 5 };
    size_t keep_alive_max_count { 100 };
    int auth_failures_per_minute { 20 };     // --auth-failure-limit, CHARTER_AUTH_FAILURE_LIMIT
    // Fair use of the download paths (0: no limit): requests a minute per download credential,
    // and per license whatever it presents.
    int64_t credential_requests_per_minute { 1200 }; // --credential-request-limit, CHARTER_CREDENTIAL_REQUEST_LIMIT
    int64_t license_requests_per_minute { 0 };       // --license-request-limit, CHARTER_LICENSE_REQUEST_LIMIT
    int64_t max_upload_bytes { int64_t(1) << 30 }; // --max-upload, CHARTER_MAX_UPLOAD (release uploads)
    int upload_timeout_seconds { 600 };       // --upload-timeout, CHARTER_UPLOAD_TIMEOUT (a whole upload body)
    std::optional<std::string> accel_redirect; // --accel-redirect PREFIX, CHARTER_ACCEL_REDIRECT (nginx)
    int64_t downloads_log_limit { 1000 };    // --downloads-log-limit, CHARTER_DOWNLOADS_LOG_LIMIT (lines per license per hour)
    int64_t downloads_log_retention_days { 365 }; // --downloads-log-retention, CHARTER_DOWNLOADS_LOG_RETENTION (0: forever)
    /// The address customers reach the server at, normalised by ops::parse_public_url (no trailing
    /// slash): links in mail and in the customer portal are built from it. --public-url, CHARTER_PUBLIC_URL.
    std::optional<std::string> public_url;
    /// Mail delivery (docs/mail.md): --smtp-url, --smtp-user, --smtp-password-file, --smtp-tls,
    /// --mail-from, --mail-reply-to and their CHARTER_* variables (CHARTER_SMTP_PASSWORD: the
    /// environment only). Without an SMTP URL the server sends no mail (the outbox still fills).
    ops::MailOptions mail;
    // The customer portal's branding (docs/portal.md): the vendor's name (default: the issuer),
    // a logo URL, the accent colour (#rgb or #rrggbb, dark enough for white text on it), the
    // support address and the billing link.
    std::optional<std::string> portal_name;        // --portal-name, CHARTER_PORTAL_NAME
    std::optional<std::string> portal_logo_url;    // --portal-logo-url, CHARTER_PORTAL_LOGO_URL
    std::string portal_accent { "#1d4ed8" };       // --portal-accent, CHARTER_PORTAL_ACCENT
    std::optional<std::string> portal_support;     // --portal-support, CHARTER_PORTAL_SUPPORT
    std::optional<std::string> portal_billing_url; // --portal-billing-url, CHARTER_PORTAL_BILLING_URL
    // Addresses of the reverse proxies (nginx) whose X-Forwarded-Proto is believed: a request
    // from one of them with "X-Forwarded-Proto: https" came over HTTPS (the portal's Secure cookie).
    std::vector<std::string> trusted_proxies;      // --trusted-proxy A[,B], CHARTER_TRUSTED_PROXY
    /// Stripe webhook signing secrets ("whsec_…"; several during a rotation): CHARTER_STRIPE_WEBHOOK_SECRET
    /// (comma-separated) or the file --stripe-webhook-secret-file, CHARTER_STRIPE_WEBHOOK_SECRET_FILE
    /// (one per line). Empty: POST /v1/webhooks/stripe answers 503. Never logged.
    std::vector<std::string> stripe_webhook_secrets;
    int64_t stripe_tolerance_seconds { 300 }; // --stripe-tolerance, CHARTER_STRIPE_TOLERANCE
    bool help { false };
};

/// Parses argv (without argv[0]) over the environment's values. Errors name the option.
Result<ServerConfig> parse_server_config(std::vector<std::string> const& args);

char const* server_usage();

}

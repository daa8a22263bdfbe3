/*
 * libcharter-verify: offline verification of Charter license keys.
 *
 * A license key is a PASETO v4.public token (Ed25519) whose implicit assertion is the
 * product id; docs/format.md specifies it completely. This header is the whole public
 * interface and compiles as C (C99 or later) and C++.
 *
 * Thread-safety: a charter_verifier is configured by one thread (the charter_verifier_*
 * setters), after which charter_verify() may be called from any number of threads at once;
 * do not call a setter while another thread verifies. A charter_license is immutable and may
 * be read from any thread. The library keeps no global state, never prints, never exits and
 * never touches the network.
 *
 * The startup check (charter_startup_*, at the end of this header) follows the same rule: a
 * charter_startup is configured by one thread, then charter_startup_check() may run on any
 * number of threads at once. It reads the environment with getenv() at check time; calling
 * setenv()/putenv() concurrently from another thread is the caller's problem (POSIX does not
 * make that safe).
 *
 * Memory: every pointer the library returns stays valid until the handle it came from is
 * freed. Functions that fill a caller buffer (detail, detail_size) always NUL-terminate it
 * when detail_size > 0, truncating if needed.
 */
#ifndef CHARTER_VERIFY_H
#define CHARTER_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "charter/verify_version.h"

#if defined(CHARTER_VERIFY_STATIC)
#    define CHARTER_VERIFY_API
#elif defined(CHARTER_VERIFY_BUILDING)
#    define CHARTER_VERIFY_API __attribute__((visibility("default")))
#else
#    define CHARTER_VERIFY_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#    define CHARTER_NODISCARD __attribute__((warn_unused_result))
#else
#    define CHARTER_NODISCARD
#endif

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Status codes. 0 is success; errors are negative and never renumbered. New codes may be
 * added at the end. charter_status_string() gives a short message for each.
 */
typedef enum charter_status {
    CHARTER_OK = 0,
    CHARTER_E_INVALID_ARGUMENT = -1,   /* a NULL pointer or an out-of-range argument */
    CHARTER_E_NO_MEMORY = -2,          /* allocation failed */
    CHARTER_E_TOO_LARGE = -3,          /* the token is longer than CHARTER_MAX_TOKEN_SIZE */
    CHARTER_E_MALFORMED = -4,          /* not "v4.public.<payload>[.<footer>]", or too short */
    CHARTER_E_BAD_ENCODING = -5,       /* payload or footer is not canonical unpadded base64url */
    CHARTER_E_BAD_FOOTER = -6,         /* footer is not {"kid":"k4.pid.…"} */
    CHARTER_E_NO_KEYS = -7,            /* the verifier trusts no key */
    CHARTER_E_UNKNOWN_KEY = -8,        /* the footer's kid is not a trusted key */
    CHARTER_E_BAD_SIGNATURE = -9,      /* signature does not verify (tampered, or another key) */
    CHARTER_E_BAD_CLAIMS = -10,        /* message is not a JSON object (or duplicate keys, too deep) */
    CHARTER_E_MISSING_CLAIM = -11,     /* a required claim is absent */
    CHARTER_E_WRONG_CLAIM_TYPE = -12,  /* a claim has the wrong JSON type or an invalid time */
    CHARTER_E_WRONG_PRODUCT = -13,     /* a genuine key of another product, or a product claim that differs */
    CHARTER_E_NOT_YET_VALID = -14,     /* now < nbf - leeway */
    CHARTER_E_EXPIRED = -15,           /* now > exp + leeway */
    CHARTER_E_UPDATES_ENDED = -16,     /* build time > updates_until */
    CHARTER_E_REVOKED = -17,           /* listed in the configured revocation list */
    CHARTER_E_BAD_KEY = -18,           /* a configured public key is not a valid k4.public PASERK */
    CHARTER_E_BAD_REVOCATION_LIST = -19, /* the revocation list does not verify or parse */
    CHARTER_E_INTERNAL = -20,          /* a bug: please report it */
    CHARTER_E_NO_LICENSE = -21,        /* startup check: no license key in any configured place */
    CHARTER_E_WRONG_MACHINE = -22,     /* an activation token of another machine (its fingerprint differs) */
    CHARTER_E_LEASE_EXPIRED = -23,     /* an activation whose lease ended: now > exp + leeway */
    CHARTER_E_SEATS_EXHAUSTED = -24,   /* activation mode: the server has no free seat for this machine */
    CHARTER_E_UNREACHABLE = -25,       /* activation mode: the license server could not be reached */
    CHARTER_E_ACTIVATION_REFUSED = -26 /* activation mode: the server refused the activation (message says why) */
} charter_status;

/* Tokens longer than this are refused before any decoding. */
#define CHARTER_MAX_TOKEN_SIZE 16384
/* The longest signed revocation list accepted, in bytes: about 23,000 license ids. */
#define CHARTER_MAX_REVOCATION_LIST_SIZE 1048576
/*
 * A revocation file (docs/format.md) holds one list token per signing key the vendor still
 * trusts, one per line; at most this many lists, and at most this many bytes in all.
 */
#define CHARTER_MAX_REVOCATION_LISTS 16
#define CHARTER_MAX_REVOCATION_FILE_SIZE 4194304

typedef struct charter_verifier charter_verifier;
typedef struct charter_license charter_license;
typedef struct charter_activation charter_activation;

/* "0.1.0": the run-time version of the library, to compare with CHARTER_VERSION_STRING. */
CHARTER_VERIFY_API const char *charter_version(void);

/* A short, lower-case message for a status; never NULL ("unknown status" for unknown codes). */
CHARTER_VERIFY_API const char *charter_status_string(int status);

/*
 * A verifier for one product (its id, e.g. "acme-pro", is the implicit assertion every
 * license of that product is signed with). Returns NULL when product is NULL or empty, or on
 * allocation failure. Defaults: no keys, leeway 0, no build time, no revocation list.
 */
CHARTER_VERIFY_API charter_verifier *charter_verifier_new(const char *product);
CHARTER_VERIFY_API void charter_verifier_free(charter_verifier *verifier);

/* Trusts one more public key, given as a "k4.public.…" PASERK. CHARTER_E_BAD_KEY if invalid. */
CHARTER_VERIFY_API int charter_verifier_add_key(charter_verifier *verifier, const char *paserk_public);

/* Tolerated clock skew for nbf and exp, in seconds (0 to 86400*365). */
CHARTER_VERIFY_API int charter_verifier_set_leeway(charter_verifier *verifier, int64_t seconds);

/*
 * The time (Unix seconds) the calling product was built or released. A license whose
 * updates_until is before it does not cover this build (CHARTER_E_UPDATES_ENDED).
 */
CHARTER_VERIFY_API int charter_verifier_set_build_time(charter_verifier *verifier, int64_t unix_seconds);

/*
 * Installs a signed revocation list (docs/format.md), verified against the keys added so far
 * (add keys first). `token` is a list token, or a whole revocation file: one list token per
 * line (LF or CRLF; empty lines ignored), of which the first valid one is installed. Licenses
 * it lists then fail with CHARTER_E_REVOKED. On failure the previous list (if any) stays and
 * detail says why.
 */
CHARTER_VERIFY_API int charter_verifier_set_revocation_list(charter_verifier *verifier, const char *token,
    size_t token_size, char *detail, size_t detail_size);

/*
 * Verifies a license key at time `now` (Unix seconds, the caller's clock).
 *
 * Returns CHARTER_OK or a negative status. detail (may be NULL) receives one sentence naming
 * the cause, e.g. "license lic_… expired on 2026-01-31T00:00:00Z".
 *
 * license_out (may be NULL) receives a license handle to free with charter_license_free()
 * whenever the signature verified and the claims parsed: on CHARTER_OK, and also on
 * CHARTER_E_NOT_YET_VALID, CHARTER_E_EXPIRED, CHARTER_E_UPDATES_ENDED and CHARTER_E_REVOKED, so
 * that a caller can explain those to a person. Only CHARTER_OK means the license is valid.
 * In every other case *license_out is set to NULL.
 */
CHARTER_VERIFY_API CHARTER_NODISCARD int charter_verify(const charter_verifier *verifier, const char *token,
    size_t token_size, int64_t now, charter_license **license_out, char *detail, size_t detail_size);

CHARTER_VERIFY_API void charter_license_free(charter_license *license);
/* An independent copy of a license handle (free it too), or NULL when license is NULL or on
 * allocation failure. */
CHARTER_VERIFY_API charter_license *charter_license_copy(const charter_license *license);

/* String claims. id = jti ("lic_…"), customer = sub ("cus_…"). name is NULL when absent. */
CHARTER_VERIFY_API const char *charter_license_id(const charter_license *license);
CHARTER_VERIFY_API const char *charter_license_customer(const charter_license *license);
CHARTER_VERIFY_API const char *charter_license_issuer(const charter_license *license);
CHARTER_VERIFY_API const char *charter_license_product(const charter_license *license);
CHARTER_VERIFY_API const char *charter_license_name(const charter_license *license);
/* The k4.pid of the key that signed this license. */
CHARTER_VERIFY_API const char *charter_license_kid(const charter_license *license);

/* Times in Unix seconds. The optional ones return 1 and set *out when present, else 0. */
CHARTER_VERIFY_API int64_t charter_license_issued_at(const charter_license *license);
CHARTER_VERIFY_API int charter_license_not_before(const charter_license *license, int64_t *out);
CHARTER_VERIFY_API int charter_license_expires_at(const charter_license *license, int64_t *out);
CHARTER_VERIFY_API int charter_license_updates_until(const charter_license *license, int64_t *out);

/* Seats: returns 1 and sets *out when the claim is present, else 0. */
CHARTER_VERIFY_API int charter_license_seats(const charter_license *license, int64_t *out);

/* Entitlements: 1 when the license grants `name`, else 0. */
CHARTER_VERIFY_API int charter_license_has_entitlement(const charter_license *license, const char *name);
CHARTER_VERIFY_API size_t charter_license_entitlement_count(const charter_license *license);
/* NULL when index is out of range. */
CHARTER_VERIFY_API const char *charter_license_entitlement(const charter_license *license, size_t index);

/* The verified message exactly as signed (a UTF-8 JSON object), for claims such as meta. */
CHARTER_VERIFY_API const char *charter_license_claims_json(const charter_license *license);


/*
 * ---- Startup check ----------------------------------------------------------------------
 *
 * What a commercial build runs when it starts: find the customer's license key (an
 * environment variable, then a list of files, the first one that holds a key wins), verify it
 * with a configured charter_verifier (its keys, leeway, build time and revocation list), and
 * explain the outcome in one or two sentences a customer can act on, plus a full diagnostic
 * of every place it looked. It never prints, never exits and never touches the network.
 *
 *     charter_startup *check = charter_startup_new(verifier);
 *     charter_startup_set_env(check, "ACME_PRO_LICENSE");
 *     charter_startup_add_file(check, "./config/acme-pro.license");
 *     charter_startup_add_file(check, "~/.config/acme-pro/license");
 *     charter_startup_set_grace_days(check, 14);
 *     charter_startup_set_renew_url(check, "https://acme.example/renew");
 *     charter_startup_set_renewal_warning_days(check, 30);
 *     charter_startup_result *result = NULL;
 *     if (charter_startup_check(check, time(NULL), &result) != CHARTER_OK) {
 *         fprintf(stderr, "%s\n", result ? charter_startup_result_message(result) : "license check failed");
 *         exit(1);
 *     }
 *     if (charter_startup_result_warning(result))
 *         fprintf(stderr, "warning: %s\n", charter_startup_result_message(result));
 *     charter_startup_result_free(result);
 *     charter_startup_free(check);
 *
 * Key sources: the environment variable, a file's contents, or a value the application passes
 * in (charter_startup_add_value), each with surrounding whitespace (and a UTF-8 byte-order
 * mark) removed. An unset or empty variable, a missing,
 * unreadable, empty or oversized (> CHARTER_MAX_KEY_FILE_SIZE) file is skipped and reported
 * in the diagnostic; when no place holds a key the status is CHARTER_E_NO_LICENSE and the
 * message names the places (and the most likely cause, e.g. an unreadable file). A file path
 * starting with "~/" is relative to $HOME (read at check time); other relative paths are
 * relative to the process's current directory.
 */

/* Key files (and environment values) longer than this are not read as license keys. */
#define CHARTER_MAX_KEY_FILE_SIZE 16384

typedef enum charter_startup_mode {
    CHARTER_MODE_ENFORCE = 0, /* valid only when the license verifies (or is in its grace period) */
    CHARTER_MODE_WARN = 1     /* always valid; warning and message say what is wrong */
} charter_startup_mode;

/* Where a key was found, or where the check looked. */
typedef enum charter_source_kind {
    CHARTER_SOURCE_NONE = 0,
    CHARTER_SOURCE_ENV = 1,
    CHARTER_SOURCE_FILE = 2,
    CHARTER_SOURCE_VALUE = 3  /* a key the application passed in (charter_startup_add_value) */
} charter_source_kind;

/* What the check found at one place. */
typedef enum charter_place_state {
    CHARTER_PLACE_NOT_SET = 0,     /* environment variable (or application value) not set */
    CHARTER_PLACE_MISSING = 1,     /* no such file (or a directory on its path is missing) */
    CHARTER_PLACE_UNREADABLE = 2,  /* the file exists but could not be read; detail says why */
    CHARTER_PLACE_EMPTY = 3,       /* set / present, but only whitespace */
    CHARTER_PLACE_TOO_LARGE = 4,   /* longer than CHARTER_MAX_KEY_FILE_SIZE */
    CHARTER_PLACE_FOUND = 5,       /* the key was read from here */
    CHARTER_PLACE_NOT_CHECKED = 6  /* not looked at: a key was found in an earlier place */
} charter_place_state;

typedef struct charter_startup charter_startup;
typedef struct charter_startup_result charter_startup_result;

/*
 * A startup check using `verifier`, which is borrowed (never modified) and must outlive the
 * check and every result. Defaults: no environment variable, no files, enforce mode, no grace
 * period, a renewal warning 14 days before exp, no revocation file, no renewal URL. NULL when
 * verifier is NULL or on allocation failure.
 */
CHARTER_VERIFY_API charter_startup *charter_startup_new(const charter_verifier *verifier);
CHARTER_VERIFY_API void charter_startup_free(charter_startup *check);

/* The environment variable looked at first, e.g. "ACME_PRO_LICENSE" (non-empty, no '='). */
CHARTER_VERIFY_API int charter_startup_set_env(charter_startup *check, const char *name);
/* One more key file, looked at after the variable and the places added before it. */
CHARTER_VERIFY_API int charter_startup_add_file(charter_startup *check, const char *path);
/*
 * One more place, holding a key the application found itself (value, NULL when it found none),
 * looked at in the order added. `name` says where the customer set it, in messages and in the
 * diagnostic, e.g. "Bundler's credential for gems.acme.example": a gem can then take its key
 * from the credential its customers already configured for the vendor's gem source.
 */
CHARTER_VERIFY_API int charter_startup_add_value(charter_startup *check, const char *name, const char *value);
CHARTER_VERIFY_API int charter_startup_set_mode(charter_startup *check, charter_startup_mode mode);
/* Days after exp during which an expired license stays valid with a warning (0 to 3650). */
CHARTER_VERIFY_API int charter_startup_set_grace_days(charter_startup *check, int days);
/*
 * A signed revocation list file (as `charter revocations export` writes it), checked in
 * addition to any list installed on the verifier. A missing, unreadable or invalid file is
 * not fatal (offline machines may lack a fresh one): the license is checked without it and the
 * result carries a warning. The verifier is not modified.
 */
CHARTER_VERIFY_API int charter_startup_set_revocation_file(charter_startup *check, const char *path);
/* Where a customer renews, quoted in messages about expired licenses and ended updates. */
CHARTER_VERIFY_API int charter_startup_set_renew_url(charter_startup *check, const char *url);
/*
 * Days before the license's exp from which a valid license carries a warning that it ends
 * (0 to 3650; 0: never; default 14): the result stays valid, warning is 1, and the message says
 * "the license lic_… for acme-pro ends on 2027-01-04 (in 10 days); renew at <renew URL>" (without
 * a renewal URL: "…; get the renewed key from <issuer> and put it in <where the key was found>").
 * Exactly `days` * 86400 seconds before exp warns, one second earlier does not.
 */
CHARTER_VERIFY_API int charter_startup_set_renewal_warning_days(charter_startup *check, int days);

/*
 * Runs the check at time `now` (Unix seconds). *out receives a result to free with
 * charter_startup_result_free() whenever one could be made; it is NULL only when the return
 * value is CHARTER_E_INVALID_ARGUMENT, CHARTER_E_NO_MEMORY or CHARTER_E_INTERNAL.
 *
 * Returns CHARTER_OK exactly when the result is valid (so in warn mode always, and during the
 * grace period), else the result's status; a caller that only needs yes/no can test the
 * return value and print charter_startup_result_message().
 */
CHARTER_VERIFY_API CHARTER_NODISCARD int charter_startup_check(const charter_startup *check, int64_t now,
    charter_startup_result **out);

CHARTER_VERIFY_API void charter_startup_result_free(charter_startup_result *result);

/* The verification status (CHARTER_OK, CHARTER_E_EXPIRED, CHARTER_E_NO_LICENSE, …), whatever the mode. */
CHARTER_VERIFY_API int charter_startup_result_status(const charter_startup_result *result);
/* 1 when the product may run: status OK, in the grace period, or warn mode. */
CHARTER_VERIFY_API int charter_startup_result_valid(const charter_startup_result *result);
/* 1 when the message should be shown although the result is valid (warn mode, grace period,
 * license ending within the renewal warning period, revocation file not usable). */
CHARTER_VERIFY_API int charter_startup_result_warning(const charter_startup_result *result);
CHARTER_VERIFY_API charter_source_kind charter_startup_result_source_kind(const charter_startup_result *result);
/* The variable name, the file path (as configured, e.g. "~/.config/acme-pro/license") or the
 * value's name the key came from; NULL when no key was found. */
CHARTER_VERIFY_API const char *charter_startup_result_source(const charter_startup_result *result);
/* The license, borrowed from the result (copy it with charter_license_copy() to keep it);
 * present whenever the signature verified, also when expired or revoked; else NULL. */
CHARTER_VERIFY_API const charter_license *charter_startup_result_license(const charter_startup_result *result);
/* One or two sentences for the customer, e.g. "the license lic_… for acme-pro expired on
 * 2026-01-31; renew at https://…". */
CHARTER_VERIFY_API const char *charter_startup_result_message(const charter_startup_result *result);
/* Several lines for a support request: every place looked at and what was found there, the
 * revocation file, the license and the verification detail. */
CHARTER_VERIFY_API const char *charter_startup_result_diagnostic(const charter_startup_result *result);

/* The places looked at, in order (the variable first, then files and values as added). */
CHARTER_VERIFY_API size_t charter_startup_result_place_count(const charter_startup_result *result);
CHARTER_VERIFY_API charter_source_kind charter_startup_result_place_kind(const charter_startup_result *result, size_t index);
/* As configured ("ACME_PRO_LICENSE", "~/.config/acme-pro/license"); NULL when out of range. */
CHARTER_VERIFY_API const char *charter_startup_result_place_name(const charter_startup_result *result, size_t index);
/* The file actually opened ("~/" expanded); the name itself for variables and values. */
CHARTER_VERIFY_API const char *charter_startup_result_place_path(const charter_startup_result *result, size_t index);
/* A charter_place_state, or -1 when out of range. */
CHARTER_VERIFY_API int charter_startup_result_place_state(const charter_startup_result *result, size_t index);
/* Why, for UNREADABLE ("Permission denied", "HOME is not set") and MISSING; "" otherwise. */
CHARTER_VERIFY_API const char *charter_startup_result_place_detail(const charter_startup_result *result, size_t index);

/*
 * ---- Activations ------------------------------------------------------------------------
 *
 * An activation token (docs/format.md, "The activation token") says that one machine holds a
 * seat of a license until the end of its lease: the license server signs it with the vendor's
 * signing key when the product activates or heartbeats (docs/activations.md), with the implicit
 * assertion "charter-activation:<product>", so a license key can never pass for one.
 */

/* Fingerprints (the opaque bytes a product identifies its machine with) are 1 to this many bytes. */
#define CHARTER_MAX_FINGERPRINT_SIZE 256

/*
 * Verifies an activation token for the verifier's product and this machine, at time `now` (Unix
 * seconds, the caller's clock) with `leeway` seconds of clock skew for the lease end (0 to
 * 86400*365; the verifier's own leeway, meant for licenses, is not used). `fingerprint` is the
 * fingerprint the product sent when it activated (1 to CHARTER_MAX_FINGERPRINT_SIZE bytes): the
 * library hashes it with SHA-256 and compares it with the token's.
 *
 * The checks, in this order, each failing closed: size and strict decoding; the footer's kid
 * among the trusted keys (a token without a footer is CHARTER_E_BAD_FOOTER, an unknown kid
 * CHARTER_E_UNKNOWN_KEY); the signature; the claims (CHARTER_E_BAD_CLAIMS, _MISSING_CLAIM,
 * _WRONG_CLAIM_TYPE); the product (CHARTER_E_WRONG_PRODUCT); the fingerprint
 * (CHARTER_E_WRONG_MACHINE); the lease end (CHARTER_E_LEASE_EXPIRED when now > exp + leeway; a
 * token without exp is node-locked and never expires).
 *
 * activation_out (may be NULL) receives a handle to free with charter_activation_free() when the
 * signature verified and the claims parsed for this product: on CHARTER_OK, and also on
 * CHARTER_E_WRONG_MACHINE and CHARTER_E_LEASE_EXPIRED, to explain those. Otherwise NULL.
 */
CHARTER_VERIFY_API CHARTER_NODISCARD int charter_verify_activation(const charter_verifier *verifier, const char *token,
    size_t token_size, const void *fingerprint, size_t fingerprint_size, int64_t now, int64_t leeway,
    charter_activation **activation_out, char *detail, size_t detail_size);

CHARTER_VERIFY_API void charter_activation_free(charter_activation *activation);
CHARTER_VERIFY_API charter_activation *charter_activation_copy(const charter_activation *activation);

/* jti ("act_…"), the license id ("lic_…"), iss, product, the fingerprint's SHA-256 (64 lowercase
 * hex digits), and the k4.pid of the signing key. */
CHARTER_VERIFY_API const char *charter_activation_id(const charter_activation *activation);
CHARTER_VERIFY_API const char *charter_activation_license_id(const charter_activation *activation);
CHARTER_VERIFY_API const char *charter_activation_issuer(const charter_activation *activation);
CHARTER_VERIFY_API const char *charter_activation_product(const charter_activation *activation);
CHARTER_VERIFY_API const char *charter_activation_fingerprint(const charter_activation *activation);
CHARTER_VERIFY_API const char *charter_activation_kid(const charter_activation *activation);
/* The seat number (1 or more); 0 when activation is NULL. */
CHARTER_VERIFY_API int64_t charter_activation_seat(const charter_activation *activation);
CHARTER_VERIFY_API int64_t charter_activation_issued_at(const charter_activation *activation);
/* The lease end: returns 1 and sets *out, or 0 for a node-locked activation (no expiry). */
CHARTER_VERIFY_API int charter_activation_lease_ends_at(const charter_activation *activation, int64_t *out);
/* The token's verified message exactly as signed. */
CHARTER_VERIFY_API const char *charter_activation_claims_json(const charter_activation *activation);

/*
 * ---- Activation mode of the startup check -------------------------------------------------
 *
 * A product whose license counts seats (docs/activations.md) activates the machine it runs on
 * with the license server, renews the seat's lease with heartbeats, and releases it when it
 * exits. A charter_seat does the protocol: it finds and checks the license key with a startup
 * check, builds the requests (POST /v1/activations, POST /v1/activations/{id}/heartbeat, DELETE
 * /v1/activations/{id}, authenticated with the license key), verifies every activation token
 * the server returns (charter_verify_activation), keeps the last good one, and decides whether
 * the product may keep running: until the lease end plus leeway plus a grace period, with a
 * warning from the first failed contact. The library never touches the network: the product
 * supplies the transport (its HTTP client) and owns the thread that heartbeats.
 *
 *     charter_seat *seat = charter_seat_new(check, my_transport, my_client);
 *     charter_seat_set_fingerprint(seat, machine_id, strlen(machine_id));
 *     charter_seat_set_grace_seconds(seat, 3600);
 *     if (charter_seat_activate(seat, time(NULL), &result) != CHARTER_OK) { ... refuse to start ... }
 *     // a helper thread: sleep until charter_seat_next_heartbeat(seat), then
 *     charter_seat_heartbeat(seat, time(NULL), &result);   // warning? show the message
 *     // anywhere, any thread, no network:
 *     charter_seat_check(seat, time(NULL), &result);       // valid? keep running
 *     // at exit:
 *     charter_seat_release(seat, detail, sizeof detail);
 *
 * Results are charter_startup_results (read them with charter_startup_result_*): status, valid,
 * warning, message, the license, and the seat's activation and valid-until time.
 *
 * Thread-safety: configure a seat from one thread; then activate, heartbeat, check, release and
 * next_heartbeat may be called from any threads at once (the seat locks its state, never while
 * the transport runs, so a check never waits for the network).
 */

/* One HTTP request of the activation protocol, for the transport to send. */
typedef struct charter_request {
    const char *method;        /* "POST" or "DELETE" */
    const char *path;          /* "/v1/activations", "/v1/activations/act_…/heartbeat" or "/v1/activations/act_…",
                                  to append to the server's base URL */
    const char *authorization; /* the Authorization header's value: "Bearer <license key>" */
    const char *body;          /* a JSON object (Content-Type: application/json), or NULL: no body */
} charter_request;

/*
 * Sends `request` to the license server. Returns 0 when an HTTP response arrived, whatever its
 * status: *http_status receives it and `response` its body (NUL-terminated, truncated to
 * response_size - 1 bytes). Returns non-zero when no response arrived (connection refused,
 * timeout, DNS, TLS): `response` may then hold a short reason, e.g. "connection refused". Keep
 * the timeout short (seconds): a seat waits for its transport. Called without any lock held,
 * possibly from several threads at once.
 */
typedef int (*charter_transport)(void *context, const charter_request *request, char *response, size_t response_size,
    int *http_status);

typedef struct charter_seat charter_seat;

/*
 * A seat for the product of `check`'s verifier, which holds the license key: `check` is borrowed
 * and must outlive the seat (as its verifier must). NULL when an argument is NULL or on
 * allocation failure. Defaults: no fingerprint (set one), no label, no count, grace 0, leeway 0.
 */
CHARTER_VERIFY_API charter_seat *charter_seat_new(const charter_startup *check, charter_transport transport, void *context);
CHARTER_VERIFY_API void charter_seat_free(charter_seat *seat);
/* The machine's fingerprint (1 to CHARTER_MAX_FINGERPRINT_SIZE bytes of UTF-8): the server
 * counts one seat per fingerprint; see docs/activations.md for choosing one. */
CHARTER_VERIFY_API int charter_seat_set_fingerprint(charter_seat *seat, const void *fingerprint, size_t size);
/* A label for operators (e.g. the host name), sent with the activation. */
CHARTER_VERIFY_API int charter_seat_set_label(charter_seat *seat, const char *label);
/* For licenses that count processes or cores: how many this activation takes (1 or more). */
CHARTER_VERIFY_API int charter_seat_set_processes(charter_seat *seat, int64_t processes);
CHARTER_VERIFY_API int charter_seat_set_cores(charter_seat *seat, int64_t cores);
/* How long after the lease end (plus leeway) the product keeps running when the license server
 * cannot be reached (0 to 31536000 seconds; default 0). Not when it answered and refused (no free
 * seat, a suspended license): then the product stops at the lease end (plus leeway). */
CHARTER_VERIFY_API int charter_seat_set_grace_seconds(charter_seat *seat, int64_t seconds);
/* Clock skew tolerated for the lease end (0 to 31536000 seconds; default 0). */
CHARTER_VERIFY_API int charter_seat_set_leeway(charter_seat *seat, int64_t seconds);

/*
 * Runs the startup check (the license must be valid, or the result is its refusal), then
 * activates this machine: POST /v1/activations. Returns CHARTER_OK exactly when the result is
 * valid. Refusals: CHARTER_E_SEATS_EXHAUSTED (the message is the server's, naming the holders),
 * CHARTER_E_UNREACHABLE, CHARTER_E_ACTIVATION_REFUSED, or the token's own verification status.
 * *out as for charter_startup_check().
 */
CHARTER_VERIFY_API CHARTER_NODISCARD int charter_seat_activate(charter_seat *seat, int64_t now, charter_startup_result **out);
/*
 * Renews the lease: POST /v1/activations/{id}/heartbeat (an expired or unknown activation, 410
 * or 404, is activated again; without an activation yet, activates). A failure does not stop
 * the product at once: the result stays valid, with a warning, until the lease end + leeway +
 * grace. Returns CHARTER_OK exactly when the result is valid.
 */
CHARTER_VERIFY_API CHARTER_NODISCARD int charter_seat_heartbeat(charter_seat *seat, int64_t now, charter_startup_result **out);
/* "May I keep running?" at `now`, from the last good token, without any network. */
CHARTER_VERIFY_API CHARTER_NODISCARD int charter_seat_check(const charter_seat *seat, int64_t now, charter_startup_result **out);
/* Releases the seat: DELETE /v1/activations/{id}; CHARTER_OK also when the server no longer
 * knew it (404) or nothing was held. The seat then holds nothing. */
CHARTER_VERIFY_API int charter_seat_release(charter_seat *seat, char *detail, size_t detail_size);
/* When the next heartbeat is due (Unix seconds): a third of the lease after a renewal, a quarter
 * of the lease (1 s to 1 min) after a failure; 0 when none is needed (a node-locked seat). */
CHARTER_VERIFY_API int64_t charter_seat_next_heartbeat(const charter_seat *seat);

/* The seat's activation in a seat result (borrowed; NULL when none is held). */
CHARTER_VERIFY_API const charter_activation *charter_startup_result_activation(const charter_startup_result *result);
/* Until when the product may run on this seat (lease end + leeway, + grace during an outage):
 * returns 1 and sets *out, or 0 when unbounded (node-locked) or there is no seat. */
CHARTER_VERIFY_API int charter_startup_result_valid_until(const charter_startup_result *result, int64_t *out);

#ifdef __cplusplus
}
#endif

#endif

// Header-only C++17 wrapper over charter/verify.h: RAII handles, std::string_view in,
// std::optional out. It throws only std::bad_alloc (from std::string); verification
// failures are values, never exceptions.
#pragma once

#include "charter/verify.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charter {

/// A verified (or verified-but-refused) license. Move-only; frees its handle.
class License {
public:
    explicit License(charter_license* handle) : m_handle(handle) { }

    std::string_view id() const { return charter_license_id(get()); }
    std::string_view customer() const { return charter_license_customer(get()); }
    std::string_view issuer() const { return charter_license_issuer(get()); }
    std::string_view product() const { return charter_license_product(get()); }
    std::string_view kid() const { return charter_license_kid(get()); }
    std::optional<std::string_view> name() const
    {
        char const* value = charter_license_name(get());
        return value ? std::optional<std::string_view>(value) : std::nullopt;
    }
    int64_t issued_at() const { return charter_license_issued_at(get()); }
    std::optional<int64_t> not_before() const { return optional_time(charter_license_not_before); }
    std::optional<int64_t> expires_at() const { return optional_time(charter_license_expires_at); }
    std::optional<int64_t> updates_until() const { return optional_time(charter_license_updates_until); }
    std::optional<int64_t> seats() const { return optional_time(charter_license_seats); }
    bool has_entitlement(char const* name) const { return charter_license_has_entitlement(get(), name) == 1; }
    std::vector<std::string_view> entitlements() const
    {
        std::vector<std::string_view> names;
        for (size_t i = 0, count = charter_license_entitlement_count(get()); i < count; ++i)
            names.emplace_back(charter_license_entitlement(get(), i));
        return names;
    }
    std::string_view claims_json() const { return charter_license_claims_json(get()); }

    charter_license const* get() const { return m_handle.get(); }

private:
    std::optional<int64_t> optional_time(int (*accessor)(charter_license const*, int64_t*)) const
    {
        int64_t value = 0;
        return accessor(get(), &value) ? std::optional<int64_t>(value) : std::nullopt;
    }

    struct Free {
        void operator()(charter_license* handle) const { charter_license_free(handle); }
    };
    std::unique_ptr<charter_license, Free> m_handle;
};

/// What verify() found: a status, its sentence, and the license whenever the signature held.
struct Verification {
    int status { CHARTER_E_INTERNAL };
    std::string detail;
    std::optional<License> license;

    bool valid() const { return status == CHARTER_OK; }
    explicit operator bool() const { return valid(); }
    char const* status_string() const { return charter_status_string(status); }
};

/// A verified activation token: this machine holds seat `seat()` of license `license_id()` until
/// `lease_ends_at()` (nullopt: node-locked). Move-only; frees its handle.
class Activation {
public:
    explicit Activation(charter_activation* handle) : m_handle(handle) { }

    std::string_view id() const { return charter_activation_id(get()); }
    std::string_view license_id() const { return charter_activation_license_id(get()); }
    std::string_view issuer() const { return charter_activation_issuer(get()); }
    std::string_view product() const { return charter_activation_product(get()); }
    std::string_view fingerprint() const { return charter_activation_fingerprint(get()); }
    std::string_view kid() const { return charter_activation_kid(get()); }
    int64_t seat() const { return charter_activation_seat(get()); }
    int64_t issued_at() const { return charter_activation_issued_at(get()); }
    std::optional<int64_t> lease_ends_at() const
    {
        int64_t value = 0;
        return charter_activation_lease_ends_at(get(), &value) ? std::optional<int64_t>(value) : std::nullopt;
    }
    bool node_locked() const { return !lease_ends_at(); }
    std::string_view claims_json() const { return charter_activation_claims_json(get()); }

    charter_activation const* get() const { return m_handle.get(); }

private:
    struct Free {
        void operator()(charter_activation* handle) const { charter_activation_free(handle); }
    };
    std::unique_ptr<charter_activation, Free> m_handle;
};

/// What verify_activation() found: a status, its sentence, and the activation whenever the
/// signature held and the claims are this product's (also for another machine or an ended lease).
struct ActivationVerification {
    int status { CHARTER_E_INTERNAL };
    std::string detail;
    std::optional<Activation> activation;

    bool valid() const { return status == CHARTER_OK; }
    explicit operator bool() const { return valid(); }
    char const* status_string() const { return charter_status_string(status); }
};

class Verifier {
public:
    /// Throws std::bad_alloc only; an empty product gives an unusable verifier (every
    /// verification then fails with CHARTER_E_INVALID_ARGUMENT).
    explicit Verifier(char const* product) : m_handle(charter_verifier_new(product)) { }

    int add_key(char const* paserk_public) { return charter_verifier_add_key(m_handle.get(), paserk_public); }
    int set_leeway(int64_t seconds) { return charter_verifier_set_leeway(m_handle.get(), seconds); }
    int set_build_time(int64_t unix_seconds) { return charter_verifier_set_build_time(m_handle.get(), unix_seconds); }
    int set_revocation_list(std::string_view token, std::string* detail = nullptr)
    {
        char buffer[256];
        int status = charter_verifier_set_revocation_list(m_handle.get(), token.data(), token.size(), buffer, sizeof buffer);
        if (detail)
            *detail = buffer;
        return status;
    }

    [[nodiscard]] Verification verify(std::string_view token, int64_t now) const
    {
        Verification result;
        charter_license* license = nullptr;
        char buffer[256];
        result.status = charter_verify(m_handle.get(), token.data(), token.size(), now, &license, buffer, sizeof buffer);
        result.detail = buffer;
        if (license)
            result.license.emplace(license);
        return result;
    }

    [[nodiscard]] Verification verify(std::string_view token) const
    {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        return verify(token, static_cast<int64_t>(now.count()));
    }

    /// Verifies an activation token for this machine's `fingerprint` (the bytes the product sent
    /// when it activated) at `now`, tolerating `leeway` seconds past the lease end.
    [[nodiscard]] ActivationVerification verify_activation(std::string_view token, std::string_view fingerprint, int64_t now,
        int64_t leeway = 0) const
    {
        ActivationVerification result;
        charter_activation* activation = nullptr;
        char buffer[256];
        result.status = charter_verify_activation(m_handle.get(), token.data(), token.size(), fingerprint.data(), fingerprint.size(),
            now, leeway, &activation, buffer, sizeof buffer);
        result.detail = buffer;
        if (activation)
            result.activation.emplace(activation);
        return result;
    }

    [[nodiscard]] ActivationVerification verify_activation(std::string_view token, std::string_view fingerprint) const
    {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        return verify_activation(token, fingerprint, static_cast<int64_t>(now.count()));
    }

    charter_verifier const* get() const { return m_handle.get(); }

private:
    struct Free {
        void operator()(charter_verifier* handle) const { charter_verifier_free(handle); }
    };
    std::unique_ptr<charter_verifier, Free> m_handle;
};

enum class StartupMode {
    Enforce = CHARTER_MODE_ENFORCE,
    Warn = CHARTER_MODE_WARN,
};

/// One place the startup check looked at, and what it found there.
struct StartupPlace {
    charter_source_kind kind { CHARTER_SOURCE_NONE };
    std::string name;   ///< as configured: "ACME_PRO_LICENSE", "~/.config/acme-pro/license"
    std::string path;   ///< the file actually opened ("~/" expanded)
    charter_place_state state { CHARTER_PLACE_NOT_CHECKED };
    std::string detail; ///< why a file was missing or unreadable
};

/// What StartupCheck::run() decided. `valid` says whether the product may run; when
/// `warning` is set too, show `message` anyway (warn-only mode, grace period, license ending soon).
struct StartupResult {
    int status { CHARTER_E_INTERNAL };
    bool valid { false };
    bool warning { false };
    charter_source_kind source_kind { CHARTER_SOURCE_NONE };
    std::string source;     ///< the variable, file or value name the key came from; empty when none
    std::string message;    ///< one or two sentences for the customer
    std::string diagnostic; ///< every place looked at, the license, the verification detail
    std::vector<StartupPlace> places;
    std::optional<License> license; ///< whenever the signature verified (also when expired or revoked)
    std::optional<Activation> activation; ///< activation mode (Seat): the seat held, if any
    std::optional<int64_t> valid_until;   ///< activation mode: lease end + leeway + grace (nullopt: node-locked or none)

    explicit operator bool() const { return valid; }
    char const* status_string() const { return charter_status_string(status); }
};

/// The startup check, builder style:
///
///     auto result = charter::StartupCheck(verifier)
///         .env("ACME_PRO_LICENSE")
///         .file("./config/acme-pro.license")
///         .file("~/.config/acme-pro/license")
///         .grace_days(14)
///         .renew_url("https://acme.example/renew")
///         .renewal_warning_days(30)
///         .run();
///     if (!result.valid) { std::cerr << result.message << "\n"; return 1; }
///
/// The verifier is borrowed and must outlive the check. A configuration error (an empty
/// variable name, a grace period out of range) is kept and returned by run() as an invalid
/// result whose message names it.
class StartupCheck {
public:
    explicit StartupCheck(Verifier const& verifier) : m_handle(charter_startup_new(verifier.get()))
    {
        if (!m_handle) {
            m_error = verifier.get() ? CHARTER_E_NO_MEMORY : CHARTER_E_INVALID_ARGUMENT;
            m_error_what = "no usable verifier";
        }
    }

    StartupCheck& env(std::string const& name) { return record(charter_startup_set_env(m_handle.get(), name.c_str()), "environment variable name"); }
    StartupCheck& file(std::string const& path) { return record(charter_startup_add_file(m_handle.get(), path.c_str()), "key file path"); }
    /// A key the application found itself (nullopt: none), named for messages.
    StartupCheck& value(std::string const& name, std::optional<std::string> const& value)
    {
        return record(charter_startup_add_value(m_handle.get(), name.c_str(), value ? value->c_str() : nullptr), "value name");
    }
    StartupCheck& mode(StartupMode mode)
    {
        return record(charter_startup_set_mode(m_handle.get(), static_cast<charter_startup_mode>(mode)), "mode");
    }
    StartupCheck& grace_days(int days) { return record(charter_startup_set_grace_days(m_handle.get(), days), "grace period"); }
    StartupCheck& revocation_file(std::string const& path)
    {
        return record(charter_startup_set_revocation_file(m_handle.get(), path.c_str()), "revocation file");
    }
    StartupCheck& renew_url(std::string const& url) { return record(charter_startup_set_renew_url(m_handle.get(), url.c_str()), "renewal URL"); }
    /// Days before exp from which a valid license warns that it ends (0: never; default 14).
    StartupCheck& renewal_warning_days(int days)
    {
        return record(charter_startup_set_renewal_warning_days(m_handle.get(), days), "renewal warning period");
    }

    /// CHARTER_OK, or the first configuration error.
    int error() const { return m_error; }

    [[nodiscard]] StartupResult run(int64_t now) const
    {
        StartupResult result;
        if (m_error != CHARTER_OK) {
            result.status = m_error;
            result.message = "the license check is misconfigured: " + m_error_what + " (" + charter_status_string(m_error) + ")";
            result.diagnostic = result.message;
            return result;
        }
        charter_startup_result* raw = nullptr;
        int status = charter_startup_check(m_handle.get(), now, &raw);
        return from_raw(raw, status);
    }

    [[nodiscard]] StartupResult run() const
    {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        return run(static_cast<int64_t>(now.count()));
    }

    charter_startup const* get() const { return m_handle.get(); }

    /// A C result as a StartupResult (freeing it); `status` is the call's, used when raw is NULL.
    static StartupResult from_raw(charter_startup_result* raw, int status)
    {
        StartupResult result;
        std::unique_ptr<charter_startup_result, FreeResult> handle(raw);
        if (!handle) {
            result.status = status;
            result.message = std::string("the license check could not run: ") + charter_status_string(status);
            result.diagnostic = result.message;
            return result;
        }
        result.status = charter_startup_result_status(raw);
        result.valid = charter_startup_result_valid(raw) == 1;
        result.warning = charter_startup_result_warning(raw) == 1;
        result.source_kind = charter_startup_result_source_kind(raw);
        if (char const* source = charter_startup_result_source(raw))
            result.source = source;
        result.message = charter_startup_result_message(raw);
        result.diagnostic = charter_startup_result_diagnostic(raw);
        for (size_t i = 0, count = charter_startup_result_place_count(raw); i < count; ++i) {
            result.places.push_back(StartupPlace { charter_startup_result_place_kind(raw, i),
                charter_startup_result_place_name(raw, i), charter_startup_result_place_path(raw, i),
                static_cast<charter_place_state>(charter_startup_result_place_state(raw, i)),
                charter_startup_result_place_detail(raw, i) });
        }
        if (charter_license const* license = charter_startup_result_license(raw)) {
            charter_license* copy = charter_license_copy(license);
            if (!copy)
                throw std::bad_alloc();
            result.license.emplace(copy);
        }
        if (charter_activation const* activation = charter_startup_result_activation(raw)) {
            charter_activation* copy = charter_activation_copy(activation);
            if (!copy)
                throw std::bad_alloc();
            result.activation.emplace(copy);
        }
        int64_t until = 0;
        if (charter_startup_result_valid_until(raw, &until))
            result.valid_until = until;
        return result;
    }

private:
    StartupCheck& record(int status, char const* what)
    {
        if (m_error == CHARTER_OK && status != CHARTER_OK) {
            m_error = status;
            m_error_what = std::string("invalid ") + what;
        }
        return *this;
    }

    struct Free {
        void operator()(charter_startup* handle) const { charter_startup_free(handle); }
    };
    struct FreeResult {
        void operator()(charter_startup_result* handle) const { charter_startup_result_free(handle); }
    };
    std::unique_ptr<charter_startup, Free> m_handle;
    int m_error { CHARTER_OK };
    std::string m_error_what;
};

/// One request of the activation protocol (see charter_request in verify.h).
struct SeatRequest {
    std::string_view method;        ///< "POST" or "DELETE"
    std::string_view path;          ///< to append to the server's base URL
    std::string_view authorization; ///< the Authorization header's value
    std::optional<std::string_view> body; ///< JSON, or nullopt
};

/// What the transport got back: an HTTP status and body, or nullopt when no answer arrived.
struct SeatResponse {
    int status { 0 };
    std::string body;
};

/// The product's HTTP client: sends the request to the license server and returns its answer,
/// or nullopt (optionally naming why in `reason`) when the server could not be reached.
using SeatTransport = std::function<std::optional<SeatResponse>(SeatRequest const& request, std::string& reason)>;

/// The startup check's activation mode (charter_seat_* in verify.h):
///
///     charter::Seat seat(check, [&](charter::SeatRequest const& request, std::string& reason) { ... });
///     seat.fingerprint(machine_id).label(hostname).grace_seconds(3600);
///     auto started = seat.activate();
///     if (!started.valid) { std::cerr << started.message << "\n"; return 1; }
///     // helper thread: sleep until seat.next_heartbeat(); auto beat = seat.heartbeat();
///     // anywhere: if (!seat.check().valid) stop
///     seat.release();
///
/// The check (and its verifier) are borrowed and must outlive the seat. Not movable: the C seat
/// holds a pointer to it for the transport.
class Seat {
public:
    Seat(StartupCheck const& check, SeatTransport transport)
        : m_transport(std::move(transport))
        , m_handle(charter_seat_new(check.get(), &Seat::call, this))
    {
        if (!m_handle)
            record(CHARTER_E_INVALID_ARGUMENT, "startup check");
    }
    Seat(Seat const&) = delete;
    Seat& operator=(Seat const&) = delete;

    Seat& fingerprint(std::string_view bytes)
    {
        return record(charter_seat_set_fingerprint(m_handle.get(), bytes.data(), bytes.size()), "fingerprint");
    }
    Seat& label(std::string const& label) { return record(charter_seat_set_label(m_handle.get(), label.c_str()), "label"); }
    Seat& processes(int64_t count) { return record(charter_seat_set_processes(m_handle.get(), count), "process count"); }
    Seat& cores(int64_t count) { return record(charter_seat_set_cores(m_handle.get(), count), "core count"); }
    Seat& grace_seconds(int64_t seconds) { return record(charter_seat_set_grace_seconds(m_handle.get(), seconds), "grace period"); }
    Seat& leeway(int64_t seconds) { return record(charter_seat_set_leeway(m_handle.get(), seconds), "leeway"); }

    /// CHARTER_OK, or the first configuration error.
    int error() const { return m_error; }

    [[nodiscard]] StartupResult activate(int64_t now) { return call_with(charter_seat_activate, now); }
    [[nodiscard]] StartupResult activate() { return activate(clock()); }
    [[nodiscard]] StartupResult heartbeat(int64_t now) { return call_with(charter_seat_heartbeat, now); }
    [[nodiscard]] StartupResult heartbeat() { return heartbeat(clock()); }
    [[nodiscard]] StartupResult check(int64_t now) const
    {
        if (m_error != CHARTER_OK)
            return misconfigured();
        charter_startup_result* raw = nullptr;
        int status = charter_seat_check(m_handle.get(), now, &raw);
        return StartupCheck::from_raw(raw, status);
    }
    [[nodiscard]] StartupResult check() const { return check(clock()); }
    /// Releases the seat (CHARTER_OK also when nothing was held); `detail` says why not.
    int release(std::string* detail = nullptr)
    {
        char buffer[512];
        int status = charter_seat_release(m_handle.get(), buffer, sizeof buffer);
        if (detail)
            *detail = buffer;
        return status;
    }
    /// When the next heartbeat is due (Unix seconds); 0: none needed.
    int64_t next_heartbeat() const { return charter_seat_next_heartbeat(m_handle.get()); }

    charter_seat const* get() const { return m_handle.get(); }

private:
    static int64_t clock()
    {
        auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
        return static_cast<int64_t>(now.count());
    }

    static int call(void* context, charter_request const* request, char* response, size_t response_size, int* http_status)
    {
        auto* self = static_cast<Seat*>(context);
        SeatRequest cxx { request->method, request->path, request->authorization,
            request->body ? std::optional<std::string_view>(request->body) : std::nullopt };
        std::string text;
        std::optional<SeatResponse> answer;
        try {
            answer = self->m_transport(cxx, text);
        } catch (...) {
            text = "the transport failed";
        }
        if (answer) {
            *http_status = answer->status;
            text = std::move(answer->body);
        }
        size_t count = std::min(text.size(), response_size - 1);
        std::memcpy(response, text.data(), count);
        response[count] = '\0';
        return answer ? 0 : 1;
    }

    StartupResult call_with(int (*function)(charter_seat*, int64_t, charter_startup_result**), int64_t now)
    {
        if (m_error != CHARTER_OK)
            return misconfigured();
        charter_startup_result* raw = nullptr;
        int status = function(m_handle.get(), now, &raw);
        return StartupCheck::from_raw(raw, status);
    }

    StartupResult misconfigured() const
    {
        StartupResult result;
        result.status = m_error;
        result.message = "the license check is misconfigured: " + m_error_what + " (" + charter_status_string(m_error) + ")";
        result.diagnostic = result.message;
        return result;
    }

    Seat& record(int status, char const* what)
    {
        if (m_error == CHARTER_OK && status != CHARTER_OK) {
            m_error = status;
            m_error_what = std::string("invalid ") + what;
        }
        return *this;
    }

    struct Free {
        void operator()(charter_seat* handle) const { charter_seat_free(handle); }
    };
    SeatTransport m_transport;
    std::unique_ptr<charter_seat, Free> m_handle;
    int m_error { CHARTER_OK };
    std::string m_error_what;
};

}

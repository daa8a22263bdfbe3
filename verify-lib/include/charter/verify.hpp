// Header-only C++17 wrapper over charter/verify.h: RAII handles, std::string_view in,
// std::optional out. It throws only std::bad_alloc (from std::string); verification
// failures are values, never exceptions.
#pragma once

#include "charter/verify.h"

#include <chrono>
#include <cstdint>
#include <memory>
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

    charter_verifier const* get() const { return m_handle.get(); }

private:
    struct Free {
        void operator()(charter_verifier* handle) const { charter_verifier_free(handle); }
    };
    std::unique_ptr<charter_verifier, Free> m_handle;
};

}

// The C ABI of libcharter-verify, over its C++ core (as fmt keeps its C API in src/fmt-c.cc):
// argument checks, copies into caller buffers, and one exception guard. No exception may cross
// extern "C": every entry point that can allocate runs inside guarded(), where allocation
// failure becomes CHARTER_E_NO_MEMORY and anything else CHARTER_E_INTERNAL.

#include "charter/verify.h"

#include "charter/format/claims.hpp"
#include "charter/format/paserk_public.hpp"
#include "charter/format/statuses.hpp"
#include "startup_check.hpp"
#include "verifier_internal.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

using namespace charter::format;
using charter::internal::load_revocation_list;
using charter::internal::verify;
using charter::internal::verify_activation;

namespace {

// The one exception guard. An entry point that returns a status gets CHARTER_E_NO_MEMORY when
// allocation fails and CHARTER_E_INTERNAL for anything else (a bug); one that returns a new
// handle gets NULL.
template<typename Function>
auto guarded(Function function) -> decltype(function())
{
    constexpr bool returns_handle = std::is_pointer_v<decltype(function())>;
    try {
        return function();
    } catch (std::bad_alloc const&) {
        if constexpr (returns_handle)
            return nullptr;
        else
            return CHARTER_E_NO_MEMORY;
    } catch (...) {
        if constexpr (returns_handle)
            return nullptr;
        else
            return CHARTER_E_INTERNAL;
    }
}

void write_detail(char* detail, size_t detail_size, std::string_view text)
{
    if (!detail || detail_size == 0)
        return;
    size_t count = std::min(text.size(), detail_size - 1);
    std::memcpy(detail, text.data(), count);
    detail[count] = '\0';
}

int sodium_ready()
{
    // sodium_init() is idempotent and thread-safe; it picks the fastest implementations.
    return sodium_init() < 0 ? CHARTER_E_INTERNAL : CHARTER_OK;
}

int optional_out(std::optional<int64_t> const& value, int64_t* out)
{
    if (!value)
        return 0;
    if (out)
        *out = *value;
    return 1;
}

int set_string(charter_startup* check, char const* value, std::string charter_startup::*field)
{
    if (!check || !value)
        return CHARTER_E_INVALID_ARGUMENT;
    return guarded([&] {
        check->*field = value;
        return int(CHARTER_OK);
    });
}

charter_startup_result::Place const* place_at(charter_startup_result const* result, size_t index)
{
    return result && index < result->places.size() ? &result->places[index] : nullptr;
}

}

extern "C" {

char const* charter_version(void)
{
    return CHARTER_VERSION_STRING;
}

char const* charter_status_string(int status)
{
    return charter::format::status_text(status);
}

charter_verifier* charter_verifier_new(char const* product)
{
    if (!product || !*product || sodium_ready() != CHARTER_OK)
        return nullptr;
    return guarded([&] {
        auto verifier = std::make_unique<charter_verifier>();
        verifier->product = product;
        return verifier.release();
    });
}

void charter_verifier_free(charter_verifier* verifier)
{
    delete verifier;
}

int charter_verifier_add_key(charter_verifier* verifier, char const* paserk_public)
{
    if (!verifier || !paserk_public)
        return CHARTER_E_INVALID_ARGUMENT;
    return guarded([&] {
        auto key = decode_paserk_public(paserk_public);
        if (!key)
            return int(CHARTER_E_BAD_KEY);
        std::string kid = paserk_pid(*key);
        for (auto const& trusted : verifier->keys) {
            if (trusted.kid == kid)
                return int(CHARTER_OK);
        }
        verifier->keys.push_back(charter_verifier::TrustedKey { *key, std::move(kid) });
        return int(CHARTER_OK);
    });
}

int charter_verifier_set_leeway(charter_verifier* verifier, int64_t seconds)
{
    if (!verifier || seconds < 0 || seconds > int64_t(86400) * 365)
        return CHARTER_E_INVALID_ARGUMENT;
    verifier->leeway = seconds;
    return CHARTER_OK;
}

int charter_verifier_set_build_time(charter_verifier* verifier, int64_t unix_seconds)
{
    if (!verifier)
        return CHARTER_E_INVALID_ARGUMENT;
    verifier->build_time = unix_seconds;
    return CHARTER_OK;
}

int charter_verifier_set_revocation_list(charter_verifier* verifier, char const* token, size_t token_size, char* detail,
    size_t detail_size)
{
    if (!verifier || !token)
        return CHARTER_E_INVALID_ARGUMENT;
    return guarded([&] {
        std::string message;
        RevocationList list;
        int status = load_revocation_list(*verifier, std::string_view(token, token_size), list, message);
        if (status != CHARTER_OK) {
            write_detail(detail, detail_size, message);
            return status;
        }
        verifier->revocations = std::move(list);
        write_detail(detail, detail_size, "");
        return int(CHARTER_OK);
    });
}

int charter_verify(charter_verifier const* verifier, char const* token, size_t token_size, int64_t now,
    charter_license** license_out, char* detail, size_t detail_size)
{
    if (license_out)
        *license_out = nullptr;
    if (!verifier || !token) {
        write_detail(detail, detail_size, "verifier and token must not be NULL");
        return CHARTER_E_INVALID_ARGUMENT;
    }
    std::string message;
    int status = guarded([&] { return verify(*verifier, std::string_view(token, token_size), now, nullptr, license_out, message); });
    if (status == CHARTER_E_NO_MEMORY || status == CHARTER_E_INTERNAL)
        message = charter_status_string(status);
    write_detail(detail, detail_size, message);
    return status;
}

void charter_license_free(charter_license* license)
{
    delete license;
}

charter_license* charter_license_copy(charter_license const* license)
{
    if (!license)
        return nullptr;
    return guarded([&] {
        return new charter_license(*license);
    });
}

char const* charter_license_id(charter_license const* license) { return license ? license->claims.license_id.c_str() : nullptr; }
char const* charter_license_customer(charter_license const* license) { return license ? license->claims.customer.c_str() : nullptr; }
char const* charter_license_issuer(charter_license const* license) { return license ? license->claims.issuer.c_str() : nullptr; }
char const* charter_license_product(charter_license const* license) { return license ? license->claims.product.c_str() : nullptr; }
char const* charter_license_kid(charter_license const* license) { return license ? license->kid.c_str() : nullptr; }
char const* charter_license_claims_json(charter_license const* license) { return license ? license->claims_json.c_str() : nullptr; }

char const* charter_license_name(charter_license const* license)
{
    return license && license->claims.name ? license->claims.name->c_str() : nullptr;
}

int64_t charter_license_issued_at(charter_license const* license)
{
    return license ? license->claims.issued_at : 0;
}

int charter_license_not_before(charter_license const* license, int64_t* out) { return license ? optional_out(license->claims.not_before, out) : 0; }
int charter_license_expires_at(charter_license const* license, int64_t* out) { return license ? optional_out(license->claims.expires_at, out) : 0; }
int charter_license_updates_until(charter_license const* license, int64_t* out) { return license ? optional_out(license->claims.updates_until, out) : 0; }
int charter_license_seats(charter_license const* license, int64_t* out) { return license ? optional_out(license->claims.seats, out) : 0; }

int charter_license_has_entitlement(charter_license const* license, char const* name)
{
    if (!license || !name)
        return 0;
    auto const& entitlements = license->claims.entitlements;
    return std::find(entitlements.begin(), entitlements.end(), std::string_view(name)) != entitlements.end() ? 1 : 0;
}

size_t charter_license_entitlement_count(charter_license const* license)
{
    return license ? license->claims.entitlements.size() : 0;
}

char const* charter_license_entitlement(charter_license const* license, size_t index)
{
    if (!license || index >= license->claims.entitlements.size())
        return nullptr;
    return license->claims.entitlements[index].c_str();
}

int charter_verify_activation(charter_verifier const* verifier, char const* token, size_t token_size, void const* fingerprint,
    size_t fingerprint_size, int64_t now, int64_t leeway, charter_activation** activation_out, char* detail, size_t detail_size)
{
    if (activation_out)
        *activation_out = nullptr;
    if (!verifier || !token || !fingerprint) {
        write_detail(detail, detail_size, "verifier, token and fingerprint must not be NULL");
        return CHARTER_E_INVALID_ARGUMENT;
    }
    if (fingerprint_size == 0 || fingerprint_size > CHARTER_MAX_FINGERPRINT_SIZE) {
        write_detail(detail, detail_size, "the fingerprint must be 1 to 256 bytes");
        return CHARTER_E_INVALID_ARGUMENT;
    }
    if (leeway < 0 || leeway > charter::internal::max_leeway) {
        write_detail(detail, detail_size, "the leeway must be 0 to 31536000 seconds");
        return CHARTER_E_INVALID_ARGUMENT;
    }
    std::string message;
    int status = guarded([&] {
        return verify_activation(*verifier, std::string_view(token, token_size),
            std::string_view(static_cast<char const*>(fingerprint), fingerprint_size), now, leeway, activation_out, message);
    });
    if (status == CHARTER_E_NO_MEMORY || status == CHARTER_E_INTERNAL)
        message = charter_status_string(status);
    write_detail(detail, detail_size, message);
    return status;
}

void charter_activation_free(charter_activation* activation)
{
    delete activation;
}

charter_activation* charter_activation_copy(charter_activation const* activation)
{
    if (!activation)
        return nullptr;
    return guarded([&] { return new charter_activation(*activation); });
}

char const* charter_activation_id(charter_activation const* a) { return a ? a->claims.activation_id.c_str() : nullptr; }
char const* charter_activation_license_id(charter_activation const* a) { return a ? a->claims.license_id.c_str() : nullptr; }
char const* charter_activation_issuer(charter_activation const* a) { return a ? a->claims.issuer.c_str() : nullptr; }
char const* charter_activation_product(charter_activation const* a) { return a ? a->claims.product.c_str() : nullptr; }
char const* charter_activation_fingerprint(charter_activation const* a) { return a ? a->claims.fingerprint.c_str() : nullptr; }
char const* charter_activation_kid(charter_activation const* a) { return a ? a->kid.c_str() : nullptr; }
char const* charter_activation_claims_json(charter_activation const* a) { return a ? a->claims_json.c_str() : nullptr; }
int64_t charter_activation_seat(charter_activation const* a) { return a ? a->claims.seat : 0; }
int64_t charter_activation_issued_at(charter_activation const* a) { return a ? a->claims.issued_at : 0; }
int charter_activation_lease_ends_at(charter_activation const* a, int64_t* out) { return a ? optional_out(a->claims.lease_ends_at, out) : 0; }

charter_startup* charter_startup_new(charter_verifier const* verifier)
{
    if (!verifier)
        return nullptr;
    return guarded([&] {
        auto* check = new charter_startup;
        check->verifier = verifier;
        return check;
    });
}

void charter_startup_free(charter_startup* check)
{
    delete check;
}

int charter_startup_set_env(charter_startup* check, char const* name)
{
    if (!name || !*name || std::strchr(name, '='))
        return CHARTER_E_INVALID_ARGUMENT;
    return set_string(check, name, &charter_startup::env_name);
}

int charter_startup_add_file(charter_startup* check, char const* path)
{
    if (!check || !path || !*path)
        return CHARTER_E_INVALID_ARGUMENT;
    return guarded([&] {
        check->sources.push_back({ CHARTER_SOURCE_FILE, path, std::nullopt });
        return int(CHARTER_OK);
    });
}

int charter_startup_add_value(charter_startup* check, char const* name, char const* value)
{
    if (!check || !name || !*name)
        return CHARTER_E_INVALID_ARGUMENT;
    return guarded([&] {
        charter_startup::Source source { CHARTER_SOURCE_VALUE, name, std::nullopt };
        if (value)
            source.value = value;
        check->sources.push_back(std::move(source));
        return int(CHARTER_OK);
    });
}

int charter_startup_set_mode(charter_startup* check, charter_startup_mode mode)
{
    if (!check || (mode != CHARTER_MODE_ENFORCE && mode != CHARTER_MODE_WARN))
        return CHARTER_E_INVALID_ARGUMENT;
    check->mode = mode;
    return CHARTER_OK;
}

int charter_startup_set_grace_days(charter_startup* check, int days)
{
    if (!check || days < 0 || days > charter::internal::max_grace_days)
        return CHARTER_E_INVALID_ARGUMENT;
    check->grace_days = days;
    return CHARTER_OK;
}

int charter_startup_set_renewal_warning_days(charter_startup* check, int days)
{
    if (!check || days < 0 || days > charter::internal::max_renewal_warning_days)
        return CHARTER_E_INVALID_ARGUMENT;
    check->renewal_warning_days = days;
    return CHARTER_OK;
}

int charter_startup_set_revocation_file(charter_startup* check, char const* path)
{
    return set_string(check, path, &charter_startup::revocation_file);
}

int charter_startup_set_renew_url(charter_startup* check, char const* url)
{
    return set_string(check, url, &charter_startup::renew_url);
}

int charter_startup_check(charter_startup const* check, int64_t now, charter_startup_result** out)
{
    if (out)
        *out = nullptr;
    if (!check || !out)
        return CHARTER_E_INVALID_ARGUMENT;
    return guarded([&] {
        auto result = std::make_unique<charter_startup_result>();
        charter::internal::run_check(*check, now, *result);
        int status = result->valid ? int(CHARTER_OK) : result->status;
        *out = result.release();
        return status;
    });
}

void charter_startup_result_free(charter_startup_result* result)
{
    delete result;
}

int charter_startup_result_status(charter_startup_result const* result)
{
    return result ? result->status : CHARTER_E_INVALID_ARGUMENT;
}

int charter_startup_result_valid(charter_startup_result const* result)
{
    return result && result->valid ? 1 : 0;
}

int charter_startup_result_warning(charter_startup_result const* result)
{
    return result && result->warning ? 1 : 0;
}

charter_source_kind charter_startup_result_source_kind(charter_startup_result const* result)
{
    return result ? result->source_kind : CHARTER_SOURCE_NONE;
}

char const* charter_startup_result_source(charter_startup_result const* result)
{
    return result && result->source_kind != CHARTER_SOURCE_NONE ? result->source.c_str() : nullptr;
}

charter_license const* charter_startup_result_license(charter_startup_result const* result)
{
    return result ? result->license.get() : nullptr;
}

char const* charter_startup_result_message(charter_startup_result const* result)
{
    return result ? result->message.c_str() : nullptr;
}

char const* charter_startup_result_diagnostic(charter_startup_result const* result)
{
    return result ? result->diagnostic.c_str() : nullptr;
}

size_t charter_startup_result_place_count(charter_startup_result const* result)
{
    return result ? result->places.size() : 0;
}

charter_source_kind charter_startup_result_place_kind(charter_startup_result const* result, size_t index)
{
    auto const* place = place_at(result, index);
    return place ? place->kind : CHARTER_SOURCE_NONE;
}

char const* charter_startup_result_place_name(charter_startup_result const* result, size_t index)
{
    auto const* place = place_at(result, index);
    return place ? place->name.c_str() : nullptr;
}

char const* charter_startup_result_place_path(charter_startup_result const* result, size_t index)
{
    auto const* place = place_at(result, index);
    return place ? place->path.c_str() : nullptr;
}

int charter_startup_result_place_state(charter_startup_result const* result, size_t index)
{
    auto const* place = place_at(result, index);
    return place ? int(place->state) : -1;
}

char const* charter_startup_result_place_detail(charter_startup_result const* result, size_t index)
{
    auto const* place = place_at(result, index);
    return place ? place->detail.c_str() : nullptr;
}

}

// The startup check's activation mode (charter_seat_* in verify.h): activate this machine with
// the license server, renew the lease with heartbeats, release it at exit, and say from the last
// good activation token whether the product may keep running.
//
// The library never touches the network: the product's transport sends each request. The seat
// locks its state while it reads or changes it, never while the transport runs, so that a check
// from the product's main thread never waits for a heartbeat stuck on the network.

#include "charter/verify.h"

#include "charter/format/claims.hpp"
#include "charter/format/rfc3339.hpp"
#include "startup_check.hpp"
#include "verifier_internal.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

using namespace charter::format;

struct charter_seat {
    charter_startup const* check { nullptr };
    charter_transport transport { nullptr };
    void* context { nullptr };
    std::string fingerprint;
    std::string label; // empty: none
    std::optional<int64_t> processes;
    std::optional<int64_t> cores;
    int64_t grace { 0 };
    int64_t leeway { 0 };

    struct State {
        // From the startup check of the last activation.
        std::string key;
        charter_source_kind source_kind { CHARTER_SOURCE_NONE };
        std::string source;
        std::unique_ptr<charter_license, charter_startup_result::LicenseFree> license;
        // The last good activation token, verified when it arrived.
        std::string token;
        std::unique_ptr<charter_activation, charter_startup_result::ActivationFree> activation;
        int64_t renewed_at { 0 };
        // The contacts failing since (nullopt: the last one succeeded), what failed and why.
        std::optional<int64_t> failing_since;
        int failure_status { CHARTER_OK };
        std::string failure_what;
        std::string failure_why;
        int64_t next_heartbeat { 0 };
    };
    mutable std::mutex mutex;
    State state;
};

namespace {

constexpr size_t response_capacity = 65536;

struct Reply {
    bool reached { false };
    int http_status { 0 };
    std::string body;
};

// Sends one request through the product's transport (no lock held).
Reply send(charter_seat const& seat, char const* method, std::string const& path, std::string const& key,
    std::optional<std::string> const& body)
{
    std::string authorization = "Bearer " + key;
    charter_request request { method, path.c_str(), authorization.c_str(), body ? body->c_str() : nullptr };
    std::vector<char> response(response_capacity, '\0');
    int http_status = 0;
    Reply reply;
    reply.reached = seat.transport(seat.context, &request, response.data(), response.size(), &http_status) == 0;
    response.back() = '\0';
    reply.body = response.data();
    reply.http_status = http_status;
    return reply;
}

std::string activation_body(charter_seat const& seat)
{
    nlohmann::json body = { { "fingerprint", seat.fingerprint } };
    if (!seat.label.empty())
        body["label"] = seat.label;
    if (seat.processes)
        body["processes"] = *seat.processes;
    if (seat.cores)
        body["cores"] = *seat.cores;
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The sentence of a JSON error answer ({"error":{"code":…,"message":…}}), or "HTTP <status>".
std::string server_message(Reply const& reply)
{
    auto json = nlohmann::json::parse(reply.body, nullptr, false);
    if (json.is_object() && json.contains("error") && json["error"].is_object() && json["error"].contains("message")
        && json["error"]["message"].is_string())
        return json["error"]["message"].get<std::string>() + " (HTTP " + std::to_string(reply.http_status) + ")";
    return "HTTP " + std::to_string(reply.http_status);
}

std::string plural(int64_t count, char const* unit)
{
    return std::to_string(count) + " " + unit + (count == 1 ? "" : "s");
}

// "1 hour", "15 minutes", "90 seconds".
std::string duration(int64_t seconds)
{
    if (seconds >= 86400 && seconds % 86400 == 0)
        return plural(seconds / 86400, "day");
    if (seconds >= 3600 && seconds % 3600 == 0)
        return plural(seconds / 3600, "hour");
    if (seconds >= 60 && seconds % 60 == 0)
        return plural(seconds / 60, "minute");
    return plural(seconds, "second");
}

int64_t lease_length(charter_activation const* activation)
{
    if (!activation || !activation->claims.lease_ends_at)
        return 0;
    return std::max<int64_t>(0, *activation->claims.lease_ends_at - activation->claims.issued_at);
}

// After a failure, try again after a quarter of the lease (1 s to 1 min), so that several tries
// fit before it ends.
int64_t retry_interval(charter_activation const* activation)
{
    int64_t lease = lease_length(activation);
    return lease > 0 ? std::clamp<int64_t>(lease / 4, 1, 60) : 10;
}

void fail(charter_seat& seat, int64_t now, int status, std::string what, std::string why)
{
    auto& state = seat.state;
    if (!state.failing_since)
        state.failing_since = now;
    state.failure_status = status;
    state.failure_what = std::move(what);
    state.failure_why = std::move(why);
    state.next_heartbeat = state.activation && !state.activation->claims.lease_ends_at ? 0 : now + retry_interval(state.activation.get());
}

// Takes a 200 or 201 answer: its token must verify for this product, machine and license.
void accept(charter_seat& seat, int64_t now, Reply const& reply)
{
    auto json = nlohmann::json::parse(reply.body, nullptr, false);
    if (!json.is_object() || !json.contains("token") || !json["token"].is_string()) {
        fail(seat, now, CHARTER_E_ACTIVATION_REFUSED, "the license server's answer was not understood",
            "HTTP " + std::to_string(reply.http_status) + " without an activation token");
        return;
    }
    std::string token = json["token"].get<std::string>();
    charter_activation* raw = nullptr;
    std::string detail;
    int status = charter::internal::verify_activation(*seat.check->verifier, token, seat.fingerprint, now, seat.leeway, &raw, detail);
    std::unique_ptr<charter_activation, charter_startup_result::ActivationFree> activation(raw);
    auto& state = seat.state;
    if (status == CHARTER_OK && state.license && activation->claims.license_id != state.license->claims.license_id) {
        status = CHARTER_E_ACTIVATION_REFUSED;
        detail = "activation " + activation->claims.activation_id + " is for license " + activation->claims.license_id + ", not "
            + state.license->claims.license_id;
    }
    if (status != CHARTER_OK) {
        fail(seat, now, status, "the license server's activation token was refused", detail);
        return;
    }
    state.token = std::move(token);
    state.activation = std::move(activation);
    state.renewed_at = now;
    state.failing_since.reset();
    state.failure_status = CHARTER_OK;
    state.failure_what.clear();
    state.failure_why.clear();
    auto const& lease_end = state.activation->claims.lease_ends_at;
    // A third of the lease: two more tries fit before it ends if this one fails.
    state.next_heartbeat = lease_end ? now + std::max<int64_t>(1, (*lease_end - now) / 3) : 0;
}

// Takes the answer to an activation or a heartbeat (not 404/410 to a heartbeat: the caller
// activates again then).
void settle(charter_seat& seat, int64_t now, Reply const& reply)
{
    if (!reply.reached) {
        fail(seat, now, CHARTER_E_UNREACHABLE, "the license server could not be reached",
            reply.body.empty() ? "no answer" : reply.body);
    } else if (reply.http_status == 200 || reply.http_status == 201) {
        accept(seat, now, reply);
    } else if (reply.http_status == 409) {
        fail(seat, now, CHARTER_E_SEATS_EXHAUSTED, "the license server has no free seat for this machine", server_message(reply));
    } else if (reply.http_status >= 500 || reply.http_status == 429) {
        // A proxy in front of a stopped server, or a server too busy: not an answer about the seat.
        fail(seat, now, CHARTER_E_UNREACHABLE, "the license server could not be reached", server_message(reply));
    } else {
        fail(seat, now, CHARTER_E_ACTIVATION_REFUSED, "the license server refused the activation", server_message(reply));
    }
}

// The outcome at `now` from the last good token and the last contact (lock held).
void evaluate(charter_seat const& seat, int64_t now, charter_startup_result& result)
{
    auto const& state = seat.state;
    std::string const& product = seat.check->verifier->product;
    result.source_kind = state.source_kind;
    result.source = state.source;
    if (state.license)
        result.license.reset(new charter_license(*state.license));
    std::string since = state.failing_since
        ? state.failure_what + " since " + format_rfc3339(*state.failing_since) + " (" + state.failure_why + ")"
        : "";

    if (!state.activation) {
        result.valid = false;
        result.status = state.failing_since ? state.failure_status : CHARTER_E_INVALID_ARGUMENT;
        result.message = state.failing_since
            ? product + " could not activate this machine: " + state.failure_what + " (" + state.failure_why + ")"
            : product + " has not activated this machine (no activation was attempted)";
    } else {
        auto const& claims = state.activation->claims;
        result.activation.reset(new charter_activation(*state.activation));
        std::string seat_text = "seat " + std::to_string(claims.seat) + " of license " + claims.license_id;
        if (!claims.lease_ends_at) {
            result.valid = true;
            result.status = state.failing_since ? state.failure_status : CHARTER_OK;
            result.warning = state.failing_since.has_value();
            result.message = state.failing_since
                ? since + "; " + seat_text + " is node-locked, so " + product + " keeps working"
                : product + " holds " + seat_text + " on this machine (node-locked)";
        } else {
            int64_t lease_end = *claims.lease_ends_at;
            // The grace period is for outages: when the server answered and refused (no seat,
            // a suspended license), the product stops at the lease end.
            bool outage = state.failing_since && state.failure_status == CHARTER_E_UNREACHABLE;
            int64_t grace_seconds = outage ? seat.grace : 0;
            int64_t until = lease_end + seat.leeway + grace_seconds;
            result.valid_until = until;
            std::string grace = grace_seconds > 0 ? " (grace period of " + duration(grace_seconds) + ")" : "";
            if (now <= lease_end + seat.leeway) {
                result.valid = true;
                result.status = state.failing_since ? state.failure_status : CHARTER_OK;
                result.warning = state.failing_since.has_value();
                result.message = state.failing_since ? since + "; " + product + " keeps working until " + format_rfc3339(until)
                                                     : product + " holds " + seat_text + " until " + format_rfc3339(lease_end);
            } else {
                result.status = CHARTER_E_LEASE_EXPIRED;
                std::string lapsed = state.failing_since
                    ? since + ", and the lease of " + seat_text + " ended at " + format_rfc3339(lease_end)
                    : "the lease of " + seat_text + " ended at " + format_rfc3339(lease_end) + " without a renewal";
                if (now <= until) {
                    result.valid = true;
                    result.warning = true;
                    result.message = lapsed + "; " + product + " keeps working until " + format_rfc3339(until) + grace;
                } else {
                    result.valid = false;
                    result.message = lapsed + "; " + product + " may not run after " + format_rfc3339(until) + grace
                        + "; it works again once the license server renews the seat";
                }
            }
        }
    }

    std::string diagnostic = "seat of " + product + " at " + format_rfc3339(now) + "\n";
    if (state.activation) {
        auto const& claims = state.activation->claims;
        diagnostic += "activation " + claims.activation_id + ": license " + claims.license_id + ", seat " + std::to_string(claims.seat)
            + ", fingerprint sha256 " + claims.fingerprint + ", issued " + format_rfc3339(claims.issued_at) + ", lease "
            + (claims.lease_ends_at ? "until " + format_rfc3339(*claims.lease_ends_at) : std::string("node-locked")) + "\n";
        diagnostic += "last renewal: " + format_rfc3339(state.renewed_at) + "\n";
    } else {
        diagnostic += "no activation held\n";
    }
    if (state.failing_since)
        diagnostic += std::string("last contact: ") + charter_status_string(state.failure_status) + " since "
            + format_rfc3339(*state.failing_since) + ": " + state.failure_what + " (" + state.failure_why + ")\n";
    diagnostic += "leeway " + duration(seat.leeway) + ", grace period " + duration(seat.grace) + "\n";
    diagnostic += std::string("outcome: ") + (!result.valid ? "refused" : result.warning ? "valid with a warning" : "valid") + ": "
        + result.message + "\n";
    result.diagnostic = std::move(diagnostic);
}

// POST /v1/activations with the key the startup check found, then settles (takes the lock).
void activate_with_key(charter_seat& seat, int64_t now, std::string const& key)
{
    Reply reply = send(seat, "POST", "/v1/activations", key, activation_body(seat));
    std::lock_guard lock(seat.mutex);
    settle(seat, now, reply);
}

template<typename Function>
int guarded_result(charter_startup_result** out, Function function)
{
    if (out)
        *out = nullptr;
    try {
        auto result = std::make_unique<charter_startup_result>();
        function(*result);
        int status = result->valid ? int(CHARTER_OK) : result->status;
        if (out)
            *out = result.release();
        return status;
    } catch (std::bad_alloc const&) {
        return CHARTER_E_NO_MEMORY;
    } catch (...) {
        return CHARTER_E_INTERNAL;
    }
}

}

extern "C" {

charter_seat* charter_seat_new(charter_startup const* check, charter_transport transport, void* context)
{
    if (!check || !transport)
        return nullptr;
    try {
        auto* seat = new charter_seat;
        seat->check = check;
        seat->transport = transport;
        seat->context = context;
        return seat;
    } catch (...) {
        return nullptr;
    }
}

void charter_seat_free(charter_seat* seat)
{
    delete seat;
}

int charter_seat_set_fingerprint(charter_seat* seat, void const* fingerprint, size_t size)
{
    if (!seat || !fingerprint || size == 0 || size > CHARTER_MAX_FINGERPRINT_SIZE)
        return CHARTER_E_INVALID_ARGUMENT;
    try {
        std::string value(static_cast<char const*>(fingerprint), size);
        (void)nlohmann::json(value).dump(); // sent as a JSON string: it must be UTF-8 (throws otherwise)
        seat->fingerprint = std::move(value);
        return CHARTER_OK;
    } catch (std::bad_alloc const&) {
        return CHARTER_E_NO_MEMORY;
    } catch (...) {
        return CHARTER_E_INVALID_ARGUMENT;
    }
}

int charter_seat_set_label(charter_seat* seat, char const* label)
{
    if (!seat || !label)
        return CHARTER_E_INVALID_ARGUMENT;
    try {
        std::string value = label;
        (void)nlohmann::json(value).dump();
        seat->label = std::move(value);
        return CHARTER_OK;
    } catch (std::bad_alloc const&) {
        return CHARTER_E_NO_MEMORY;
    } catch (...) {
        return CHARTER_E_INVALID_ARGUMENT;
    }
}

int charter_seat_set_processes(charter_seat* seat, int64_t processes)
{
    if (!seat || processes < 1)
        return CHARTER_E_INVALID_ARGUMENT;
    seat->processes = processes;
    return CHARTER_OK;
}

int charter_seat_set_cores(charter_seat* seat, int64_t cores)
{
    if (!seat || cores < 1)
        return CHARTER_E_INVALID_ARGUMENT;
    seat->cores = cores;
    return CHARTER_OK;
}

int charter_seat_set_grace_seconds(charter_seat* seat, int64_t seconds)
{
    if (!seat || seconds < 0 || seconds > charter::internal::max_leeway)
        return CHARTER_E_INVALID_ARGUMENT;
    seat->grace = seconds;
    return CHARTER_OK;
}

int charter_seat_set_leeway(charter_seat* seat, int64_t seconds)
{
    if (!seat || seconds < 0 || seconds > charter::internal::max_leeway)
        return CHARTER_E_INVALID_ARGUMENT;
    seat->leeway = seconds;
    return CHARTER_OK;
}

int charter_seat_activate(charter_seat* seat, int64_t now, charter_startup_result** out)
{
    if (out)
        *out = nullptr;
    if (!seat || !out || seat->fingerprint.empty())
        return CHARTER_E_INVALID_ARGUMENT;
    return guarded_result(out, [&](charter_startup_result& result) {
        // The license first, offline: a seat is only asked for with a valid license key.
        charter::internal::run_check(*seat->check, now, result);
        if (!result.valid || result.key.empty())
            return;
        {
            std::lock_guard lock(seat->mutex);
            seat->state.key = result.key;
            seat->state.source_kind = result.source_kind;
            seat->state.source = result.source;
            seat->state.license.reset(result.license ? new charter_license(*result.license) : nullptr);
        }
        activate_with_key(*seat, now, result.key);
        charter_startup_result seat_result;
        std::lock_guard lock(seat->mutex);
        evaluate(*seat, now, seat_result);
        seat_result.diagnostic = result.diagnostic + seat_result.diagnostic;
        if (result.warning) { // a license in its grace period or ending soon: say that too
            seat_result.warning = seat_result.warning || seat_result.valid;
            seat_result.message += "; " + result.message;
        }
        result = std::move(seat_result);
    });
}

int charter_seat_heartbeat(charter_seat* seat, int64_t now, charter_startup_result** out)
{
    if (out)
        *out = nullptr;
    if (!seat || !out)
        return CHARTER_E_INVALID_ARGUMENT;
    std::string key, id;
    {
        std::lock_guard lock(seat->mutex);
        key = seat->state.key;
        if (seat->state.activation)
            id = seat->state.activation->claims.activation_id;
    }
    if (key.empty()) // never activated: the startup check finds the key
        return charter_seat_activate(seat, now, out);
    return guarded_result(out, [&](charter_startup_result& result) {
        bool renewed = false;
        if (!id.empty()) {
            Reply reply = send(*seat, "POST", "/v1/activations/" + id + "/heartbeat", key, std::nullopt);
            // An expired or released activation (410), or one the server no longer knows (404):
            // activate again, the same fingerprint getting a seat if one is free.
            if (!reply.reached || (reply.http_status != 404 && reply.http_status != 410)) {
                std::lock_guard lock(seat->mutex);
                settle(*seat, now, reply);
                renewed = true;
            }
        }
        if (!renewed)
            activate_with_key(*seat, now, key);
        std::lock_guard lock(seat->mutex);
        evaluate(*seat, now, result);
    });
}

int charter_seat_check(charter_seat const* seat, int64_t now, charter_startup_result** out)
{
    if (out)
        *out = nullptr;
    if (!seat || !out)
        return CHARTER_E_INVALID_ARGUMENT;
    return guarded_result(out, [&](charter_startup_result& result) {
        std::lock_guard lock(seat->mutex);
        evaluate(*seat, now, result);
    });
}

int charter_seat_release(charter_seat* seat, char* detail, size_t detail_size)
{
    auto write = [&](std::string const& text) {
        if (detail && detail_size > 0) {
            size_t count = std::min(text.size(), detail_size - 1);
            std::copy_n(text.data(), count, detail);
            detail[count] = '\0';
        }
    };
    if (!seat) {
        write("seat must not be NULL");
        return CHARTER_E_INVALID_ARGUMENT;
    }
    try {
        std::string key, id;
        {
            std::lock_guard lock(seat->mutex);
            key = seat->state.key;
            if (seat->state.activation)
                id = seat->state.activation->claims.activation_id;
        }
        if (id.empty()) {
            write("");
            return CHARTER_OK;
        }
        Reply reply = send(*seat, "DELETE", "/v1/activations/" + id, key, std::nullopt);
        if (!reply.reached) {
            write("activation " + id + " was not released: the license server could not be reached ("
                + (reply.body.empty() ? std::string("no answer") : reply.body) + "); its lease ends by itself");
            return CHARTER_E_UNREACHABLE;
        }
        if (reply.http_status != 204 && reply.http_status != 200 && reply.http_status != 404) {
            write("activation " + id + " was not released: " + server_message(reply) + "; its lease ends by itself");
            return CHARTER_E_ACTIVATION_REFUSED;
        }
        std::lock_guard lock(seat->mutex);
        seat->state.activation.reset();
        seat->state.token.clear();
        seat->state.failing_since.reset();
        seat->state.next_heartbeat = 0;
        write("");
        return CHARTER_OK;
    } catch (std::bad_alloc const&) {
        write("out of memory");
        return CHARTER_E_NO_MEMORY;
    } catch (...) {
        write("internal error");
        return CHARTER_E_INTERNAL;
    }
}

int64_t charter_seat_next_heartbeat(charter_seat const* seat)
{
    if (!seat)
        return 0;
    std::lock_guard lock(seat->mutex);
    return seat->state.next_heartbeat;
}

charter_activation const* charter_startup_result_activation(charter_startup_result const* result)
{
    return result ? result->activation.get() : nullptr;
}

int charter_startup_result_valid_until(charter_startup_result const* result, int64_t* out)
{
    if (!result || !result->valid_until)
        return 0;
    if (out)
        *out = *result->valid_until;
    return 1;
}

}

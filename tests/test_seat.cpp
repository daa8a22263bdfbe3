// The startup check's activation mode (charter::Seat over charter_seat_*): the requests it
// builds, the tokens it accepts or refuses, and its answer to "may I keep running" at each
// boundary: the lease end, the lease end plus leeway and grace, a server that comes back.
//
// The server side is a transport in this test that answers as the activation API does, with
// tokens signed here (support/activation_tokens.hpp); tests/examples/ runs a real product
// against a real charter-server.

#include "charter/verify.hpp"
#include "support/activation_tokens.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <deque>
#include <mutex>
#include <thread>

using namespace charter;
using charter::testing::ActivationFields;
using charter::testing::contains;
using charter::testing::sign_activation;

namespace {

constexpr int64_t t0 = 1795860000; // 2026-11-28T10:00:00Z
constexpr char const* license_id = "lic_TESTLICENSE0000000000001";

struct Sent {
    std::string method;
    std::string path;
    std::string authorization;
    std::optional<std::string> body;
};

struct Fixture {
    keygen::SigningKey key = *keygen::SigningKey::generate();
    std::string license_key;
    Verifier verifier { "acme-pro" };
    StartupCheck check { verifier };
    std::vector<Sent> sent;
    // The answers, in order; nullopt: the server cannot be reached.
    std::deque<std::optional<SeatResponse>> answers;

    Fixture()
    {
        REQUIRE(verifier.add_key(key.paserk_public().c_str()) == CHARTER_OK);
        keygen::LicenseClaims claims;
        claims.issuer = "Acme Inc.";
        claims.customer = "cus_1";
        claims.license_id = license_id;
        claims.product = "acme-pro";
        claims.issued_at = t0 - 86400;
        claims.seats = 10;
        license_key = keygen::sign_license(key, claims).token;
        check.value("the test's key", license_key);
    }

    SeatTransport transport()
    {
        return [this](SeatRequest const& request, std::string& reason) -> std::optional<SeatResponse> {
            sent.push_back({ std::string(request.method), std::string(request.path), std::string(request.authorization),
                request.body ? std::optional<std::string>(std::string(*request.body)) : std::nullopt });
            REQUIRE_FALSE(answers.empty());
            auto answer = answers.front();
            answers.pop_front();
            if (!answer)
                reason = "connection refused";
            return answer;
        };
    }

    // The answer to an activation or heartbeat: the activation object with a fresh token.
    SeatResponse granted(int status, int64_t issued_at, std::optional<int64_t> lease = 60, ActivationFields fields = {})
    {
        fields.license_id = license_id;
        fields.issued_at = issued_at;
        fields.lease_ends_at = lease ? std::optional<int64_t>(issued_at + *lease) : std::nullopt;
        fields.seat = 2;
        nlohmann::json body = { { "id", fields.activation_id }, { "license", license_id }, { "product", "acme-pro" }, { "seat", 2 },
            { "label", nullptr }, { "lease_ends_at", nullptr }, { "token", sign_activation(key, fields) } };
        return SeatResponse { status, body.dump() };
    }

    static SeatResponse error(int status, std::string const& code, std::string const& message)
    {
        return SeatResponse { status, nlohmann::json { { "error", { { "code", code }, { "message", message } } } }.dump() };
    }
};

}

TEST_CASE_METHOD(Fixture, "activation sends the license key and the fingerprint, and holds the seat until the lease end")
{
    Seat seat(check, transport());
    seat.fingerprint("machine-1").label("build-7").processes(4).grace_seconds(120);
    REQUIRE(seat.error() == CHARTER_OK);
    answers.push_back(granted(201, t0));
    auto result = seat.activate(t0);
    REQUIRE(sent.size() == 1);
    CHECK(sent[0].method == "POST");
    CHECK(sent[0].path == "/v1/activations");
    CHECK(sent[0].authorization == "Bearer " + license_key);
    REQUIRE(sent[0].body);
    CHECK(nlohmann::json::parse(*sent[0].body) == nlohmann::json { { "fingerprint", "machine-1" }, { "label", "build-7" }, { "processes", 4 } });

    REQUIRE(result.valid);
    CHECK_FALSE(result.warning);
    CHECK(result.status == CHARTER_OK);
    CHECK(result.message == "acme-pro holds seat 2 of license lic_TESTLICENSE0000000000001 until 2026-11-28T10:01:00Z");
    REQUIRE(result.activation);
    CHECK(result.activation->id() == "act_TESTACTIVATION000000001");
    CHECK(result.activation->lease_ends_at() == t0 + 60);
    CHECK(result.valid_until == t0 + 60); // the grace counts only from a failed contact
    REQUIRE(result.license);
    CHECK(result.license->id() == license_id);
    CHECK(contains(result.diagnostic, "activation act_TESTACTIVATION000000001: license lic_TESTLICENSE0000000000001, seat 2"));
    // A third of the lease.
    CHECK(seat.next_heartbeat() == t0 + 20);
    CHECK(seat.check(t0 + 60).valid);
}

TEST_CASE_METHOD(Fixture, "heartbeats renew the lease; an outage warns, then refuses after the grace; the server coming back recovers")
{
    Seat seat(check, transport());
    seat.fingerprint("machine-1").grace_seconds(120).leeway(5);
    answers.push_back(granted(201, t0));
    REQUIRE(seat.activate(t0).valid);

    answers.push_back(granted(200, t0 + 30));
    auto renewed = seat.heartbeat(t0 + 30);
    REQUIRE(sent.size() == 2);
    CHECK(sent[1].method == "POST");
    CHECK(sent[1].path == "/v1/activations/act_TESTACTIVATION000000001/heartbeat");
    CHECK(sent[1].authorization == "Bearer " + license_key);
    CHECK_FALSE(sent[1].body);
    CHECK(renewed.valid);
    CHECK(renewed.activation->lease_ends_at() == t0 + 90);
    CHECK(seat.next_heartbeat() == t0 + 50);

    // The server goes away at t0 + 60: valid with a warning until the lease end + leeway + grace.
    answers.push_back(std::nullopt);
    auto missed = seat.heartbeat(t0 + 60);
    CHECK(missed.valid);
    CHECK(missed.warning);
    CHECK(missed.status == CHARTER_E_UNREACHABLE);
    CHECK(missed.message
        == "the license server could not be reached since 2026-11-28T10:01:00Z (connection refused); acme-pro keeps working until "
           "2026-11-28T10:03:35Z");
    CHECK(missed.valid_until == t0 + 90 + 5 + 120);
    CHECK(seat.next_heartbeat() == t0 + 60 + 15); // a quarter of the 60-second lease

    auto at_lease_end = seat.check(t0 + 95);
    CHECK(at_lease_end.valid);
    CHECK(at_lease_end.status == CHARTER_E_UNREACHABLE);
    auto lapsed = seat.check(t0 + 96);
    CHECK(lapsed.valid);
    CHECK(lapsed.warning);
    CHECK(lapsed.status == CHARTER_E_LEASE_EXPIRED);
    CHECK(lapsed.message
        == "the license server could not be reached since 2026-11-28T10:01:00Z (connection refused), and the lease of seat 2 of "
           "license lic_TESTLICENSE0000000000001 ended at 2026-11-28T10:01:30Z; acme-pro keeps working until 2026-11-28T10:03:35Z "
           "(grace period of 2 minutes)");
    CHECK(seat.check(t0 + 215).valid);
    auto refused = seat.check(t0 + 216);
    CHECK_FALSE(refused.valid);
    CHECK(refused.status == CHARTER_E_LEASE_EXPIRED);
    CHECK(refused.message
        == "the license server could not be reached since 2026-11-28T10:01:00Z (connection refused), and the lease of seat 2 of "
           "license lic_TESTLICENSE0000000000001 ended at 2026-11-28T10:01:30Z; acme-pro may not run after 2026-11-28T10:03:35Z "
           "(grace period of 2 minutes); it works again once the license server renews the seat");
    // A proxy's 502 in front of a stopped server is an outage too, and keeps the first failure's time.
    answers.push_back(SeatResponse { 502, "<html>bad gateway</html>" });
    auto proxied = seat.heartbeat(t0 + 300);
    CHECK_FALSE(proxied.valid);
    CHECK(contains(proxied.message, "could not be reached since 2026-11-28T10:01:00Z (HTTP 502)"));

    // Back: the lease ended on the server too (410), so the seat activates again and recovers.
    answers.push_back(error(410, "activation_expired", "activation act_TESTACTIVATION000000001 expired; activate again"));
    answers.push_back(granted(201, t0 + 400));
    auto back = seat.heartbeat(t0 + 400);
    REQUIRE(sent.size() == 6);
    CHECK(sent[4].path == "/v1/activations/act_TESTACTIVATION000000001/heartbeat");
    CHECK(sent[5].path == "/v1/activations");
    CHECK(back.valid);
    CHECK_FALSE(back.warning);
    CHECK(back.status == CHARTER_OK);
    CHECK(seat.check(t0 + 400).valid);
}

TEST_CASE_METHOD(Fixture, "a refusal of a heartbeat stops the product at the lease end: the grace is for outages")
{
    Seat seat(check, transport());
    seat.fingerprint("machine-1").grace_seconds(3600).leeway(5);
    answers.push_back(granted(201, t0));
    REQUIRE(seat.activate(t0).valid);
    answers.push_back(error(403, "suspended", "license lic_TESTLICENSE0000000000001 is suspended; contact Acme Inc."));
    auto refused = seat.heartbeat(t0 + 20);
    CHECK(refused.valid);
    CHECK(refused.warning);
    CHECK(refused.status == CHARTER_E_ACTIVATION_REFUSED);
    CHECK(refused.message
        == "the license server refused the activation since 2026-11-28T10:00:20Z (license lic_TESTLICENSE0000000000001 is suspended; "
           "contact Acme Inc. (HTTP 403)); acme-pro keeps working until 2026-11-28T10:01:05Z");
    CHECK(refused.valid_until == t0 + 65);
    CHECK(seat.check(t0 + 65).valid);
    auto stopped = seat.check(t0 + 66);
    CHECK_FALSE(stopped.valid);
    CHECK(stopped.message
        == "the license server refused the activation since 2026-11-28T10:00:20Z (license lic_TESTLICENSE0000000000001 is suspended; "
           "contact Acme Inc. (HTTP 403)), and the lease of seat 2 of license lic_TESTLICENSE0000000000001 ended at "
           "2026-11-28T10:01:00Z; acme-pro may not run after 2026-11-28T10:01:05Z; it works again once the license server renews the seat");
}

TEST_CASE_METHOD(Fixture, "no free seat, an unreachable server and a refusal at activation refuse to start")
{
    Seat seat(check, transport());
    seat.fingerprint("machine-1");
    answers.push_back(error(409, "seats_exhausted", "license lic_TESTLICENSE0000000000001 allows 1 machine; held by build-1"));
    auto full = seat.activate(t0);
    CHECK_FALSE(full.valid);
    CHECK(full.status == CHARTER_E_SEATS_EXHAUSTED);
    CHECK(full.message
        == "acme-pro could not activate this machine: the license server has no free seat for this machine (license "
           "lic_TESTLICENSE0000000000001 allows 1 machine; held by build-1 (HTTP 409))");
    CHECK_FALSE(full.activation);

    answers.push_back(std::nullopt);
    auto unreachable = seat.activate(t0);
    CHECK(unreachable.status == CHARTER_E_UNREACHABLE);
    CHECK(unreachable.message == "acme-pro could not activate this machine: the license server could not be reached (connection refused)");

    answers.push_back(error(401, "unauthorized", "the license key is not valid for this server"));
    auto refused = seat.activate(t0);
    CHECK(refused.status == CHARTER_E_ACTIVATION_REFUSED);
    CHECK(contains(refused.message, "the license server refused the activation (the license key is not valid for this server (HTTP 401))"));

    // The heartbeat thread activates when nothing is held yet.
    answers.push_back(granted(201, t0 + 10));
    CHECK(seat.heartbeat(t0 + 10).valid);
    CHECK(sent.back().path == "/v1/activations");
}

TEST_CASE_METHOD(Fixture, "tokens the seat must not accept")
{
    Seat seat(check, transport());
    seat.fingerprint("machine-1");
    SECTION("another machine's token")
    {
        ActivationFields other;
        other.fingerprint = "machine-2";
        answers.push_back(granted(201, t0, 60, other));
        auto result = seat.activate(t0);
        CHECK_FALSE(result.valid);
        CHECK(result.status == CHARTER_E_WRONG_MACHINE);
        CHECK(contains(result.message, "the license server's activation token was refused (activation act_TESTACTIVATION000000001 of "
                                       "license lic_TESTLICENSE0000000000001 belongs to another machine"));
    }
    SECTION("an altered token")
    {
        auto answer = granted(201, t0);
        auto body = nlohmann::json::parse(answer.body);
        std::string token = body["token"];
        token[20] = token[20] == 'A' ? 'B' : 'A';
        body["token"] = token;
        answers.push_back(SeatResponse { 201, body.dump() });
        CHECK(seat.activate(t0).status == CHARTER_E_BAD_SIGNATURE);
    }
    SECTION("another license's seat")
    {
        auto answer = granted(201, t0);
        ActivationFields fields;
        fields.license_id = "lic_OTHER";
        fields.issued_at = t0;
        fields.lease_ends_at = t0 + 60;
        auto body = nlohmann::json::parse(answer.body);
        body["token"] = sign_activation(key, fields);
        answers.push_back(SeatResponse { 201, body.dump() });
        auto result = seat.activate(t0);
        CHECK(result.status == CHARTER_E_ACTIVATION_REFUSED);
        CHECK(contains(result.message, "is for license lic_OTHER, not lic_TESTLICENSE0000000000001"));
    }
    SECTION("an answer without a token")
    {
        answers.push_back(SeatResponse { 201, "{}" });
        CHECK(seat.activate(t0).status == CHARTER_E_ACTIVATION_REFUSED);
    }
    SECTION("a refused token never replaces a good one")
    {
        answers.push_back(granted(201, t0));
        REQUIRE(seat.activate(t0).valid);
        ActivationFields other;
        other.fingerprint = "machine-2";
        answers.push_back(granted(200, t0 + 30, 60, other));
        auto beat = seat.heartbeat(t0 + 30);
        CHECK(beat.valid);
        CHECK(beat.warning);
        CHECK(beat.activation->lease_ends_at() == t0 + 60);
    }
}

TEST_CASE_METHOD(Fixture, "an invalid license is refused before any request")
{
    Verifier other("acme-pro"); // trusts no key
    StartupCheck untrusted(other);
    untrusted.value("the test's key", license_key);
    Seat seat(untrusted, transport());
    seat.fingerprint("machine-1");
    auto result = seat.activate(t0);
    CHECK_FALSE(result.valid);
    CHECK(result.status == CHARTER_E_NO_KEYS);
    CHECK(sent.empty());
}

TEST_CASE_METHOD(Fixture, "release deletes the activation; afterwards the seat holds nothing")
{
    Seat seat(check, transport());
    seat.fingerprint("machine-1");
    CHECK(seat.release() == CHARTER_OK); // nothing held: no request
    CHECK(sent.empty());
    answers.push_back(granted(201, t0));
    REQUIRE(seat.activate(t0).valid);

    answers.push_back(std::nullopt);
    std::string detail;
    CHECK(seat.release(&detail) == CHARTER_E_UNREACHABLE);
    CHECK(detail
        == "activation act_TESTACTIVATION000000001 was not released: the license server could not be reached (connection refused); its "
           "lease ends by itself");
    CHECK(seat.check(t0 + 1).valid); // still held

    answers.push_back(SeatResponse { 204, "" });
    CHECK(seat.release(&detail) == CHARTER_OK);
    CHECK(sent.back().method == "DELETE");
    CHECK(sent.back().path == "/v1/activations/act_TESTACTIVATION000000001");
    CHECK_FALSE(sent.back().body);
    auto after = seat.check(t0 + 1);
    CHECK_FALSE(after.valid);
    CHECK(seat.next_heartbeat() == 0);
}

TEST_CASE_METHOD(Fixture, "a node-locked seat never expires and needs no heartbeat")
{
    Seat seat(check, transport());
    seat.fingerprint("machine-1");
    answers.push_back(granted(201, t0, std::nullopt));
    auto result = seat.activate(t0);
    REQUIRE(result.valid);
    CHECK(result.message == "acme-pro holds seat 2 of license lic_TESTLICENSE0000000000001 on this machine (node-locked)");
    CHECK_FALSE(result.valid_until);
    CHECK(seat.next_heartbeat() == 0);
    CHECK(seat.check(t0 + 10 * 365 * 86400LL).valid);
}

TEST_CASE_METHOD(Fixture, "configuration errors")
{
    Seat seat(check, transport());
    CHECK(seat.activate(t0).status == CHARTER_E_INVALID_ARGUMENT); // no fingerprint
    CHECK(sent.empty());
    CHECK(charter_seat_set_fingerprint(nullptr, "x", 1) == CHARTER_E_INVALID_ARGUMENT);
    auto* raw = const_cast<charter_seat*>(seat.get());
    CHECK(charter_seat_set_fingerprint(raw, "", 0) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_seat_set_fingerprint(raw, std::string(257, 'x').data(), 257) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_seat_set_fingerprint(raw, std::string(256, 'x').data(), 256) == CHARTER_OK);
    CHECK(charter_seat_set_fingerprint(raw, "\xff\xfe", 2) == CHARTER_E_INVALID_ARGUMENT); // not UTF-8: not a JSON string
    CHECK(charter_seat_set_processes(raw, 0) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_seat_set_cores(raw, -1) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_seat_set_grace_seconds(raw, -1) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_seat_set_grace_seconds(raw, 86400 * 365 + 1) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_seat_set_leeway(raw, -1) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_seat_new(nullptr, nullptr, nullptr) == nullptr);
    charter_startup_result* out = nullptr;
    CHECK(charter_seat_check(nullptr, t0, &out) == CHARTER_E_INVALID_ARGUMENT);
    CHECK(charter_seat_next_heartbeat(nullptr) == 0);
    CHECK(charter_startup_result_activation(nullptr) == nullptr);
    CHECK(charter_startup_result_valid_until(nullptr, nullptr) == 0);

    Seat misconfigured(check, transport());
    misconfigured.fingerprint("").grace_seconds(10);
    CHECK(misconfigured.error() == CHARTER_E_INVALID_ARGUMENT);
    CHECK(misconfigured.activate(t0).message == "the license check is misconfigured: invalid fingerprint (invalid argument)");
}

TEST_CASE_METHOD(Fixture, "a check never waits for a heartbeat that is stuck on the network")
{
    std::mutex gate;
    std::unique_lock held(gate);
    bool first = true;
    Seat seat(check, [&](SeatRequest const&, std::string&) -> std::optional<SeatResponse> {
        if (first) {
            first = false;
            return granted(201, t0);
        }
        std::lock_guard wait(gate); // blocks until the test lets it go
        return granted(200, t0 + 30);
    });
    seat.fingerprint("machine-1");
    REQUIRE(seat.activate(t0).valid);
    std::thread beat([&] { (void)seat.heartbeat(t0 + 30); });
    // The heartbeat is inside the transport now or soon; checks answer meanwhile.
    for (int i = 0; i < 100; ++i)
        REQUIRE(seat.check(t0 + 31).valid);
    held.unlock();
    beat.join();
    CHECK(seat.check(t0 + 31).activation->lease_ends_at() == t0 + 90);
}

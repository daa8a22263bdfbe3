// The request bodies of charter-server's POST endpoints (server/src/http/request_bodies.cpp): the
// same functions the handlers call, with a hand-made httplib::Request. A body is either read
// into its request struct with the response untouched, or refused with an error response of
// docs/api.md's shape. nlohmann's DOM parser is the reference for what was read: every member
// of an accepted body is known and comes back with its value.
//
// Byte 0: bits 0-2 = the endpoint (modulo 5: licenses, revoke, customers, products, validate);
// bits 3-4 = the Content-Type (application/json, with "; charset=utf-8", text/plain, none);
// bit 5 = a Content-Length header. The rest is the body.

#include "charter/keygen/ops/plain_text.hpp"
#include "charter/server/http/request_bodies.hpp"
#include "fuzz_support.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <initializer_list>

using namespace charter;
using namespace charter::fuzz;
using namespace charter::server;

namespace {

using Json = nlohmann::ordered_json;

enum class Endpoint { licenses, revoke, customers, products, validate };

Json::const_iterator member(Json const& body, char const* name)
{
    auto it = body.find(name);
    if (it != body.end() && it->is_null())
        return body.end(); // null means absent
    return it;
}

void expect_string(Json const& body, char const* name, std::optional<std::string> const& read)
{
    auto it = member(body, name);
    if (it == body.end()) {
        FUZZ_CHECK(!read);
        return;
    }
    FUZZ_CHECK(it->is_string() && read == it->get<std::string>());
}

void expect_required_string(Json const& body, char const* name, std::string const& read)
{
    auto it = member(body, name);
    FUZZ_CHECK(it != body.end() && it->is_string() && read == it->get<std::string>());
}

void expect_only(Json const& body, std::initializer_list<char const*> known)
{
    for (auto const& item : body.items()) {
        auto const& key = item.key();
        FUZZ_CHECK(std::any_of(known.begin(), known.end(), [&](char const* name) { return key == name; }));
    }
}

void check_issue(Json const& body, ops::IssueRequest const& read)
{
    expect_only(body, { "product", "customer", "expires", "updates_until", "not_before", "entitlements", "seats", "name", "meta" });
    expect_required_string(body, "product", read.product);
    auto customer = member(body, "customer");
    FUZZ_CHECK(customer != body.end());
    if (customer->is_string()) {
        FUZZ_CHECK(read.customer == customer->get<std::string>() && !read.create_customer);
    } else {
        // A customer given inline: its email is the customer the license is for.
        FUZZ_CHECK(customer->is_object() && read.create_customer);
        expect_only(*customer, { "email", "name" });
        expect_required_string(*customer, "email", read.customer);
        expect_string(*customer, "name", read.new_customer_name);
    }
    expect_string(body, "expires", read.expires);
    expect_string(body, "updates_until", read.updates_until);
    expect_string(body, "not_before", read.not_before);
    expect_string(body, "name", read.name);
    auto entitlements = member(body, "entitlements");
    if (entitlements == body.end()) {
        FUZZ_CHECK(read.entitlements.empty());
    } else {
        FUZZ_CHECK(entitlements->is_array() && entitlements->size() == read.entitlements.size());
        for (size_t i = 0; i < read.entitlements.size(); ++i)
            FUZZ_CHECK((*entitlements)[i].is_string() && (*entitlements)[i].get<std::string>() == read.entitlements[i]);
    }
    auto seats = member(body, "seats");
    if (seats == body.end()) {
        FUZZ_CHECK(!read.seats);
    } else {
        FUZZ_CHECK(seats->is_number_integer() && read.seats);
        // Above INT64_MAX an unsigned JSON number wraps to a negative count, which Issuer
        // refuses ("seats must be between 1 and …"); every other integer is read as written.
        if (seats->is_number_unsigned() && seats->get<uint64_t>() > uint64_t(INT64_MAX))
            FUZZ_CHECK(*read.seats < 0);
        else
            FUZZ_CHECK(*read.seats == seats->get<int64_t>());
    }
    auto meta = member(body, "meta");
    if (meta == body.end()) {
        FUZZ_CHECK(read.meta == Json::object());
    } else {
        FUZZ_CHECK(meta->is_object() && read.meta == *meta);
        for (auto const& [key, value] : read.meta.items())
            FUZZ_CHECK(value.is_string());
    }
    FUZZ_CHECK(!read.idempotency);
}

void check_revoke(Json const& body, RevokeRequest const& read)
{
    expect_only(body, { "reason" });
    expect_string(body, "reason", read.reason);
}

void check_customer(Json const& body, NewCustomer const& read)
{
    expect_only(body, { "email", "name" });
    expect_required_string(body, "email", read.email);
    expect_string(body, "name", read.name);
    auto at = read.email.find('@');
    FUZZ_CHECK(at != std::string::npos && at > 0 && at + 1 < read.email.size());
    FUZZ_CHECK(read.email.find_first_of(" \t\r\n,;<>") == std::string::npos);
    FUZZ_CHECK(!ops::has_control_character(read.email) && !ops::has_control_character(read.name.value_or("")));
}

void check_product(Json const& body, NewProduct const& read)
{
    expect_only(body, { "id", "name", "keep_access_after_expiry" });
    expect_required_string(body, "id", read.id);
    expect_string(body, "name", read.name);
    auto keep = member(body, "keep_access_after_expiry");
    if (keep == body.end())
        FUZZ_CHECK(!read.keep_access_after_expiry);
    else
        FUZZ_CHECK(keep->is_boolean() && read.keep_access_after_expiry == keep->get<bool>());
    FUZZ_CHECK(!read.id.empty() && read.id.size() <= 64);
    FUZZ_CHECK(read.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_.") == std::string::npos);
}

void check_validate(Json const& body, ValidateRequest const& read)
{
    expect_only(body, { "key", "product" });
    expect_required_string(body, "key", read.key);
    expect_required_string(body, "product", read.product);
    FUZZ_CHECK(!read.product.empty());
}

// A body that was read: the response is untouched, and the DOM agrees with what was read.
template<typename Request, typename Check>
void check_read(httplib::Request const& request, httplib::Response const& response, std::optional<Request> const& read,
    Check check)
{
    if (!read)
        return;
    FUZZ_CHECK(response.status == -1 && response.body.empty() && response.headers.empty());
    auto body = request.body.empty() ? Json::object() : Json::parse(request.body, nullptr, false);
    FUZZ_CHECK(body.is_object());
    check(body, *read);
}

// A refused body: {"error":{"code":…,"message":…}} with a status that matches the cause.
void check_refusal(httplib::Request const& request, httplib::Response const& response, bool json_type, Endpoint endpoint)
{
    FUZZ_CHECK(response.status == 400 || response.status == 411 || response.status == 415 || response.status == 422);
    FUZZ_CHECK(response.get_header_value("Content-Type") == "application/json");
    auto answer = Json::parse(response.body, nullptr, false);
    FUZZ_CHECK(answer.is_object() && answer.size() == 1 && answer.contains("error"));
    auto const& error = answer["error"];
    FUZZ_CHECK(error.is_object() && error.size() == 2);
    FUZZ_CHECK(error.contains("code") && error["code"].is_string());
    FUZZ_CHECK(error.contains("message") && error["message"].is_string() && !error["message"].get<std::string>().empty());
    auto code = error["code"].get<std::string>();

    if (request.body.empty()) {
        FUZZ_CHECK(endpoint != Endpoint::revoke); // its body is optional
        FUZZ_CHECK(request.has_header("Content-Length") ? code == "bad_request" : code == "length_required");
        return;
    }
    if (!json_type) {
        FUZZ_CHECK(response.status == 415 && code == "unsupported_media_type");
        return;
    }
    auto body = Json::parse(request.body, nullptr, false);
    if (!body.is_object()) {
        FUZZ_CHECK(response.status == 400 && code == "malformed_json");
        return;
    }
    // An object the strict reader refuses: a key given twice (the DOM kept the last), or
    // nesting deeper than verifiers accept.
    FUZZ_CHECK((response.status == 400 && (code == "unknown_field" || code == "invalid_field"))
        || (response.status == 400 && (code == "duplicate_key" || code == "malformed_json"))
        || (response.status == 422 && code == "invalid"));
}

}

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    Input input(data, size);
    uint8_t control = input.take_byte();
    auto endpoint = static_cast<Endpoint>((control & 7) % 5);
    static constexpr char const* content_types[] = { "application/json", "application/json; charset=utf-8", "text/plain", nullptr };
    char const* content_type = content_types[(control >> 3) & 3];

    httplib::Request request;
    request.method = "POST";
    request.body = std::string(input.rest());
    if (content_type)
        request.set_header("Content-Type", content_type);
    if (control & 0x20)
        request.set_header("Content-Length", std::to_string(request.body.size()));
    httplib::Response response;

    bool read = false;
    switch (endpoint) {
    case Endpoint::licenses: {
        auto parsed = read_issue_request(request, response);
        check_read(request, response, parsed, check_issue);
        read = parsed.has_value();
        break;
    }
    case Endpoint::revoke: {
        auto parsed = read_revoke_request(request, response);
        check_read(request, response, parsed, check_revoke);
        read = parsed.has_value();
        break;
    }
    case Endpoint::customers: {
        auto parsed = read_new_customer(request, response);
        check_read(request, response, parsed, check_customer);
        read = parsed.has_value();
        break;
    }
    case Endpoint::products: {
        auto parsed = read_new_product(request, response);
        check_read(request, response, parsed, check_product);
        read = parsed.has_value();
        break;
    }
    case Endpoint::validate: {
        auto parsed = read_validate_request(request, response);
        check_read(request, response, parsed, check_validate);
        read = parsed.has_value();
        break;
    }
    }
    if (!read)
        check_refusal(request, response, content_type && std::string_view(content_type).rfind("application/json", 0) == 0, endpoint);
    return 0;
}

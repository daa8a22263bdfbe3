// The POST bodies of charter-server (server/src/http/request_bodies.cpp): read into request structs, or
// refused with the status and error code a client sees. test_server covers the same answers
// over HTTP; fuzz_request_bodies checks them against nlohmann's DOM.

#include "charter/server/http/request_bodies.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

using namespace charter;
using namespace charter::server;

namespace {

httplib::Request post(std::string body, char const* content_type = "application/json")
{
    httplib::Request request;
    request.method = "POST";
    if (content_type)
        request.set_header("Content-Type", content_type);
    request.set_header("Content-Length", std::to_string(body.size()));
    request.body = std::move(body);
    return request;
}

// A member of the error in a refused body's response ("" when the response holds none).
std::string error_member(httplib::Response const& response, char const* name)
{
    auto answer = nlohmann::json::parse(response.body, nullptr, false);
    if (!answer.is_object() || !answer.contains("error"))
        return "";
    return answer["error"].value(name, "");
}

std::string error_code(httplib::Response const& response)
{
    return error_member(response, "code");
}

}

TEST_CASE("POST /v1/licenses: every field read, product and customer required")
{
    httplib::Response response;
    auto issue = read_issue_request(post(R"({"product":"acme-pro","customer":"jane@example.com","expires":"1y",)"
                                         R"("not_before":null,"entitlements":["sso"],"seats":25,"meta":{"plan":"team"}})"),
        response);
    REQUIRE(issue);
    CHECK(response.status == -1);
    CHECK(issue->product == "acme-pro");
    CHECK(issue->customer == "jane@example.com");
    CHECK(issue->expires == "1y");
    CHECK_FALSE(issue->not_before);
    CHECK(issue->entitlements == std::vector<std::string> { "sso" });
    CHECK(issue->seats == 25);
    CHECK(issue->meta == nlohmann::ordered_json { { "plan", "team" } });
    CHECK_FALSE(issue->idempotency);

    httplib::Response missing;
    CHECK_FALSE(read_issue_request(post(R"({"product":"acme-pro"})"), missing));
    CHECK(missing.status == 400);
    CHECK(error_code(missing) == "invalid_field");
    CHECK(error_member(missing, "message") == "field \"customer\" is required: a customer id, an email, or {\"email\": …, \"name\": …}");

    httplib::Response wrong_type;
    CHECK_FALSE(read_issue_request(post(R"({"product":"p","customer":"c","seats":"5"})"), wrong_type));
    CHECK(wrong_type.status == 400);
    CHECK(error_code(wrong_type) == "invalid_field");

    httplib::Response unknown;
    CHECK_FALSE(read_issue_request(post(R"({"product":"p","customer":"c","colour":"red"})"), unknown));
    CHECK(error_code(unknown) == "unknown_field");
}

TEST_CASE("bodies that are not JSON objects are refused before any field is read")
{
    httplib::Response text;
    CHECK_FALSE(read_new_customer(post(R"({"email":"a@b"})", "text/plain"), text));
    CHECK(text.status == 415);

    httplib::Response malformed;
    CHECK_FALSE(read_new_product(post(R"({"id":)"), malformed));
    CHECK(malformed.status == 400);
    CHECK(error_code(malformed) == "malformed_json");

    httplib::Response array;
    CHECK_FALSE(read_validate_request(post("[]"), array));
    CHECK(error_code(array) == "malformed_json");

    httplib::Request no_length;
    httplib::Response length_required;
    CHECK_FALSE(read_issue_request(no_length, length_required));
    CHECK(length_required.status == 411);
}

TEST_CASE("POST /v1/licenses/{id}/revoke: the body is optional")
{
    httplib::Request empty;
    httplib::Response response;
    auto revoke = read_revoke_request(empty, response);
    REQUIRE(revoke);
    CHECK_FALSE(revoke->reason);
    CHECK(response.status == -1);

    httplib::Response with_reason;
    revoke = read_revoke_request(post(R"({"reason":"refund"})"), with_reason);
    REQUIRE(revoke);
    CHECK(revoke->reason == "refund");
}

TEST_CASE("POST /v1/customers and /v1/products: the checks that need no database answer 422")
{
    httplib::Response response;
    auto customer = read_new_customer(post(R"({"email":"jane@example.com","name":"Jane"})"), response);
    REQUIRE(customer);
    CHECK(customer->email == "jane@example.com");
    CHECK(customer->name == "Jane");
    for (auto const* email : { "jane@", "@example.com", "jane", "a@b, c@d" }) {
        INFO(email);
        httplib::Response refused;
        CHECK_FALSE(read_new_customer(post(nlohmann::json { { "email", email } }.dump()), refused));
        CHECK(refused.status == 422);
    }
    for (auto const* name : { "Eve\ncus_FAKE", "Eve\x1b[2J", "Eve\x7f" }) {
        INFO(name);
        httplib::Response refused;
        CHECK_FALSE(read_new_customer(post(nlohmann::json { { "email", "eve@example.com" }, { "name", name } }.dump()), refused));
        CHECK(refused.status == 422);
        CHECK(error_code(refused) == "invalid");
    }

    httplib::Response product_response;
    auto product = read_new_product(post(R"({"id":"acme-pro","keep_access_after_expiry":true})"), product_response);
    REQUIRE(product);
    CHECK(product->id == "acme-pro");
    CHECK_FALSE(product->name);
    CHECK(product->keep_access_after_expiry == true);
    httplib::Response bad_id;
    CHECK_FALSE(read_new_product(post(R"({"id":"Acme Pro"})"), bad_id));
    CHECK(bad_id.status == 422);
}

TEST_CASE("POST /v1/validate: a key and a non-empty product")
{
    httplib::Response response;
    auto validate = read_validate_request(post(R"({"key":"v4.public.x","product":"acme-pro"})"), response);
    REQUIRE(validate);
    CHECK(validate->key == "v4.public.x");
    CHECK(validate->product == "acme-pro");

    httplib::Response empty_product;
    CHECK_FALSE(read_validate_request(post(R"({"key":"k","product":""})"), empty_product));
    CHECK(empty_product.status == 400);
    CHECK(error_member(empty_product, "message") == "field \"product\" is required and must be a non-empty string");
}

TEST_CASE("a key given twice is refused with 400 duplicate_key, at any depth and on every body")
{
    auto refused = [](auto reader, std::string body) {
        httplib::Response response;
        CHECK_FALSE(reader(post(std::move(body)), response));
        CHECK(response.status == 400);
        CHECK(error_code(response) == "duplicate_key");
        return error_member(response, "message");
    };
    CHECK(refused(read_issue_request, R"({"product":"x","product":"acme-pro","customer":"c","seats":1,"seats":500})")
        == "the request body has a duplicate key \"product\"; send each field once");
    CHECK(refused(read_issue_request, R"({"product":"p","customer":"c","meta":{"plan":"a","plan":"b"}})")
        == "the request body has a duplicate key \"plan\"; send each field once");
    refused(read_issue_request, R"({"product":"p","customer":{"email":"a@b.c","email":"d@e.f"}})");
    refused(read_revoke_request, R"({"reason":"a","reason":"b"})");
    refused(read_new_customer, R"({"email":"a@b.c","email":"d@e.f"})");
    refused(read_new_product, R"({"id":"a","id":"b"})");
    refused(read_validate_request, R"({"key":"k","product":"a","product":"b"})");

    // The same key in two different objects is no duplicate.
    httplib::Response response;
    auto issue = read_issue_request(post(R"({"product":"p","customer":{"email":"a@b.c","name":"A"},"name":"N","meta":{"name":"x"}})"),
        response);
    REQUIRE(issue);
    CHECK(issue->customer == "a@b.c");
    CHECK(issue->create_customer);
    CHECK(issue->new_customer_name == "A");
    CHECK(issue->name == "N");
}

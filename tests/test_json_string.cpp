// common/include/charter/json_string.hpp: the one JSON string writer (claims, access log, audit
// details) writes exactly the bytes of nlohmann's dump() with error_handler_t::replace, ill-formed
// UTF-8 included, and is_valid_utf8 agrees with nlohmann's own UTF-8 check.

#include "charter/json_string.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace {

std::string reference(std::string const& text)
{
    return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

bool nlohmann_accepts(std::string const& text)
{
    try {
        (void)nlohmann::json(text).dump();
        return true;
    } catch (nlohmann::json::type_error const&) {
        return false;
    }
}

void check_against_nlohmann(std::string const& text)
{
    INFO("input: " << nlohmann::json(std::vector<int>(text.begin(), text.end())).dump());
    CHECK(charter::json_string(text) == reference(text));
    CHECK(charter::is_valid_utf8(text) == nlohmann_accepts(text));
}

}

TEST_CASE("json_string: every string of one or two bytes, as nlohmann writes it")
{
    for (int first = 0; first < 256; ++first) {
        check_against_nlohmann(std::string(1, char(first)));
        for (int second = 0; second < 256; ++second)
            check_against_nlohmann(std::string { char(first), char(second) });
    }
}

TEST_CASE("json_string: three- and four-byte sequences cut short, broken or whole, then more text")
{
    // Every lead byte from C2 up, with second bytes on each side of the ranges that matter
    // (E0, ED, F0 and F4 narrow the second byte), third and fourth bytes good or bad, ended
    // where it stands or followed by an ASCII letter or another lead byte.
    std::vector<unsigned char> seconds = { 0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC2, 0xE2, 0xFF };
    std::vector<unsigned char> laters = { 0x41, 0x80, 0xBF, 0xC0, 0xE2 };
    std::vector<std::string> tails = { "", "A", "\"", "\xE2" };
    for (int lead = 0xC2; lead <= 0xFF; ++lead) {
        for (auto second : seconds) {
            for (auto const& tail : tails) {
                std::string two { char(lead), char(second) };
                check_against_nlohmann(two + tail);
                for (auto third : laters) {
                    check_against_nlohmann(two + char(third) + tail);
                    for (auto fourth : laters)
                        check_against_nlohmann(two + char(third) + char(fourth) + tail);
                }
            }
        }
    }
}

TEST_CASE("json_string: control characters, quotes, backslashes and text around them")
{
    check_against_nlohmann("");
    check_against_nlohmann("plain /v1/validate 127.0.0.1");
    check_against_nlohmann("tab\there, newline\nthere, \"quoted\" and back\\slash, \x7f, \x1b[2J");
    check_against_nlohmann("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xED\xA0\x80 \xF4\x90\x80\x80 \xC0\xAF");
}

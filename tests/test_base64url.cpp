#include "charter/format/base64url.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <random>

using namespace charter::format;
using charter::testing::contains;

TEST_CASE("base64url round-trips every length")
{
    std::string bytes;
    for (int i = 0; i < 70; ++i) {
        auto encoded = base64url_encode(bytes);
        CHECK_FALSE(contains(encoded, "="));
        auto decoded = base64url_decode(encoded);
        REQUIRE(decoded);
        CHECK(*decoded == bytes);
        bytes += static_cast<char>(i * 37 + 250);
    }
}

TEST_CASE("base64url known answers (RFC 4648 test vectors, url alphabet, no padding)")
{
    CHECK(base64url_encode("") == "");
    CHECK(base64url_encode("f") == "Zg");
    CHECK(base64url_encode("fo") == "Zm8");
    CHECK(base64url_encode("foo") == "Zm9v");
    CHECK(base64url_encode("foobar") == "Zm9vYmFy");
    CHECK(base64url_encode("\xfb\xff") == "-_8");
}

TEST_CASE("base64url refuses non-canonical input")
{
    CHECK_FALSE(base64url_decode("Zg=="));   // padding
    CHECK_FALSE(base64url_decode("Zg="));
    CHECK_FALSE(base64url_decode("Zh"));     // non-zero trailing bits
    CHECK_FALSE(base64url_decode("Zm9="));
    CHECK_FALSE(base64url_decode("Zm+v"));   // standard alphabet
    CHECK_FALSE(base64url_decode("Zm/v"));
    CHECK_FALSE(base64url_decode("Zm9 v"));  // whitespace
    CHECK_FALSE(base64url_decode("Z"));      // impossible length
    CHECK_FALSE(base64url_decode("Zm9vY"));
    CHECK_FALSE(base64url_decode(std::string("Zm\0v", 4)));
    CHECK_FALSE(base64url_decode("Zm9v\xc3\xa9"));
    CHECK(base64url_decode("Zm8"));
}

TEST_CASE("base64url decodes exactly the 64 characters of its alphabet, in every position")
{
    std::string_view alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (int byte = 0; byte < 256; ++byte) {
        char c = static_cast<char>(byte);
        bool in_alphabet = alphabet.find(c) != std::string_view::npos;
        for (size_t position = 0; position < 4; ++position) {
            std::string text = "AAAA";
            text[position] = c;
            INFO("byte " << byte << " at " << position);
            CHECK(base64url_decode(text).has_value() == in_alphabet);
        }
    }
}

TEST_CASE("standard base64 (HTTP Basic): '+' and '/', unpadded, as strict as base64url")
{
    CHECK(base64_decode_unpadded("") == std::string());
    CHECK(base64_decode_unpadded("Zm9vYmFy") == std::string("foobar"));
    CHECK(base64_decode_unpadded("Zm8") == std::string("fo"));
    CHECK(base64_decode_unpadded("-_8") == std::nullopt);
    CHECK(base64_decode_unpadded("+/8") == std::string("\xfb\xff"));
    CHECK(base64_decode_unpadded("Zg==") == std::nullopt); // the caller strips padding
    CHECK(base64_decode_unpadded("Zh") == std::nullopt);
    CHECK(base64_decode_unpadded("Zm9vY") == std::nullopt);
    for (int byte = 0x80; byte < 256; ++byte)
        CHECK(base64_decode_unpadded(std::string("AAA") + char(byte)) == std::nullopt);
}

namespace {

constexpr std::string_view url_alphabet_for_tests = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Bytes that matter to a decoder: a few of the alphabet (both ends of each range, and the two
// characters after the first 62 in each variant), padding, whitespace, NUL, and bytes from 0x80.
std::string const edge_bytes = std::string("AZaz09-_+/=. \n\x7f\x80\xc3\xff", 18) + std::string(1, '\0') + "BQgw";

void check_decoders_agree(std::string const& text, size_t& disagreements, size_t& accepted)
{
    auto fast = base64url_decode(text);
    auto secret = base64url_decode_secret(text);
    if (fast != secret) {
        ++disagreements;
        UNSCOPED_INFO("decoders disagree on \"" << text << "\"");
    }
    accepted += fast.has_value();
}

}

TEST_CASE("the public and the secret decoder accept the same texts and give the same bytes")
{
    size_t disagreements = 0;
    size_t accepted = 0;
    SECTION("every text of up to two bytes")
    {
        check_decoders_agree("", disagreements, accepted);
        for (int first = 0; first < 256; ++first) {
            check_decoders_agree(std::string(1, char(first)), disagreements, accepted);
            for (int second = 0; second < 256; ++second)
                check_decoders_agree(std::string { char(first), char(second) }, disagreements, accepted);
        }
        CHECK(accepted == 1 + 64 * 4); // "" and the four canonical last characters after each first
    }
    SECTION("three and four characters over the whole alphabet and the edge bytes")
    {
        std::string characters = std::string(url_alphabet_for_tests) + edge_bytes;
        for (char a : characters)
            for (char b : characters)
                for (char c : characters)
                    check_decoders_agree(std::string { a, b, c }, disagreements, accepted);
        for (char a : edge_bytes)
            for (char b : edge_bytes)
                for (char c : edge_bytes)
                    for (char d : edge_bytes)
                        check_decoders_agree(std::string { a, b, c, d }, disagreements, accepted);
        CHECK(accepted > 0);
    }
    SECTION("long texts: encodings of random bytes, and each with one character changed")
    {
        std::mt19937 random(20261205);
        for (int round = 0; round < 2000; ++round) {
            std::string bytes(random() % 700, '\0');
            for (auto& byte : bytes)
                byte = char(random());
            std::string text = base64url_encode(bytes);
            CHECK(base64url_encode_secret(reinterpret_cast<uint8_t const*>(bytes.data()), bytes.size()) == text);
            check_decoders_agree(text, disagreements, accepted);
            if (!text.empty()) {
                text[random() % text.size()] = edge_bytes[random() % edge_bytes.size()];
                check_decoders_agree(text, disagreements, accepted);
            }
        }
    }
    CHECK(disagreements == 0);
}

TEST_CASE("standard base64 decodes as base64url does once '+' and '/' are swapped for '-' and '_'")
{
    auto swapped = [](std::string text) {
        for (auto& c : text)
            c = c == '+' ? '-' : c == '/' ? '_' : c == '-' ? '+' : c == '_' ? '/' : c;
        return text;
    };
    std::string characters = std::string(url_alphabet_for_tests) + edge_bytes;
    size_t disagreements = 0;
    for (char a : characters)
        for (char b : characters)
            for (char c : characters) {
                std::string text { a, b, c };
                if (base64_decode_unpadded(text) != base64url_decode(swapped(text))) {
                    ++disagreements;
                    UNSCOPED_INFO("\"" << text << "\"");
                }
            }
    CHECK(disagreements == 0);
}

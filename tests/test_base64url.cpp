#include "base64url.hpp"
#include "support/test_support.hpp"

#include <catch2/catch.hpp>

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

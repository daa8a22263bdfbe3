// Strict base64url: decoding arbitrary text, and the canonical-encoding property that makes
// tokens non-malleable: whenever decode(x) succeeds, encode(decode(x)) == x; and any bytes
// survive encode then decode.

#include "charter/format/base64url.hpp"
#include "fuzz_support.hpp"

#include <memory>

using namespace charter::format;

extern "C" int LLVMFuzzerTestOneInput(uint8_t const* data, size_t size)
{
    std::string_view text(reinterpret_cast<char const*>(data), size);

    auto decoded = base64url_decode(text);
    if (decoded) {
        FUZZ_CHECK(base64url_encode(*decoded) == text);
        FUZZ_CHECK(decoded->size() == base64url_decoded_size(text.size()));
    }

    // decode_into writes at most base64url_decoded_size bytes: an exact heap buffer lets
    // ASan catch a single byte too many.
    size_t capacity = base64url_decoded_size(text.size());
    auto buffer = std::make_unique<uint8_t[]>(capacity);
    long written = base64url_decode_into(text, buffer.get());
    FUZZ_CHECK((written >= 0) == decoded.has_value());
    if (decoded)
        FUZZ_CHECK(std::string_view(reinterpret_cast<char const*>(buffer.get()), size_t(written)) == *decoded);

    std::string encoded = base64url_encode(data, size);
    FUZZ_CHECK(encoded.find('=') == std::string::npos);
    auto round_trip = base64url_decode(encoded);
    FUZZ_CHECK(round_trip && *round_trip == text);
    return 0;
}

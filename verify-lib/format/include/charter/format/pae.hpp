#pragma once
// Pre-Authentication Encoding (PASETO spec, "PAE"): the byte string the signature covers.
// PAE(pieces) = LE64(count) || for each piece: LE64(length) || piece, where LE64 is a
// little-endian 64-bit integer with its most significant bit cleared.

#include <initializer_list>
#include <string>
#include <string_view>

namespace charter::format {

std::string pae(std::initializer_list<std::string_view> pieces);

}

#include "charter/format/pae.hpp"

#include <cstdint>

namespace charter::format {

namespace {

void append_le64(std::string& out, uint64_t value)
{
    value &= 0x7fffffffffffffffULL;
    for (int i = 0; i < 8; ++i) {
        out += static_cast<char>(value & 0xff);
        value >>= 8;
    }
}

}

std::string pae(std::initializer_list<std::string_view> pieces)
{
    size_t total = 8;
    for (auto piece : pieces)
        total += 8 + piece.size();
    std::string out;
    out.reserve(total);
    append_le64(out, pieces.size());
    for (auto piece : pieces) {
        append_le64(out, piece.size());
        out.append(piece);
    }
    return out;
}

}

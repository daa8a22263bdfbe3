#pragma once
// The ids of records and requests: "lic_", "cus_", "tok_", "rel_", "req_" …

#include <string>
#include <string_view>

namespace charter::keygen {

/// A new random id with a type prefix: "lic_", "cus_", "tok_", … followed by 22 base62
/// characters (131 bits).
std::string new_id(std::string_view prefix);

}

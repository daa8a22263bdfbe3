#pragma once
// New customers: the one check of what `charter customer add` and POST /v1/customers (and a
// customer created inline with a license) accept, so the two never disagree.

#include "charter/db/records.hpp"
#include "charter/result.hpp"

#include <cstdint>
#include <string>

namespace charter::ops {

/// ErrorKind::invalid_input when the email is not an address
/// (one '@' with text on both sides, no spaces, commas, semicolons or angle brackets), or the
/// email or name is not one line of valid UTF-8 without control characters, or longer than
/// 320 (email) or 200 (name) bytes.
Result<void> check_customer(std::string const& email, std::string const& name);

/// A customer with a new id, once check_customer accepts its email and name.
Result<db::Customer> new_customer(std::string email, std::string name, int64_t now);

}

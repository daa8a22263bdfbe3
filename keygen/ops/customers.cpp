#include "charter/keygen/ops/customers.hpp"

#include "charter/keygen/ids.hpp"
#include "charter/keygen/ops/plain_text.hpp"
#include "charter/keygen/token_signer.hpp"

namespace charter::ops {

namespace {

// RFC 5321: 64 for the local part, 255 for the domain, and the '@'.
constexpr size_t max_email_size = 320;
constexpr size_t max_name_size = 200;

}

Result<void> check_customer(std::string const& email, std::string const& name)
{
    if (auto checked = check_one_line(email, "the email address"); !checked)
        return checked.error();
    if (auto checked = check_one_line(name, "the customer's name"); !checked)
        return checked.error();
    auto at = email.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == email.size() || email.find_first_of(" ,;<>") != std::string::npos)
        return make_error(ErrorKind::invalid_input, "\"" + email + "\" is not an email address");
    if (email.size() > max_email_size)
        return make_error(ErrorKind::invalid_input, "the email address is longer than " + std::to_string(max_email_size) + " bytes");
    if (name.size() > max_name_size)
        return make_error(ErrorKind::invalid_input, "the customer's name is longer than " + std::to_string(max_name_size) + " bytes");
    return {};
}

Result<db::Customer> new_customer(std::string email, std::string name, int64_t now)
{
    if (auto checked = check_customer(email, name); !checked)
        return checked.error();
    return db::Customer { keygen::new_id("cus_"), std::move(email), std::move(name), now };
}

}

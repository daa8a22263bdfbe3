#pragma once
// Building the portal's HTML on the server. Markup is written by our own code as constants
// (`raw`); every value that comes from data — a customer's name, a product's name, a license
// id, a date — goes through escape_html (`text`), the one escape function of the portal, so
// no value can become markup or leave an attribute.

#include <string>
#include <string_view>

namespace charter::server {

/// `text` with & < > " ' replaced by entities: safe in element content and in quoted attributes.
std::string escape_html(std::string_view text);

/// An HTML document being written.
class Html {
public:
    /// Markup written by the portal's code (never data).
    Html& raw(std::string_view markup)
    {
        m_out += markup;
        return *this;
    }
    /// A value, escaped.
    Html& text(std::string_view value)
    {
        m_out += escape_html(value);
        return *this;
    }
    std::string take() { return std::move(m_out); }
    std::string const& str() const { return m_out; }

private:
    std::string m_out;
};

}

#pragma once
// Builds the small JSON objects of the audit log's details column. db/ depends on no JSON
// library, and these objects are flat: strings (common's one JSON string writer), integers and
// booleans.

#include "charter/json_string.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace charter::db {

class JsonWriter {
public:
    JsonWriter& add(std::string_view key, std::string_view value)
    {
        append_key(key);
        append_string(value);
        return *this;
    }
    JsonWriter& add(std::string_view key, std::string const& value) { return add(key, std::string_view(value)); }
    JsonWriter& add(std::string_view key, char const* value) { return add(key, std::string_view(value)); }
    JsonWriter& add(std::string_view key, int64_t value)
    {
        append_key(key);
        m_text += std::to_string(value);
        return *this;
    }
    JsonWriter& add_bool(std::string_view key, bool value)
    {
        append_key(key);
        m_text += value ? "true" : "false";
        return *this;
    }
    /// Absent values are left out rather than written as null.
    JsonWriter& add(std::string_view key, std::optional<std::string> const& value)
    {
        return value ? add(key, std::string_view(*value)) : *this;
    }
    JsonWriter& add(std::string_view key, std::optional<int64_t> value) { return value ? add(key, *value) : *this; }

    std::string take()
    {
        m_text += '}';
        return std::move(m_text);
    }

private:
    void append_key(std::string_view key)
    {
        m_text += m_text.size() == 1 ? "" : ",";
        append_string(key);
        m_text += ':';
    }
    void append_string(std::string_view value) { append_json_string(m_text, value); }

    std::string m_text { "{" };
};

}

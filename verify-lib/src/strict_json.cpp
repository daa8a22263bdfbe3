#include "charter/format/strict_json.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <utility>

namespace charter::format {

namespace {

class TopLevelReader : public nlohmann::json_sax<nlohmann::json> {
public:
    explicit TopLevelReader(JsonObject& out) : m_out(out) { }

    std::string const& error() const { return m_error; }

    bool null() override { return scalar(JsonType::null); }
    bool boolean(bool) override { return scalar(JsonType::boolean); }
    bool number_integer(number_integer_t value) override
    {
        if (!scalar(JsonType::integer))
            return false;
        if (is_top_member())
            m_out.members.back().integer_value = value;
        return true;
    }
    bool number_unsigned(number_unsigned_t value) override
    {
        if (!scalar(value > uint64_t(INT64_MAX) ? JsonType::unsigned_integer : JsonType::integer))
            return false;
        if (is_top_member() && value <= uint64_t(INT64_MAX))
            m_out.members.back().integer_value = int64_t(value);
        return true;
    }
    bool number_float(number_float_t, string_t const&) override { return scalar(JsonType::floating); }
    bool string(string_t& value) override
    {
        if (m_depth == 0)
            return fail("expected a JSON object, found a string");
        if (is_top_member()) {
            m_out.members.back().type = JsonType::string;
            m_out.members.back().string_value = std::move(value);
        } else if (is_top_array_element()) {
            m_out.members.back().strings.push_back(std::move(value));
        }
        return true;
    }
    bool binary(binary_t&) override { return fail("binary values are not JSON"); }

    bool start_object(std::size_t) override { return open(JsonType::object); }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(JsonType::array); }
    bool end_array() override { return close(); }

    bool key(string_t& key) override
    {
        // Top-level keys live in their members; deeper ones in m_nested_keys, one run per open
        // container. Either way the lexer's string is moved, not copied.
        if (m_depth == 1) {
            if (m_out.find(key))
                return duplicate(key);
            m_out.members.push_back(JsonMember {});
            m_out.members.back().key = std::move(key);
            return true;
        }
        auto first = m_nested_keys.begin() + std::ptrdiff_t(m_nested_key_starts.back());
        if (std::find(first, m_nested_keys.end(), key) != m_nested_keys.end())
            return duplicate(key);
        m_nested_keys.push_back(std::move(key));
        return true;
    }

    bool parse_error(std::size_t position, std::string const&, nlohmann::json::exception const&) override
    {
        return fail("not valid JSON (error at byte " + std::to_string(position) + ")");
    }

private:
    bool is_top_member() const { return m_depth == 1; }
    bool is_top_array_element() const { return m_depth == 2 && m_top_container_is_array; }

    bool duplicate(std::string const& key) { return fail("duplicate key \"" + key + "\""); }

    bool fail(std::string message)
    {
        if (m_error.empty())
            m_error = std::move(message);
        return false;
    }

    bool scalar(JsonType type)
    {
        if (m_depth == 0)
            return fail("expected a JSON object");
        if (is_top_member())
            m_out.members.back().type = type;
        else if (is_top_array_element())
            m_out.members.back().array_of_strings = false;
        return true;
    }

    bool open(JsonType type)
    {
        if (m_depth == 0 && type != JsonType::object)
            return fail("expected a JSON object, found an array");
        if (m_depth >= max_json_depth)
            return fail("nested deeper than " + std::to_string(max_json_depth) + " levels");
        if (is_top_member()) {
            m_out.members.back().type = type;
            m_top_container_is_array = type == JsonType::array;
        } else if (is_top_array_element()) {
            m_out.members.back().array_of_strings = false;
        }
        ++m_depth;
        if (m_depth > 1)
            m_nested_key_starts.push_back(m_nested_keys.size());
        return true;
    }

    bool close()
    {
        if (m_depth > 1) {
            m_nested_keys.resize(m_nested_key_starts.back());
            m_nested_key_starts.pop_back();
        }
        --m_depth;
        if (m_depth == 1)
            m_top_container_is_array = false;
        return true;
    }

    JsonObject& m_out;
    std::string m_error;
    int m_depth { 0 };
    bool m_top_container_is_array { false };
    std::vector<std::string> m_nested_keys;
    std::vector<size_t> m_nested_key_starts;
};

}

JsonMember const* JsonObject::find(std::string_view key) const
{
    for (auto const& member : members) {
        if (member.key == key)
            return &member;
    }
    return nullptr;
}

JsonMember* JsonObject::find(std::string_view key)
{
    return const_cast<JsonMember*>(std::as_const(*this).find(key));
}

std::optional<JsonObject> read_json_object(std::string_view text, std::string& error)
{
    JsonObject object;
    // Room for every claim of a license up front, instead of growing the vector member by member.
    object.members.reserve(16);
    TopLevelReader reader(object);
    bool ok = false;
    try {
        ok = nlohmann::json::sax_parse(text.begin(), text.end(), &reader, nlohmann::json::input_format_t::json, true);
    } catch (std::exception const&) {
        ok = false;
    }
    if (!ok) {
        error = reader.error().empty() ? "not valid JSON" : reader.error();
        return std::nullopt;
    }
    return object;
}

char const* json_type_name(JsonType type)
{
    switch (type) {
    case JsonType::null: return "null";
    case JsonType::boolean: return "a boolean";
    case JsonType::integer:
    case JsonType::unsigned_integer: return "an integer";
    case JsonType::floating: return "a number";
    case JsonType::string: return "a string";
    case JsonType::object: return "an object";
    case JsonType::array: return "an array";
    }
    return "unknown";
}

}

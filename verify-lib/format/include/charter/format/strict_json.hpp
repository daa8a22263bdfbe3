#pragma once
// A strict reader for the small JSON objects in tokens (claims, footers, revocation lists).
// It keeps the top-level members only, refuses duplicate keys at any depth, refuses nesting
// deeper than max_json_depth, and (through nlohmann's lexer) invalid UTF-8. Nothing is
// built for nested values except arrays of strings, which claims need.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace charter::format {

inline constexpr int max_json_depth = 16;

enum class JsonType { null, boolean, integer, unsigned_integer, floating, string, object, array };

struct JsonMember {
    std::string key;
    JsonType type { JsonType::null };
    std::string string_value;
    int64_t integer_value { 0 };
    // For arrays: the elements when every one is a string.
    std::vector<std::string> strings;
    bool array_of_strings { true };
};

struct JsonObject {
    std::vector<JsonMember> members;

    JsonMember const* find(std::string_view key) const;
    JsonMember* find(std::string_view key);
};

/// Parses `text` as one JSON object; on failure returns nullopt and says why in `error`.
std::optional<JsonObject> read_json_object(std::string_view text, std::string& error);

char const* json_type_name(JsonType type);

}

#pragma once
// A writer for the few Ruby Marshal (format 4.8) types that RubyGems' legacy index needs:
// nil, booleans, integers, symbols (with symbol links), UTF-8 strings, arrays, hashes, plain
// objects with instance variables, and user types (marshal_dump "U", _dump "u").
// Values are written in order, as Marshal.load reads them: a container's header first, then
// its elements. No object links are written; Marshal.load does not need them.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace charter::server {

class MarshalWriter {
public:
    MarshalWriter();

    MarshalWriter& nil();
    MarshalWriter& boolean(bool value);
    MarshalWriter& integer(int64_t value); // -2^30 ≤ value < 2^30 (a Fixnum in the format)
    MarshalWriter& symbol(std::string_view name);
    /// A String with UTF-8 encoding (the encoding RubyGems' own indexes carry).
    MarshalWriter& string(std::string_view text);
    /// Then `size` values.
    MarshalWriter& array(size_t size);
    /// Then `size` key, value pairs.
    MarshalWriter& hash(size_t size);
    /// An object of class `name` with `ivars` instance variables: then, for each,
    /// symbol("@name") and the value.
    MarshalWriter& object(std::string_view class_name, size_t ivars);
    /// A class with marshal_dump/marshal_load ("U"): then the dumped value.
    MarshalWriter& user_marshal(std::string_view class_name);
    /// A class with _dump/_load ("u"): the bytes _dump returned.
    MarshalWriter& user_dump(std::string_view class_name, std::string_view bytes);

    std::string const& data() const { return m_out; }
    std::string take() { return std::move(m_out); }

private:
    void length(int64_t value);
    void raw(std::string_view bytes);

    std::string m_out;
    std::map<std::string, int64_t, std::less<>> m_symbols;
};

}

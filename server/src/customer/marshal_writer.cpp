#include "charter/server/customer/marshal_writer.hpp"

namespace charter::server {

MarshalWriter::MarshalWriter()
{
    m_out = "\x04\x08";
}

// Marshal's packed integer: 0 as one byte, small values offset by 5 in one byte, others as a
// signed count of little-endian bytes followed by the bytes.
void MarshalWriter::length(int64_t value)
{
    if (value == 0) {
        m_out += '\0';
        return;
    }
    if (value > 0 && value < 123) {
        m_out += static_cast<char>(value + 5);
        return;
    }
    if (value < 0 && value > -124) {
        m_out += static_cast<char>((value - 5) & 0xff);
        return;
    }
    char bytes[8];
    int count = 0;
    int64_t rest = value;
    for (; count < 4; ++count) {
        bytes[count] = static_cast<char>(rest & 0xff);
        rest >>= 8;
        if ((value >= 0 && rest == 0) || (value < 0 && rest == -1)) {
            ++count;
            break;
        }
    }
    m_out += static_cast<char>(value >= 0 ? count : -count);
    m_out.append(bytes, size_t(count));
}

void MarshalWriter::raw(std::string_view bytes)
{
    length(static_cast<int64_t>(bytes.size()));
    m_out += bytes;
}

MarshalWriter& MarshalWriter::nil()
{
    m_out += '0';
    return *this;
}

MarshalWriter& MarshalWriter::boolean(bool value)
{
    m_out += value ? 'T' : 'F';
    return *this;
}

MarshalWriter& MarshalWriter::integer(int64_t value)
{
    m_out += 'i';
    length(value);
    return *this;
}

MarshalWriter& MarshalWriter::symbol(std::string_view name)
{
    if (auto found = m_symbols.find(name); found != m_symbols.end()) {
        m_out += ';';
        length(found->second);
        return *this;
    }
    auto index = static_cast<int64_t>(m_symbols.size());
    m_symbols.emplace(std::string(name), index);
    m_out += ':';
    raw(name);
    return *this;
}

MarshalWriter& MarshalWriter::string(std::string_view text)
{
    // "I" wraps the string with one instance variable, E = true: the encoding is UTF-8.
    m_out += "I\"";
    raw(text);
    length(1);
    symbol("E");
    return boolean(true);
}

MarshalWriter& MarshalWriter::array(size_t size)
{
    m_out += '[';
    length(static_cast<int64_t>(size));
    return *this;
}

MarshalWriter& MarshalWriter::hash(size_t size)
{
    m_out += '{';
    length(static_cast<int64_t>(size));
    return *this;
}

MarshalWriter& MarshalWriter::object(std::string_view class_name, size_t ivars)
{
    m_out += 'o';
    symbol(class_name);
    length(static_cast<int64_t>(ivars));
    return *this;
}

MarshalWriter& MarshalWriter::user_marshal(std::string_view class_name)
{
    m_out += 'U';
    return symbol(class_name);
}

MarshalWriter& MarshalWriter::user_dump(std::string_view class_name, std::string_view bytes)
{
    m_out += 'u';
    symbol(class_name);
    raw(bytes);
    return *this;
}

}

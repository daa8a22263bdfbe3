#include "charter/keygen/ops/batch.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fcntl.h>
#include <unistd.h>
#include <utility>

namespace charter::ops {

namespace {

constexpr std::array known_columns { "customer", "product", "expires", "updates_until", "not_before", "entitlements", "seats",
    "name", "meta" };

std::vector<std::string> split(std::string const& text, char separator)
{
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find(separator, start);
        if (end == std::string::npos)
            end = text.size();
        std::string part = text.substr(start, end - start);
        if (!part.empty())
            parts.push_back(std::move(part));
        start = end + 1;
    }
    return parts;
}

Error row_error(size_t line, std::string const& message)
{
    return make_error(ErrorKind::invalid_input, "line " + std::to_string(line) + ": " + message);
}

}

Result<BatchReader> BatchReader::open(std::istream& in, std::optional<std::string> default_product)
{
    BatchReader batch(in, std::move(default_product));
    auto header = batch.m_reader.next();
    if (!header)
        return header.error();
    if (header->fields.empty())
        return make_error(ErrorKind::invalid_input, "the batch file is empty (it needs a header row, see `charter issue --help`)");
    // Excel's "CSV UTF-8" export starts the file with a byte order mark: not part of the name.
    constexpr std::string_view byte_order_mark = "\xEF\xBB\xBF";
    if (header->fields[0].starts_with(byte_order_mark))
        header->fields[0].erase(0, byte_order_mark.size());
    auto const& columns = header->fields;
    for (auto const& column : columns) {
        if (std::find(known_columns.begin(), known_columns.end(), column) == known_columns.end())
            return row_error(1, "unknown column \"" + column + "\" (known: customer, product, expires, updates_until, not_before, "
                                "entitlements, seats, name, meta)");
        if (std::count(columns.begin(), columns.end(), column) > 1)
            return row_error(1, "column \"" + column + "\" appears twice");
    }
    if (std::find(columns.begin(), columns.end(), "customer") == columns.end())
        return row_error(1, "the header has no \"customer\" column");
    if (!batch.m_default_product && std::find(columns.begin(), columns.end(), "product") == columns.end())
        return row_error(1, "the header has no \"product\" column (or pass --product)");
    batch.m_columns = columns;
    return batch;
}

Result<std::optional<BatchRow>> BatchReader::next()
{
    while (!m_reader.at_end()) {
        auto record = m_reader.next();
        if (!record)
            return record.error();
        if (record->fields.empty() || (record->fields.size() == 1 && record->fields[0].empty()))
            continue; // a blank line
        if (record->fields.size() != m_columns.size())
            return row_error(record->line, "has " + std::to_string(record->fields.size()) + " fields, the header has "
                    + std::to_string(m_columns.size()));
        BatchRow row;
        row.line = record->line;
        if (m_default_product)
            row.request.product = *m_default_product;
        for (size_t i = 0; i < m_columns.size(); ++i) {
            auto const& column = m_columns[i];
            auto& value = record->fields[i];
            if (value.empty())
                continue;
            auto& request = row.request;
            if (column == "customer") {
                request.customer = std::move(value);
            } else if (column == "product") {
                request.product = std::move(value);
            } else if (column == "expires") {
                request.expires = std::move(value);
            } else if (column == "updates_until") {
                request.updates_until = std::move(value);
            } else if (column == "not_before") {
                request.not_before = std::move(value);
            } else if (column == "entitlements") {
                request.entitlements = split(value, ';');
            } else if (column == "name") {
                request.name = std::move(value);
            } else if (column == "seats") {
                int64_t seats = 0;
                auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), seats);
                if (error != std::errc() || end != value.data() + value.size())
                    return row_error(row.line, "seats \"" + value + "\" is not a whole number");
                request.seats = seats;
            } else if (column == "meta") {
                for (auto const& pair : split(value, ';')) {
                    if (auto added = add_meta(request.meta, pair); !added)
                        return row_error(row.line, added.error().message);
                }
            }
        }
        if (row.request.customer.empty())
            return row_error(row.line, "the customer is empty");
        if (row.request.product.empty())
            return row_error(row.line, "the product is empty");
        return std::optional<BatchRow>(std::move(row));
    }
    return std::optional<BatchRow> {};
}

namespace {

constexpr size_t held_output_buffer_size = 1 << 18;

Error held_output_error(std::string const& what, int error)
{
    return make_error(ErrorKind::io, "cannot " + what + " the batch output: " + std::strerror(error));
}

Result<void> write_all(int fd, char const* data, size_t size)
{
    while (size > 0) {
        ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return held_output_error("write", errno);
        }
        data += written;
        size -= size_t(written);
    }
    return {};
}

}

Result<HeldOutput> HeldOutput::create(std::filesystem::path const& directory)
{
    int fd = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
        // A file system without O_TMPFILE: a named file, unlinked at once.
        std::string path = (directory / ".charter-batch-XXXXXX").string();
        fd = ::mkostemp(path.data(), O_CLOEXEC);
        if (fd >= 0)
            ::unlink(path.c_str());
    }
    if (fd < 0) {
        int error = errno;
        return held_output_error("create a temporary file in " + directory.string() + " for", error);
    }
    return HeldOutput(fd);
}

HeldOutput::HeldOutput(HeldOutput&& other) noexcept
    : m_fd(std::exchange(other.m_fd, -1))
    , m_buffer(std::move(other.m_buffer))
{
}

HeldOutput::~HeldOutput()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

Result<void> HeldOutput::flush()
{
    auto written = write_all(m_fd, m_buffer.data(), m_buffer.size());
    m_buffer.clear();
    return written;
}

Result<void> HeldOutput::append(std::string_view text)
{
    m_buffer.append(text);
    if (m_buffer.size() < held_output_buffer_size)
        return {};
    return flush();
}

Result<void> HeldOutput::copy_to(int fd)
{
    if (auto flushed = flush(); !flushed)
        return flushed;
    if (::lseek(m_fd, 0, SEEK_SET) < 0)
        return held_output_error("rewind", errno);
    std::string chunk(held_output_buffer_size, '\0');
    while (true) {
        ssize_t got = ::read(m_fd, chunk.data(), chunk.size());
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return held_output_error("read back", errno);
        }
        if (got == 0)
            return {};
        if (auto written = write_all(fd, chunk.data(), size_t(got)); !written)
            return written;
    }
}

}

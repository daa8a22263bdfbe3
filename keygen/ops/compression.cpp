#include "charter/keygen/ops/compression.hpp"

#include <zlib.h>

namespace charter::ops {

namespace {

// window_bits: 15 for zlib, 15 + 16 for gzip.
std::string deflate_with(std::string_view data, int window_bits)
{
    z_stream stream {};
    if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, window_bits, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return {};
    std::string out;
    out.resize(deflateBound(&stream, static_cast<uLong>(data.size())) + 32);
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    return out;
}

}

Result<std::string> gunzip(std::string_view data, size_t max_size)
{
    z_stream stream {};
    if (inflateInit2(&stream, 15 + 16) != Z_OK)
        return make_error(ErrorKind::internal, "cannot start zlib");
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    stream.avail_in = static_cast<uInt>(data.size());
    std::string out;
    char buffer[1 << 14];
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
        stream.next_out = reinterpret_cast<Bytef*>(buffer);
        stream.avail_out = sizeof buffer;
        rc = inflate(&stream, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END) {
            inflateEnd(&stream);
            return make_error(ErrorKind::invalid_input, "not valid gzip data");
        }
        out.append(buffer, sizeof buffer - stream.avail_out);
        if (out.size() > max_size) {
            inflateEnd(&stream);
            return make_error(ErrorKind::invalid_input, "more than " + std::to_string(max_size) + " bytes uncompressed");
        }
        if (rc == Z_OK && stream.avail_in == 0 && stream.avail_out != 0) {
            inflateEnd(&stream);
            return make_error(ErrorKind::invalid_input, "gzip data is truncated");
        }
    }
    inflateEnd(&stream);
    return out;
}

std::string gzip(std::string_view data)
{
    return deflate_with(data, 15 + 16);
}

std::string zlib_deflate(std::string_view data)
{
    return deflate_with(data, 15);
}

}

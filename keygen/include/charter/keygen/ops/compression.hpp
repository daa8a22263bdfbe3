#pragma once
// zlib for the RubyGems formats: gunzip (a gem's metadata.gz), gzip (specs.4.8.gz) and raw
// zlib deflate (quick/Marshal.4.8/*.gemspec.rz).

#include "charter/result.hpp"

#include <string>
#include <string_view>

namespace charter::ops {

/// Inflates gzip data; more than `max_size` bytes out is ErrorKind::invalid_input.
Result<std::string> gunzip(std::string_view data, size_t max_size);
/// gzip (RFC 1952), as Ruby's Zlib::GzipReader reads it.
std::string gzip(std::string_view data);
/// zlib (RFC 1950), as Ruby's Zlib::Inflate.inflate reads it.
std::string zlib_deflate(std::string_view data);

}

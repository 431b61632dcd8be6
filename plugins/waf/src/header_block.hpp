// Request and response headers as HAProxy hands them to an agent: the binary block of
// req.hdrs_bin / res.hdrs_bin, or the HTTP/1 text of req.hdrs / res.hdrs (what
// coraza-spoa's examples send). Both arrive from the network, so every length is checked.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spoa::waf {

struct Header {
  std::string name;
  std::string value;
};

struct HeaderList {
  std::vector<Header> headers;
  // More headers arrived than the cap; only the first `limit` are in `headers`. Reported
  // to the operator (headers_truncated) instead of being dropped silently.
  bool truncated = false;
  std::size_t bytes = 0;  // name + value bytes kept, for memory accounting
};

struct HeaderError {
  std::string reason;
};

// req.hdrs_bin: pairs of <varint length><bytes> (name, then value), ended by an empty name
// and an empty value. A block that ends without the terminator is accepted when it ends
// exactly after a complete pair (HAProxy always writes it, but nothing after it matters).
std::optional<HeaderError> decode_binary_headers(std::string_view block, std::size_t limit,
                                                 HeaderList& out);

// req.hdrs: "Name: value\r\n" lines (bare \n accepted), an empty line ends the block.
// A line without a colon is an error, as it would be for HAProxy's own parser.
std::optional<HeaderError> decode_text_headers(std::string_view block, std::size_t limit,
                                               HeaderList& out);

// The inverse of decode_binary_headers (what HAProxy writes), for tests and benchmarks.
std::string encode_varint(std::uint64_t value);
std::string encode_binary_headers(const std::vector<Header>& headers);

}  // namespace spoa::waf

// The file formats of list sources, parsed into SourceData. Every error names the file and
// line, and one bad line refuses the whole file (the last good version keeps serving):
// half a blocklist silently served is worse than yesterday's whole one.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "source_data.hpp"

namespace spoa::iprep {

enum class ListFormat {
  // One entry a line: an address, a network (CIDR) or a range "first-last"; '#' starts a
  // comment. FireHOL's .netset and .ipset files are this format, and so are most
  // published blocklists (Spamhaus DROP uses ';' comments: also accepted).
  plain,
  // "network,label,score" a line; label and score optional; a first line whose first
  // field is not a network is taken as a header.
  csv,
};

// "list", "netset", "ipset" -> plain; "csv" -> csv.
std::optional<ListFormat> parse_list_format(std::string_view name) noexcept;

struct ListDefaults {
  std::string label;  // for entries that do not carry one
  std::optional<std::int32_t> score;
};

// `path` only names the source in errors. Throws support::ParseError.
std::shared_ptr<SourceData> parse_list(std::string_view text, const std::string& path,
                                       ListFormat format, const ListDefaults& defaults);

// "10.0.0.1-10.0.0.6" as the fewest networks that cover exactly that range; nullopt when
// the ends are not addresses of one family or first > last.
std::optional<std::vector<Prefix>> range_to_prefixes(std::string_view first, std::string_view last);

}  // namespace spoa::iprep

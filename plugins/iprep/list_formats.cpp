#include "list_formats.hpp"

#include <charconv>

#include "spoa/support/parse_error.hpp"
#include "spoa/support/text_lines.hpp"

namespace spoa::iprep {
namespace {

using support::ParseError;
using support::trim;

std::string quoted(std::string_view s) {
  constexpr std::size_t kShown = 60;
  if (s.size() > kShown) return "'" + std::string(s.substr(0, kShown)) + "...'";
  return "'" + std::string(s) + "'";
}

// Adds the networks one list entry stands for: address, network, or range.
bool add_entry(std::string_view text, std::uint32_t value, std::vector<PrefixTable::Entry>& out) {
  if (const std::size_t dash = text.find('-'); dash != std::string_view::npos) {
    const auto prefixes =
        range_to_prefixes(trim(text.substr(0, dash)), trim(text.substr(dash + 1)));
    if (!prefixes) return false;
    for (const Prefix& p : *prefixes)
      out.push_back({p, value});
    return true;
  }
  const auto p = Prefix::parse(text);
  if (!p) return false;
  out.push_back({*p, value});
  return true;
}

std::string_view unquote(std::string_view field) {
  field = trim(field);
  if (field.size() >= 2 && field.front() == '"' && field.back() == '"')
    return field.substr(1, field.size() - 2);
  return field;
}

}  // namespace

std::optional<ListFormat> parse_list_format(std::string_view name) noexcept {
  if (name == "list" || name == "netset" || name == "ipset") return ListFormat::plain;
  if (name == "csv") return ListFormat::csv;
  return std::nullopt;
}

std::optional<std::vector<Prefix>> range_to_prefixes(std::string_view first,
                                                     std::string_view last) {
  const auto a = IpAddress::parse(first);
  const auto b = IpAddress::parse(last);
  if (!a || !b || a->family() != b->family()) return std::nullopt;
  const unsigned bits = a->bits();
  uint128 lo = a->is_v4() ? uint128{a->v4_value()} : a->v6_value();
  const uint128 hi = a->is_v4() ? uint128{b->v4_value()} : b->v6_value();
  if (lo > hi) return std::nullopt;
  std::vector<Prefix> out;
  const auto low_mask = [](unsigned n) {  // n low bits set, n <= 128
    return n >= 128 ? ~uint128{0} : (uint128{1} << n) - 1;
  };
  for (;;) {
    // The largest aligned block starting at lo that does not pass hi.
    unsigned size_bits = 0;
    while (size_bits < bits) {
      const uint128 mask = low_mask(size_bits + 1);
      if ((lo & mask) != 0 || hi - lo < mask) break;
      ++size_bits;
    }
    const IpAddress start =
        a->is_v4() ? IpAddress::v4(static_cast<std::uint32_t>(lo)) : IpAddress::v6(lo);
    out.push_back(Prefix::of(start, bits - size_bits));
    const uint128 end = lo + low_mask(size_bits);
    if (end >= hi) break;
    lo = end + 1;
  }
  return out;
}

std::shared_ptr<SourceData> parse_list(std::string_view text, const std::string& path,
                                       ListFormat format, const ListDefaults& defaults) {
  auto data = std::make_shared<SourceData>();
  std::vector<PrefixTable::Entry> entries;
  entries.reserve(text.size() / 14);  // about one entry per 14 bytes of a typical list

  Attributes base;
  base.label = data->strings.intern(defaults.label);
  base.has_score = defaults.score.has_value();
  base.score = defaults.score.value_or(0);
  data->attributes.push_back(base);

  if (format == ListFormat::plain) {
    // '#' comments; ';' comments too (Spamhaus DROP: "1.2.3.0/24 ; SBL123").
    support::TextLines lines(text, '#');
    std::string_view line;
    std::size_t number = 0;
    while (lines.next(line, number)) {
      if (const std::size_t semi = line.find(';'); semi != std::string_view::npos)
        line = trim(line.substr(0, semi));
      if (line.empty()) continue;
      if (!add_entry(line, 0, entries))
        throw ParseError(path, number, quoted(line) + " is not an IP address, network or range");
      ++data->entries;
    }
  } else {
    support::TextLines lines(text, '#');
    std::string_view line;
    std::size_t number = 0;
    bool first = true;
    while (lines.next(line, number)) {
      std::string_view fields[3];
      std::size_t count = 0;
      std::string_view rest = line;
      while (count < 3) {
        const std::size_t comma = rest.find(',');
        fields[count++] = unquote(rest.substr(0, comma));
        if (comma == std::string_view::npos) {
          rest = {};
          break;
        }
        rest = rest.substr(comma + 1);
      }
      if (!rest.empty())
        throw ParseError(path, number, "more than 3 fields (network,label,score): " + quoted(line));
      const bool was_first = first;
      first = false;
      const auto prefix = Prefix::parse(fields[0]);
      if (!prefix) {
        if (was_first) continue;  // a header line
        throw ParseError(path, number, quoted(fields[0]) + " is not an IP network");
      }
      Attributes a = base;
      if (count >= 2 && !fields[1].empty()) a.label = data->strings.intern(fields[1]);
      if (count >= 3 && !fields[2].empty()) {
        std::int32_t score = 0;
        const auto [end, ec] =
            std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), score);
        if (ec != std::errc() || end != fields[2].data() + fields[2].size())
          throw ParseError(path, number, "score " + quoted(fields[2]) + " is not a 32-bit integer");
        a.score = score;
        a.has_score = true;
      }
      std::uint32_t value = 0;
      if (a.label.data() != base.label.data() || a.score != base.score ||
          a.has_score != base.has_score) {
        // Consecutive lines often share label and score: reuse the previous attributes.
        const Attributes& last = data->attributes.back();
        if (data->attributes.size() > 1 && last.label.data() == a.label.data() &&
            last.score == a.score && last.has_score == a.has_score) {
          value = static_cast<std::uint32_t>(data->attributes.size() - 1);
        } else {
          data->attributes.push_back(a);
          value = static_cast<std::uint32_t>(data->attributes.size() - 1);
        }
      }
      entries.push_back({*prefix, value});
      ++data->entries;
    }
  }
  data->table = PrefixTable::build(std::move(entries));
  return data;
}

}  // namespace spoa::iprep

#include "prefix_table.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace spoa::iprep {
namespace {

template <class Key>
constexpr unsigned key_bits() {
  return sizeof(Key) * 8;
}

template <class Key>
Key host_mask(unsigned length) {
  constexpr unsigned bits = key_bits<Key>();
  return length >= bits ? Key{0} : static_cast<Key>(~Key{0} >> length);
}

template <class Key>
unsigned leading_zeros(Key v) {
  if constexpr (sizeof(Key) == 4) {
    return v == 0 ? 32u : static_cast<unsigned>(__builtin_clz(v));
  } else if constexpr (sizeof(Key) == 8) {
    return v == 0 ? 64u : static_cast<unsigned>(__builtin_clzll(v));
  } else {
    const auto high = static_cast<std::uint64_t>(v >> 64);
    const auto low = static_cast<std::uint64_t>(v);
    if (high != 0) return static_cast<unsigned>(__builtin_clzll(high));
    return low == 0 ? 128u : 64u + static_cast<unsigned>(__builtin_clzll(low));
  }
}

unsigned ceil_log2(std::size_t n) {
  unsigned b = 0;
  while ((std::size_t{1} << b) < n)
    ++b;
  return b;
}

}  // namespace

template <class Key>
void PrefixTable::Family<Key>::build(const std::vector<Network>& sorted) {
  networks = static_cast<std::size_t>(
      std::count_if(sorted.begin(), sorted.end(), [](const Network& n) { return !n.long_marker; }));
  segments.clear();
  index.clear();
  common = 0;
  common_bits = 0;
  bucket_bits = 0;
  std::vector<std::size_t> open;
  const auto plain_label = [&sorted](std::size_t i) {
    return (sorted[i].value << 8) | (std::uint32_t{sorted[i].length} + 1);
  };
  const auto label_of = [&](std::size_t i) {
    if (!sorted[i].long_marker) return plain_label(i);
    // The network around the marker answers when no long network matches. A marker is one
    // point of the key space, so nothing nests inside it.
    for (auto it = open.rbegin(); it != open.rend(); ++it)
      if (!sorted[*it].long_marker) return kLongFlag | plain_label(*it);
    return kLongFlag;
  };

  // Sweep the networks in (start, shorter first) order with a stack of the networks that
  // contain the current point: a segment begins at each network's start and after each
  // network's end, labelled with the innermost network still open.
  std::vector<std::pair<Key, std::uint32_t>> raw;
  raw.reserve(2 * sorted.size() + 1);
  const auto emit = [&raw](Key start, std::uint32_t label) {
    if (!raw.empty() && raw.back().first == start) {
      raw.back().second = label;
      return;
    }
    raw.emplace_back(start, label);
  };
  emit(0, 0);
  const auto end_of = [&sorted](std::size_t i) {
    return static_cast<Key>(sorted[i].start | host_mask<Key>(sorted[i].length));
  };
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    while (!open.empty() && end_of(open.back()) < sorted[i].start) {
      const Key after = static_cast<Key>(end_of(open.back()) + 1);
      open.pop_back();
      emit(after, open.empty() ? 0 : label_of(open.back()));
    }
    emit(sorted[i].start, label_of(i));
    open.push_back(i);
  }
  while (!open.empty()) {
    const Key end = end_of(open.back());
    open.pop_back();
    if (end == std::numeric_limits<Key>::max()) continue;  // reaches the top: nothing after
    emit(static_cast<Key>(end + 1), open.empty() ? 0 : label_of(open.back()));
  }
  // A gap (label 0) ends where the next network starts, so a lookup that lands in it finds
  // the segment before and sees that its network ends before the key (covers()): only the
  // gap at 0 keeps a segment, so that every key has one at or below it.
  std::size_t count = 0;
  for (std::size_t i = 0; i < raw.size(); ++i)
    if (i == 0 || raw[i].second != 0) ++count;
  segments.reserve(count);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (i > 0 && raw[i].second == 0) continue;
    Stored s{};
    if constexpr (sizeof(Key) <= 8) {
      s.start = raw[i].first;
    } else {
      s.high = static_cast<std::uint64_t>(raw[i].first >> 64);
      s.low = static_cast<std::uint64_t>(raw[i].first);
    }
    s.label = raw[i].second;
    segments.push_back(s);
  }
  raw.clear();
  raw.shrink_to_fit();

  if (segments.size() <= 8) return;  // a plain binary search is as fast
  constexpr unsigned bits = key_bits<Key>();
  // The first segment starts at 0 in every table; the common prefix is that of the others.
  const Key first = start_of(segments[1]);
  const Key last = start_of(segments.back());
  common_bits = leading_zeros<Key>(static_cast<Key>(first ^ last));
  common = common_bits == 0 ? Key{0} : static_cast<Key>(first >> (bits - common_bits));
  // About four segments a bucket (IPv6: 48 bytes, one cache line or two neighbours), at
  // most 2^18 buckets (1 MiB, which stays in L2).
  const unsigned want = ceil_log2(segments.size());
  bucket_bits = std::min(std::clamp(want > 2 ? want - 2 : 1u, 4u, 18u), bits - common_bits);
  const std::size_t buckets = std::size_t{1} << bucket_bits;
  index.resize(buckets + 1);
  const Key base = common_bits == 0 ? Key{0} : static_cast<Key>(common << (bits - common_bits));
  const unsigned shift = bits - common_bits - bucket_bits;
  std::size_t segment = 0;
  for (std::size_t b = 0; b < buckets; ++b) {
    const Key bucket_start = static_cast<Key>(base | (static_cast<Key>(b) << shift));
    while (segment + 1 < segments.size() && start_of(segments[segment + 1]) <= bucket_start)
      ++segment;
    index[b] = static_cast<std::uint32_t>(segment);
  }
  index[buckets] = static_cast<std::uint32_t>(segments.size() - 1);
}

template <class Key>
const typename PrefixTable::Family<Key>::Stored& PrefixTable::Family<Key>::find(
    Key key) const noexcept {
  const Stored* base = segments.data();
  std::size_t n = segments.size();
  if (!index.empty()) {
    constexpr unsigned bits = key_bits<Key>();
    const Key top = common_bits == 0 ? Key{0} : static_cast<Key>(key >> (bits - common_bits));
    if (top == common) {
      const unsigned shift = bits - common_bits - bucket_bits;
      const auto bucket = static_cast<std::size_t>((key >> shift) & ((Key{1} << bucket_bits) - 1));
      base += index[bucket];
      n = index[bucket + 1] - index[bucket] + 1;
      // A bucket may span two or three cache lines: ask for them all now, so that they arrive
      // together instead of one after another as the search below moves through them.
      __builtin_prefetch(base + n / 2);
      __builtin_prefetch(base + n - 1);
    }
  }
  // The last segment starting at or below key (base's does). No branch depends on the
  // data: a mispredicted one would stall until its segment arrived from memory.
  while (n > 1) {
    const std::size_t half = n / 2;
    base = start_of(base[half]) <= key ? base + half : base;
    n -= half;
  }
  return *base;
}

template <class Key>
bool PrefixTable::Family<Key>::covers(const Stored& s, Key key) noexcept {
  const std::uint32_t label = s.label & ~kLongFlag;
  if (label == 0) return false;
  const unsigned length = (label & 0xffu) - 1;
  return ((key ^ start_of(s)) & ~host_mask<Key>(length)) == 0;
}

template <class Key>
std::size_t PrefixTable::Family<Key>::memory_bytes() const noexcept {
  return segments.capacity() * sizeof(Stored) + index.capacity() * sizeof(std::uint32_t);
}

PrefixTable PrefixTable::build(std::vector<Entry> entries) {
  std::vector<Family<std::uint32_t>::Network> v4;
  std::vector<Family<std::uint64_t>::Network> v6;
  std::vector<Family<uint128>::Network> v6_long;
  for (const Entry& e : entries) {
    if (e.value > kMaxValue) throw std::length_error("prefix table: more than 2^23 entry values");
    if (e.prefix.network.is_v4()) {
      v4.push_back({e.prefix.network.v4_value(), e.value, e.prefix.length});
    } else if (e.prefix.length <= 64) {
      v6.push_back({static_cast<std::uint64_t>(e.prefix.network.v6_value() >> 64), e.value,
                    e.prefix.length});
    } else {
      v6_long.push_back({e.prefix.network.v6_value(), e.value, e.prefix.length});
      v6.push_back({static_cast<std::uint64_t>(e.prefix.network.v6_value() >> 64), 0, 64, true});
    }
  }
  entries.clear();
  entries.shrink_to_fit();
  const auto sort_unique = [](auto& networks) {
    // stable: the first of several entries for one network is kept
    // (markers after the real network of the same /64, so that it encloses them)
    std::stable_sort(networks.begin(), networks.end(), [](const auto& a, const auto& b) {
      if (a.start != b.start) return a.start < b.start;
      if (a.length != b.length) return a.length < b.length;
      return a.long_marker < b.long_marker;
    });
    networks.erase(std::unique(networks.begin(), networks.end(),
                               [](const auto& a, const auto& b) {
                                 return a.start == b.start && a.length == b.length &&
                                        a.long_marker == b.long_marker;
                               }),
                   networks.end());
  };
  sort_unique(v4);
  sort_unique(v6);
  sort_unique(v6_long);
  PrefixTable table;
  table.v4_.build(v4);
  table.v6_.build(v6);
  table.v6_long_.build(v6_long);
  return table;
}

std::optional<PrefixMatch> PrefixTable::lookup(const IpAddress& address) const noexcept {
  std::uint32_t label = 0;
  if (address.is_v4()) {
    if (v4_.segments.empty()) return std::nullopt;  // default-constructed: never built
    const std::uint32_t key = address.v4_value();
    const auto& segment = v4_.find(key);
    if (!v4_.covers(segment, key)) return std::nullopt;
    label = segment.label;
  } else {
    if (v6_.segments.empty()) return std::nullopt;
    const uint128 key = address.v6_value();
    const auto top = static_cast<std::uint64_t>(key >> 64);
    const auto& segment = v6_.find(top);
    label = segment.label & ~kLongFlag;
    // A marker: this /64 holds networks longer than /64, and one that matches is the most
    // specific. Else the network around the marker answers.
    if ((segment.label & kLongFlag) != 0 && segment.start == top) {
      const auto& long_segment = v6_long_.find(key);
      if (v6_long_.covers(long_segment, key)) label = long_segment.label;
    } else if (!v6_.covers(segment, top)) {
      return std::nullopt;
    }
    if (label == 0) return std::nullopt;
  }
  // The covering network is the address cut to the network's length.
  return PrefixMatch{label >> 8, Prefix::of(address, (label & 0xffu) - 1)};
}

std::size_t PrefixTable::memory_bytes() const noexcept {
  return v4_.memory_bytes() + v6_.memory_bytes() + v6_long_.memory_bytes();
}

template struct PrefixTable::Family<std::uint32_t>;
template struct PrefixTable::Family<std::uint64_t>;
template struct PrefixTable::Family<uint128>;

}  // namespace spoa::iprep

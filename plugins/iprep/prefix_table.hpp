// Longest-prefix match over a fixed set of IPv4 and IPv6 networks, built once off the I/O
// threads and then only read.
//
// The networks are flattened into the sorted starts of disjoint address segments, each
// labelled with the most specific network covering it, so a lookup is "the last segment
// starting at or below the address": a binary search. A label packs the entry's value
// with the network's length, so the network is the segment start cut to that length, and
// an address past its end is in a gap that no network covers: gaps need no segment of their
// own, which halves the segments of a list of scattered networks. The label sits next to
// the segment's start, so a lookup reads the bucket index (small enough to stay in L2) and
// about one cache line of segments. The bucket index works on the bits after the prefix all
// segment starts share (for IPv6 typically 2000::/3) and narrows the search to about four
// segments, searched without a data-dependent branch. The arrays live on huge pages
// (huge_page_allocator.hpp). Figures: benchmarks/iprep.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <vector>

#include "huge_page_allocator.hpp"
#include "spoa/support/ip_address.hpp"

namespace spoa::iprep {

using support::IpAddress;
using support::Prefix;
using support::uint128;

struct PrefixMatch {
  std::uint32_t value = 0;  // what the entry carried
  Prefix prefix;            // the network that matched
};

class PrefixTable {
 public:
  struct Entry {
    Prefix prefix;
    std::uint32_t value = 0;
  };

  PrefixTable() = default;
  // Duplicates of one network keep the first entry's value (a list's first word wins).
  // Throws std::length_error for a value above kMaxValue.
  static PrefixTable build(std::vector<Entry> entries);

  std::optional<PrefixMatch> lookup(const IpAddress& address) const noexcept;

  // Distinct networks held.
  std::size_t size() const noexcept { return v4_.networks + v6_.networks + v6_long_.networks; }
  // Heap bytes of the table (networks, segments, index), for the memory-per-prefix figure.
  std::size_t memory_bytes() const noexcept;

  // Values above this do not fit a segment label (23 bits; see Family).
  static constexpr std::uint32_t kMaxValue = (1u << 23) - 1;
  // In the IPv6 /64 table: this /64 holds longer networks, look in the long table first.
  static constexpr std::uint32_t kLongFlag = 1u << 31;

  // One address family. Public for the build code in the .cpp only.
  template <class Key>
  struct Family {
    struct Network {
      Key start;
      std::uint32_t value;
      std::uint8_t length;
      // A /64 standing for the longer networks inside it (IPv6 /64 table only): its
      // segment's label is kLongFlag plus the label of the network around it.
      bool long_marker = false;
    };
    // A segment: where it starts and its label, value << 8 | (length + 1) of the network
    // covering it, 0 only for the segment at 0 when no network covers it. Start and label
    // share a cache line, so finding the segment also reads its label. 128-bit starts are two
    // 64-bit halves (a 24-byte segment instead of the 32 bytes the alignment of a 128-bit integer
    // would make it).
    struct Segment32 {
      std::uint32_t start;
      std::uint32_t label;
    };
    // Packed to 12 bytes: a third more segments per cache line than 16 (x86 and arm64 load
    // an unaligned 64-bit word at full speed).
    struct [[gnu::packed]] Segment64 {
      std::uint64_t start;
      std::uint32_t label;
    };
    struct Segment128 {
      std::uint64_t high, low;
      std::uint32_t label;
    };
    using Stored = std::conditional_t<sizeof(Key) == 4, Segment32,
                                      std::conditional_t<sizeof(Key) == 8, Segment64, Segment128>>;
    static Key start_of(const Segment32& s) noexcept { return static_cast<Key>(s.start); }
    static Key start_of(const Segment64& s) noexcept { return static_cast<Key>(s.start); }
    static Key start_of(const Segment128& s) noexcept {
      return static_cast<Key>((uint128{s.high} << 64) | s.low);
    }
    std::vector<Stored, HugePageAllocator<Stored>> segments;  // ascending, first starts at 0
    // Bucket index: keys sharing the top `common_bits` bits with `common` are bucketed by
    // their next `bucket_bits` bits; bucket b's segments lie in [index[b], index[b+1]].
    std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>> index;
    Key common = 0;
    unsigned common_bits = 0;
    unsigned bucket_bits = 0;
    std::size_t networks = 0;

    void build(const std::vector<Network>& sorted_unique);
    // The last segment starting at or below `key` (there is one: the first starts at 0).
    const Stored& find(Key key) const noexcept;
    // Whether the network of `s`'s label holds `key` (false: `key` is in a gap after it).
    static bool covers(const Stored& s, Key key) noexcept;
    std::size_t memory_bytes() const noexcept;
  };

 private:
  Family<std::uint32_t> v4_;
  // IPv6 in two tables: networks up to /64 (nearly all of every published list) keyed by
  // the address's top 64 bits, which halves the segment size; longer ones (single
  // addresses banned by CrowdSec, /112s) keyed by all 128 bits. The /64s that hold long
  // networks are flagged in the first table, so only lookups there pay for a second one.
  Family<std::uint64_t> v6_;
  Family<uint128> v6_long_;
};

}  // namespace spoa::iprep

// What `--check-config` (and every load of a database, at start, on reload and when the
// file is replaced) proves about a database before it answers a lookup:
//
//  1. libmaxminddb opens it: the metadata section is found and valid, the search tree and
//     data section sizes agree with the file size (MMDB_open).
//  2. The whole search tree is walked, every node: every record is another node, empty, or
//     a pointer into the data section. A corrupt tree would otherwise only show as lookup
//     errors for some addresses.
//  3. The distinct data records the tree points to are collected (records shared by many
//     networks count once) and every mapped data path is resolved in each of them, or in an
//     evenly spread sample of `record_budget` of them when there are more. A path must
//     resolve to a scalar (string, number, boolean, bytes) in at least one record and never
//     to a map or an array; a record whose data cannot be decoded fails the check.
//
// So after a check that covered all records, every lookup gives each variable either a
// value of one of the types reported, or its default: never a decoding error. With a
// sample, the guarantee holds for the sampled records and the rest only had their tree
// pointers checked; the report says which, and a budget of 0 checks all of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mmdb_database.hpp"
#include "variable_source.hpp"

namespace spoa::geoip {

struct PathReport {
  std::string path;
  std::uint64_t present = 0;    // records in which the path has a value
  std::uint32_t type_mask = 0;  // bit (1 << MMDB_DATA_TYPE_x) for every type seen
};

struct CheckReport {
  std::uint64_t nodes = 0;
  std::uint64_t records = 0;          // distinct data records in the tree
  std::uint64_t records_checked = 0;  // of which the paths were resolved in
  std::vector<PathReport> paths;      // in the order asked
  std::vector<std::string> errors;    // empty: the database is usable with these paths

  bool ok() const noexcept { return errors.empty(); }
  bool exhaustive() const noexcept { return records_checked == records; }
  // "utf8_string", "uint16|uint32": the types a path was seen with.
  static std::string type_names(std::uint32_t type_mask);
  // The one MMDB type of a path, or -1 when it was seen with several (or none).
  static int single_type(std::uint32_t type_mask) noexcept;
};

// record_budget: 0 = every record.
CheckReport check_database(const Database& db, const std::vector<const VariableSource*>& paths,
                           std::uint64_t record_budget);

// One line for the log: type, IP version, build date, nodes, records.
std::string describe(const Database& db, const CheckReport& report);

}  // namespace spoa::geoip

#include "database_check.hpp"

#include <ctime>
#include <memory>

#include "geo_value.hpp"

namespace spoa::geoip {

namespace {

constexpr std::size_t max_errors = 10;

// The node after the value that starts at `node` in a flattened entry data list.
const MMDB_entry_data_list_s* skip_value(const MMDB_entry_data_list_s* node) {
  if (node == nullptr) return nullptr;
  const std::uint32_t type = node->entry_data.type;
  const std::uint32_t size = node->entry_data.data_size;
  node = node->next;
  if (type == MMDB_DATA_TYPE_MAP) {
    for (std::uint32_t i = 0; i < size && node != nullptr; ++i)
      node = skip_value(node->next);
  } else if (type == MMDB_DATA_TYPE_ARRAY) {
    for (std::uint32_t i = 0; i < size && node != nullptr; ++i)
      node = skip_value(node);
  }
  return node;
}

struct EntryDataList {
  MMDB_entry_data_list_s* list = nullptr;
  ~EntryDataList() { MMDB_free_entry_data_list(list); }
};

// "keys: city, continent, country" for a map, "an array of 2" for an array.
std::string describe_container(const MMDB_s& mmdb, std::uint32_t offset) {
  MMDB_entry_s entry{&mmdb, offset};
  EntryDataList data;
  if (MMDB_get_entry_data_list(&entry, &data.list) != MMDB_SUCCESS || data.list == nullptr)
    return "undecodable";
  const MMDB_entry_data_s& head = data.list->entry_data;
  if (head.type == MMDB_DATA_TYPE_ARRAY)
    return "an array of " + std::to_string(head.data_size) + " elements";
  if (head.type != MMDB_DATA_TYPE_MAP) return "a " + std::string(mmdb_type_name(head.type));
  std::string keys;
  const MMDB_entry_data_list_s* node = data.list->next;
  for (std::uint32_t i = 0; i < head.data_size && node != nullptr; ++i) {
    if (node->entry_data.type == MMDB_DATA_TYPE_UTF8_STRING) {
      if (!keys.empty()) keys += ", ";
      keys.append(node->entry_data.utf8_string, node->entry_data.data_size);
    }
    node = skip_value(node->next);
  }
  return "a map with keys " + (keys.empty() ? std::string("(none)") : keys);
}

// Why `source` finds nothing in this record: the deepest part of the path that resolves,
// and what is there.
std::string missing_hint(const MMDB_s& mmdb, std::uint32_t record_offset,
                         const VariableSource& source) {
  const auto& components = source.components();
  for (std::size_t depth = components.size() - 1; depth > 0; --depth) {
    std::vector<const char*> prefix;
    for (std::size_t i = 0; i < depth; ++i)
      prefix.push_back(components[i].c_str());
    prefix.push_back(nullptr);
    MMDB_entry_s entry{&mmdb, record_offset};
    MMDB_entry_data_s data{};
    if (MMDB_aget_value(&entry, &data, prefix.data()) == MMDB_SUCCESS && data.has_data) {
      std::string at;
      for (std::size_t i = 0; i < depth; ++i)
        at += (i ? "." : "") + components[i];
      return "'" + at + "' is " + describe_container(mmdb, data.offset);
    }
  }
  return "the record is " + describe_container(mmdb, record_offset);
}

class OffsetSet {
 public:
  explicit OffsetSet(std::uint32_t size) : bits_((static_cast<std::size_t>(size) + 63) / 64) {}
  bool insert(std::uint32_t offset) {
    std::uint64_t& word = bits_[offset / 64];
    const std::uint64_t bit = std::uint64_t{1} << (offset % 64);
    if (word & bit) return false;
    word |= bit;
    return true;
  }
  template <class F>
  void for_each(F&& f) const {
    for (std::size_t w = 0; w < bits_.size(); ++w) {
      std::uint64_t word = bits_[w];
      while (word) {
        const int bit = __builtin_ctzll(word);
        f(static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(bit)));
        word &= word - 1;
      }
    }
  }

 private:
  std::vector<std::uint64_t> bits_;
};

}  // namespace

std::string CheckReport::type_names(std::uint32_t type_mask) {
  std::string names;
  for (std::uint32_t t = 0; t < 32; ++t) {
    if (!(type_mask & (1u << t))) continue;
    if (!names.empty()) names += "|";
    names += mmdb_type_name(t);
  }
  return names.empty() ? "none" : names;
}

int CheckReport::single_type(std::uint32_t type_mask) noexcept {
  if (type_mask == 0 || (type_mask & (type_mask - 1)) != 0) return -1;
  return __builtin_ctz(type_mask);
}

CheckReport check_database(const Database& db, const std::vector<const VariableSource*>& paths,
                           std::uint64_t record_budget) {
  const MMDB_s& mmdb = db.mmdb();
  CheckReport report;
  report.nodes = mmdb.metadata.node_count;
  for (const VariableSource* p : paths)
    report.paths.push_back(PathReport{p->text(), 0, 0});

  // 2. The tree.
  OffsetSet offsets(mmdb.data_section_size);
  for (std::uint32_t n = 0; n < mmdb.metadata.node_count; ++n) {
    MMDB_search_node_s node{};
    const int status = MMDB_read_node(&mmdb, n, &node);
    if (status != MMDB_SUCCESS) {
      report.errors.push_back("search tree node " + std::to_string(n) + ": " +
                              MMDB_strerror(status));
      return report;
    }
    for (int side = 0; side < 2; ++side) {
      const std::uint8_t type = side ? node.right_record_type : node.left_record_type;
      const std::uint64_t record = side ? node.right_record : node.left_record;
      if (type == MMDB_RECORD_TYPE_INVALID) {
        report.errors.push_back("search tree node " + std::to_string(n) + ": record " +
                                std::to_string(record) +
                                " points neither to a node nor into the data section");
        return report;
      }
      if (type != MMDB_RECORD_TYPE_DATA) continue;
      const MMDB_entry_s& entry = side ? node.right_record_entry : node.left_record_entry;
      if (entry.offset >= mmdb.data_section_size) {
        report.errors.push_back("search tree node " + std::to_string(n) +
                                ": data pointer beyond the data section");
        return report;
      }
      if (offsets.insert(entry.offset)) ++report.records;
    }
  }

  // 3. The data: every record, or an evenly spread sample of record_budget of them.
  const std::uint64_t budget =
      record_budget == 0 || record_budget >= report.records ? report.records : record_budget;
  std::vector<std::uint32_t> first_record_without(paths.size(), UINT32_MAX);
  std::vector<std::uint64_t> container_seen(paths.size(), 0);
  std::vector<std::uint32_t> container_offset(paths.size(), 0);
  std::uint64_t index = 0;
  offsets.for_each([&](std::uint32_t offset) {
    const std::uint64_t i = index++;
    // Record i is taken when floor(i * budget / records) moves on: `budget` of them, spread.
    const bool take = budget == report.records || i == 0 ||
                      (i * budget) / report.records != ((i - 1) * budget) / report.records;
    if (!take) return;
    if (report.errors.size() >= max_errors) return;
    ++report.records_checked;
    for (std::size_t p = 0; p < paths.size(); ++p) {
      MMDB_entry_s entry{&mmdb, offset};
      MMDB_entry_data_s data{};
      const int status = MMDB_aget_value(&entry, &data, paths[p]->mmdb_path());
      if (status == MMDB_SUCCESS && data.has_data) {
        ++report.paths[p].present;
        report.paths[p].type_mask |= 1u << (data.type & 31);
        if (data.type == MMDB_DATA_TYPE_MAP || data.type == MMDB_DATA_TYPE_ARRAY) {
          if (container_seen[p]++ == 0) container_offset[p] = data.offset;
        }
      } else if (status == MMDB_SUCCESS || status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR ||
                 status == MMDB_INVALID_LOOKUP_PATH_ERROR) {
        // Absent here, or the path runs through a value that is not a container, or an
        // index into a map: this record has no such value.
        if (first_record_without[p] == UINT32_MAX) first_record_without[p] = offset;
      } else if (report.errors.size() < max_errors) {
        report.errors.push_back("data record at offset " + std::to_string(offset) + ", path '" +
                                paths[p]->text() + "': " + MMDB_strerror(status));
      }
    }
  });

  const std::string scope = report.exhaustive()
                                ? "any of the " + std::to_string(report.records) + " records"
                                : "the " + std::to_string(report.records_checked) +
                                      " records checked (of " + std::to_string(report.records) +
                                      "; check_records = 0 checks all)";
  for (std::size_t p = 0; p < paths.size(); ++p) {
    const PathReport& r = report.paths[p];
    if (r.present == 0) {
      std::string message = "path '" + r.path + "' is not in " + scope;
      if (first_record_without[p] != UINT32_MAX)
        message += ": " + missing_hint(mmdb, first_record_without[p], *paths[p]);
      report.errors.push_back(message);
    } else if (container_seen[p] != 0) {
      report.errors.push_back("path '" + r.path + "' leads to " +
                              describe_container(mmdb, container_offset[p]) + " in " +
                              std::to_string(container_seen[p]) +
                              " records, not to a value: name a value inside it");
    }
  }
  return report;
}

std::string describe(const Database& db, const CheckReport& report) {
  const MMDB_metadata_s& m = db.mmdb().metadata;
  char built[32] = "unknown";
  const std::time_t epoch = static_cast<std::time_t>(m.build_epoch);
  std::tm tm{};
  if (gmtime_r(&epoch, &tm) != nullptr)
    std::strftime(built, sizeof built, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::string text = std::string(m.database_type ? m.database_type : "?") + ", IPv" +
                     std::to_string(m.ip_version) + " tree, built " + built + ", " +
                     std::to_string(report.nodes) + " nodes, " + std::to_string(report.records) +
                     " records";
  if (!report.exhaustive())
    text += " (paths checked in " + std::to_string(report.records_checked) + ")";
  return text;
}

}  // namespace spoa::geoip

#include "geoip_lookup.hpp"

#include <cstring>

namespace spoa::geoip {

std::shared_ptr<const LoadedDatabase> DatabaseSlot::load() {
  std::shared_ptr<const LoadedDatabase> next = LoadedDatabase::load(config_);
  current_.publish(next);
  return next;
}

Geoip::Geoip(const GeoipConfig& config) {
  for (const DatabaseConfig& db : config.databases)
    slots_.push_back(std::make_unique<DatabaseSlot>(db));
}

void Geoip::load_all() {
  for (auto& slot : slots_)
    slot->load();
}

namespace {

void text_value(GeoValue& out, std::string_view text) noexcept {
  const std::size_t n = std::min(text.size(), sizeof out.text);
  std::memcpy(out.text, text.data(), n);
  out.kind = GeoValue::Kind::string;
  out.bytes = std::string_view(out.text, n);
}

}  // namespace

bool variable_value(const LoadedDatabase& db, const LookupResult& result, const IpAddress& address,
                    const CompiledVariable& variable, GeoValue& out) noexcept {
  const bool found = result.status == LookupResult::Status::found;
  const bool as_text = variable.type == ValueType::string;
  switch (variable.source.kind()) {
    case VariableSource::Kind::data_path: {
      if (found) {
        MMDB_entry_s entry = result.entry;
        MMDB_entry_data_s data{};
        if (MMDB_aget_value(&entry, &data, variable.source.mmdb_path()) == MMDB_SUCCESS &&
            data.has_data && convert(data, variable.type, out) == Conversion::ok)
          return true;
      }
      break;
    }
    case VariableSource::Kind::prefix:
      if (found) {
        if (as_text) {
          const std::string t = std::to_string(result.prefix_length);
          text_value(out, t);
        } else {
          out.kind = GeoValue::Kind::int32;
          out.int32 = static_cast<std::int32_t>(result.prefix_length);
        }
        return true;
      }
      break;
    case VariableSource::Kind::network:
      if (found) {
        text_value(out, support::Prefix::of(address, result.prefix_length).to_string());
        return true;
      }
      break;
    case VariableSource::Kind::found:
      if (as_text) {
        text_value(out, found ? "true" : "false");
      } else {
        out.kind = GeoValue::Kind::boolean;
        out.boolean = found;
      }
      return true;
    case VariableSource::Kind::address:
      if (as_text) {
        text_value(out, address.to_string());
      } else {
        out.kind = address.is_v4() ? GeoValue::Kind::ipv4 : GeoValue::Kind::ipv6;
        std::memcpy(out.ip, address.bytes(), 16);
      }
      return true;
    case VariableSource::Kind::build_epoch: {
      const std::uint64_t epoch = db.database().mmdb().metadata.build_epoch;
      if (as_text) {
        text_value(out, std::to_string(epoch));
      } else {
        out.kind = GeoValue::Kind::uint64;
        out.uint64 = epoch;
      }
      return true;
    }
  }
  if (!variable.has_default) return false;
  out = variable.default_value();
  return true;
}

}  // namespace spoa::geoip

#include "loaded_database.hpp"

#include <charconv>
#include <limits>

namespace spoa::geoip {

GeoValue CompiledVariable::default_value() const noexcept {
  GeoValue v = default_number;
  v.kind = default_kind;
  if (default_kind == GeoValue::Kind::string || default_kind == GeoValue::Kind::binary)
    v.bytes = default_text;
  return v;
}

namespace {

template <class T>
bool parse_integer(const std::string& text, T& out) {
  const auto r = std::from_chars(text.data(), text.data() + text.size(), out);
  return r.ec == std::errc() && r.ptr == text.data() + text.size();
}

// The kind a pseudo-source's values have.
GeoValue::Kind pseudo_kind(VariableSource::Kind kind, ValueType type) {
  if (type == ValueType::string) return GeoValue::Kind::string;
  switch (kind) {
    case VariableSource::Kind::prefix:
      return GeoValue::Kind::int32;
    case VariableSource::Kind::found:
      return GeoValue::Kind::boolean;
    case VariableSource::Kind::build_epoch:
      return GeoValue::Kind::uint64;
    default:
      return GeoValue::Kind::string;
  }
}

// Types the configured default like the values the path has; throws a message on mismatch.
void compile_default(const VariableConfig& config, GeoValue::Kind kind, std::string_view mmdb_type,
                     CompiledVariable& out) {
  out.has_default = true;
  out.default_text = *config.default_text;
  out.default_kind = kind;
  const std::string& t = out.default_text;
  const auto refuse = [&](std::string_view expected) {
    throw DatabaseError("config key '" + config.key + ".default': '" + t + "' is not " +
                        std::string(expected) + " (the database stores '" + config.source.text() +
                        "' as " + std::string(mmdb_type) +
                        "; type = \"string\" makes the variable text)");
  };
  switch (kind) {
    case GeoValue::Kind::boolean:
      if (t != "true" && t != "false") refuse("true or false");
      out.default_number.boolean = t == "true";
      break;
    case GeoValue::Kind::int32:
      if (!parse_integer(t, out.default_number.int32)) refuse("a 32-bit integer");
      break;
    case GeoValue::Kind::uint32:
      if (!parse_integer(t, out.default_number.uint32)) refuse("an unsigned 32-bit integer");
      break;
    case GeoValue::Kind::uint64: {
      std::uint64_t v = 0;
      if (!parse_integer(t, v) ||
          v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        refuse("an integer from 0 to 9223372036854775807");
      out.default_number.uint64 = v;
      break;
    }
    case GeoValue::Kind::string:
    case GeoValue::Kind::binary:
    case GeoValue::Kind::ipv4:  // @address always has a value: its default is never used
    case GeoValue::Kind::ipv6:
      break;
  }
}

}  // namespace

std::shared_ptr<const LoadedDatabase> LoadedDatabase::load(const DatabaseConfig& config) {
  std::shared_ptr<LoadedDatabase> loaded(new LoadedDatabase());
  loaded->db_ = Database::open(config.file, config.load);

  std::vector<const VariableSource*> paths;
  for (const VariableConfig& v : config.variables)
    if (v.source.kind() == VariableSource::Kind::data_path) paths.push_back(&v.source);
  loaded->report_ = check_database(*loaded->db_, paths, config.check_records);
  if (!loaded->report_.ok()) {
    std::string message = config.file + ": ";
    for (std::size_t i = 0; i < loaded->report_.errors.size(); ++i)
      message += (i ? "; " : "") + loaded->report_.errors[i];
    throw DatabaseError(message);
  }

  std::size_t path_index = 0;
  for (const VariableConfig& v : config.variables) {
    CompiledVariable c{v.name, v.source, v.type, false, GeoValue::Kind::string, {}, {}};
    if (v.default_text) {
      if (v.source.kind() == VariableSource::Kind::data_path) {
        const PathReport& r = loaded->report_.paths[path_index];
        const int single = CheckReport::single_type(r.type_mask);
        // A path seen with several types (a custom database) takes its default as text.
        const GeoValue::Kind kind = single < 0
                                        ? GeoValue::Kind::string
                                        : expected_kind(static_cast<std::uint32_t>(single), v.type);
        try {
          compile_default(v, kind, CheckReport::type_names(r.type_mask), c);
        } catch (const DatabaseError& e) {
          throw DatabaseError(config.file + ": " + e.what());
        }
      } else {
        compile_default(v, pseudo_kind(v.source.kind(), v.type), "@", c);
      }
    }
    if (v.source.kind() == VariableSource::Kind::data_path) ++path_index;
    loaded->variables_.push_back(std::move(c));
  }
  loaded->summary_ = describe(*loaded->db_, loaded->report_);
  return loaded;
}

}  // namespace spoa::geoip

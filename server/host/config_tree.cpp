#include "host/config_tree.hpp"

namespace spoa::host {

namespace {
spoa_str view(const std::string& text) {
  return {text.c_str(), text.size()};  // NUL-terminated, as plugin.h promises
}

int32_t abi_type(config::ConfigNode::Type type) {
  using Type = config::ConfigNode::Type;
  switch (type) {
    case Type::string:
      return SPOA_CONFIG_STRING;
    case Type::integer:
      return SPOA_CONFIG_INT;
    case Type::floating:
      return SPOA_CONFIG_FLOAT;
    case Type::boolean:
      return SPOA_CONFIG_BOOL;
    case Type::array:
      return SPOA_CONFIG_ARRAY;
    case Type::table:
      return SPOA_CONFIG_TABLE;
  }
  return SPOA_CONFIG_STRING;
}
}  // namespace

ConfigTree::ConfigTree(const config::ConfigNode& node, const std::string& file) : file_(file) {
  root_ = build(node);
}

const spoa_config_value* ConfigTree::build(const config::ConfigNode& node) {
  spoa_config_value& value = values_.emplace_back();
  value.struct_size = sizeof(spoa_config_value);
  value.type = abi_type(node.type);
  value.line = static_cast<uint32_t>(node.line);
  value.column = static_cast<uint32_t>(node.column);
  value.file = view(file_);
  switch (node.type) {
    case config::ConfigNode::Type::string:
      value.u.string = view(node.text);
      break;
    case config::ConfigNode::Type::integer:
      value.u.integer = node.integer;
      break;
    case config::ConfigNode::Type::floating:
      value.u.floating = node.floating;
      break;
    case config::ConfigNode::Type::boolean:
      value.u.boolean = node.boolean ? 1 : 0;
      break;
    case config::ConfigNode::Type::array: {
      auto& items = items_.emplace_back();
      items.reserve(node.items.size());
      for (const auto& item : node.items)
        items.push_back(build(item));
      value.u.array.items = items.data();
      value.u.array.count = items.size();
      break;
    }
    case config::ConfigNode::Type::table: {
      auto& members = members_.emplace_back();
      members.reserve(node.members.size());
      for (const auto& member : node.members)
        members.push_back({view(member.key), build(member.value)});
      value.u.table.members = members.data();
      value.u.table.count = members.size();
      break;
    }
  }
  return &value;
}

}  // namespace spoa::host

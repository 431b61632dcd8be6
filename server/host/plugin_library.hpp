#pragma once
// A loaded plugin file: the dlopen handle and the descriptor its entry symbol returned.
#include <spoa/plugin.h>

#include <memory>
#include <string>

namespace spoa::host {

class PluginLibrary {
 public:
  // Loads `path` with RTLD_NOW | RTLD_LOCAL and checks the ABI version. On failure returns
  // nullptr and sets `error` to a sentence naming the file and what was expected.
  static std::shared_ptr<PluginLibrary> load(const std::string& path, std::string& error);

  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& path() const { return path_; }
  const spoa_plugin_descriptor& descriptor() const { return *descriptor_; }

 private:
  PluginLibrary(std::string path, void* handle, const spoa_plugin_descriptor* descriptor)
      : path_(std::move(path)), handle_(handle), descriptor_(descriptor) {}

  std::string path_;
  void* handle_;
  const spoa_plugin_descriptor* descriptor_;
};

}  // namespace spoa::host

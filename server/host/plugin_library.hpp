#pragma once
// A loaded plugin file: the dlopen handle and the descriptor its entry symbol returned.
#include <spoa/plugin.h>

#include <cstdint>
#include <memory>
#include <string>

namespace spoa::host {

class PluginLibrary {
 public:
  // Loads `path` with RTLD_NOW | RTLD_LOCAL and checks the ABI version. On failure returns
  // nullptr and sets `error` to a sentence naming the file and what was expected.
  //
  // A file still loaded by an earlier generation is shared if it is unchanged on disk. If
  // it was replaced (a package upgrade renames a new file over it), dlopen of the same
  // path would hand back the old image, so the new file is loaded from a private copy.
  static std::shared_ptr<PluginLibrary> load(const std::string& path, std::string& error);

  ~PluginLibrary();
  PluginLibrary(const PluginLibrary&) = delete;
  PluginLibrary& operator=(const PluginLibrary&) = delete;

  const std::string& path() const { return path_; }
  const spoa_plugin_descriptor& descriptor() const { return *descriptor_; }
  // Compiled against plugin.h 1.0 (its descriptor has the 1.0 size): it indexes message
  // arguments with the 1.0 spoa_arg layout.
  bool built_with_1_0() const;

 private:
  struct FileIdentity {
    uint64_t device = 0, inode = 0, size = 0;
    int64_t mtime_ns = 0;
    bool operator==(const FileIdentity&) const = default;
  };

  PluginLibrary(std::string path, FileIdentity identity, void* handle,
                const spoa_plugin_descriptor* descriptor)
      : path_(std::move(path)), identity_(identity), handle_(handle), descriptor_(descriptor) {}
  static std::shared_ptr<PluginLibrary> open(const std::string& path,
                                             const std::string& dlopen_path, FileIdentity identity,
                                             std::string& error);

  std::string path_;
  FileIdentity identity_;
  void* handle_;
  const spoa_plugin_descriptor* descriptor_;
};

}  // namespace spoa::host

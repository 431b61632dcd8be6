// The loader-error plugins are what they claim to be, and a loader that follows plugin.h
// (the fake host's) refuses each with a reason a person can act on.
#include <dlfcn.h>
#include <gtest/gtest.h>

#include <string>

#include "fake_host.hpp"
#include "spoa_test_plugins.h"

namespace {

using spoa::testing::FakeHost;
using spoa::testing::LoadError;

std::string load_error(const char* path) {
  FakeHost host;
  try {
    host.load(path);
  } catch (const LoadError& e) {
    return e.what();
  }
  return "(loaded)";
}

const spoa_plugin_descriptor* raw_descriptor(void* library) {
  auto entry = reinterpret_cast<spoa_plugin_entry_fn>(dlsym(library, SPOA_PLUGIN_ENTRY_SYMBOL));
  return entry == nullptr ? nullptr : entry();
}

TEST(LoaderErrors, WrongMajorIsRefusedNamingBothMajors) {
  void* lib = dlopen(SPOA_TEST_PLUGIN_WRONG_MAJOR, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  ASSERT_NE(raw_descriptor(lib), nullptr);
  EXPECT_EQ(raw_descriptor(lib)->abi_major, 2u);
  dlclose(lib);
  const std::string error = load_error(SPOA_TEST_PLUGIN_WRONG_MAJOR);
  EXPECT_NE(error.find("major 2"), std::string::npos) << error;
  EXPECT_NE(error.find("wrong_major.so"), std::string::npos) << error;
}

TEST(LoaderErrors, NewerMinorIsRefused) {
  void* lib = dlopen(SPOA_TEST_PLUGIN_NEWER_MINOR, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  EXPECT_EQ(raw_descriptor(lib)->abi_major, static_cast<uint32_t>(SPOA_ABI_MAJOR));
  EXPECT_EQ(raw_descriptor(lib)->abi_minor, static_cast<uint32_t>(SPOA_ABI_MINOR + 1));
  dlclose(lib);
  const std::string error = load_error(SPOA_TEST_PLUGIN_NEWER_MINOR);
  EXPECT_NE(error.find("newer than this host"), std::string::npos) << error;
}

TEST(LoaderErrors, MissingEntrySymbolIsRefusedNamingTheSymbol) {
  void* lib = dlopen(SPOA_TEST_PLUGIN_NO_ENTRY, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  EXPECT_EQ(dlsym(lib, SPOA_PLUGIN_ENTRY_SYMBOL), nullptr);
  dlclose(lib);
  const std::string error = load_error(SPOA_TEST_PLUGIN_NO_ENTRY);
  EXPECT_NE(error.find("no spoa_plugin_entry_v1 symbol"), std::string::npos) << error;
}

TEST(LoaderErrors, TextFileNamedDotSoIsRefusedWithTheDlerrorText) {
  const std::string error = load_error(SPOA_TEST_PLUGIN_NOT_AN_ELF);
  EXPECT_NE(error.find("not_an_elf.so: cannot load: "), std::string::npos) << error;
  EXPECT_TRUE(error.find("invalid ELF header") != std::string::npos ||
              error.find("file too short") != std::string::npos)
      << error;
}

TEST(LoaderErrors, InitFailsReportsItsReasonAndIsNotStarted) {
  FakeHost host;
  host.load(SPOA_TEST_PLUGIN_INIT_FAILS);
  const auto error = host.init({{"other", "x"}}, {});
  ASSERT_TRUE(error);
  EXPECT_EQ(*error, "refusing to start: config key 'required' is missing");
}

TEST(LoaderErrors, InitFailsStartsWhenGivenItsKey) {
  FakeHost host;
  host.load(SPOA_TEST_PLUGIN_INIT_FAILS);
  EXPECT_FALSE(host.init({{"required", "yes"}}, {}));
}

TEST(BundledPlugins, LoadForThisAbiWithNameAndVersion) {
  for (const char* path : {SPOA_PLUGIN_ECHO, SPOA_PLUGIN_DELAY, SPOA_PLUGIN_EXAMPLE_C}) {
    FakeHost host;
    ASSERT_NO_THROW(host.load(path)) << path;
    EXPECT_EQ(host.descriptor().struct_size, sizeof(spoa_plugin_descriptor)) << path;
    EXPECT_GT(std::string(host.descriptor().version).size(), 0u) << path;
    EXPECT_NE(std::string(path).find(SPOA_BUILD_PLUGIN_DIR), std::string::npos) << path;
  }
}

TEST(BundledPlugins, ExportTheEntrySymbolAndNotTheirInternals) {
  void* lib = dlopen(SPOA_PLUGIN_ECHO, RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  EXPECT_NE(dlsym(lib, SPOA_PLUGIN_ENTRY_SYMBOL), nullptr);
  // plugin.hpp's trampoline would be visible here without -fvisibility=hidden.
  EXPECT_EQ(dlsym(lib, "_ZN4spoa6detail8dispatchEPvP12spoa_request8spoa_strPK8spoa_argm"), nullptr);
  dlclose(lib);
}

}  // namespace

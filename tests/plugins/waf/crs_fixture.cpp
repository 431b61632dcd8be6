#include "crs_fixture.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <system_error>

#include <unistd.h>

namespace spoa::waf::testing {

namespace {

// CTest runs every test case as a process of its own, two at a time, and the release, ASan
// and TSan builds may run side by side: each process gets a folder of its own, or one
// process's set-up removes or rewrites the audit log and rule files another one is reading.
class ScratchFolder {
 public:
  ScratchFolder()
      : path_(std::filesystem::temp_directory_path() /
              ("spoa-waf-tests-" + std::to_string(::getpid()))) {
    std::filesystem::create_directories(path_);
  }
  ScratchFolder(const ScratchFolder&) = delete;
  ScratchFolder& operator=(const ScratchFolder&) = delete;
  ~ScratchFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Constructed before the shared engine that logs into it, so destroyed after it.
const std::filesystem::path& scratch_folder() {
  static const ScratchFolder folder;
  return folder.path();
}

}  // namespace

bool crs_installed() {
  return std::filesystem::exists(crs_setup);
}

std::string audit_log_path() {
  return (scratch_folder() / "audit.log").string();
}

namespace {

std::string write_rules_file(const std::string& name, const std::string& text) {
  const auto path = scratch_folder() / name;
  std::ofstream(path) << text;
  return path.string();
}

Settings shared_settings() {
  Settings s;
  auto crs_app = [](const std::string& name) {
    AppSettings a;
    a.name = name;
    a.crs = true;
    return a;
  };
  s.apps["crs"] = crs_app("crs");
  s.apps["detect"] = crs_app("detect");
  s.apps["detect"].detect_only = true;
  s.apps["partial"] = crs_app("partial");
  s.apps["partial"].truncated_body = TruncatedBody::headers_only;
  s.apps["refuse"] = crs_app("refuse");
  s.apps["refuse"].truncated_body = TruncatedBody::deny;
  s.apps["respond"] = crs_app("respond");
  s.apps["respond"].response = true;
  s.apps["respond"].rules = {write_rules_file(
      "response.conf",
      "SecRule RESPONSE_BODY \"@contains SECRET-LEAK\" "
      "\"id:10001,phase:4,deny,status:502,log,msg:'test: secret in response',severity:2\"\n")};
  AppSettings redirect;
  redirect.name = "redirect";
  redirect.directives =
      "SecRule REQUEST_URI \"@beginsWith /old\" "
      "\"id:10002,phase:1,redirect:https://example.org/new,log,msg:'moved'\"\n"
      "SecRule REQUEST_URI \"@beginsWith /gone\" \"id:10003,phase:1,deny,status:444,log\"\n";
  s.apps["redirect"] = redirect;
  AppSettings audited;
  audited.name = "audited";
  audited.directives =
      "SecRule ARGS:probe \"@streq evil\" \"id:10004,phase:2,deny,log,msg:'probe'\"\n";
  audited.audit_log = audit_log_path();
  std::filesystem::remove(audited.audit_log);
  s.apps["audited"] = audited;
  s.default_app = "crs";
  return s;
}

}  // namespace

const Engine& shared_engine() {
  static const Engine engine(shared_settings());
  return engine;
}

HttpRequest get(std::string uri, std::vector<std::pair<std::string, std::string>> headers) {
  HttpRequest r;
  r.client_ip = "192.0.2.10";
  r.client_port = 40000;
  r.server_ip = "192.0.2.1";
  r.server_port = 80;
  r.method = "GET";
  r.uri = std::move(uri);
  // What a browser sends; CRS flags a request without Accept or User-Agent.
  r.headers.headers = {
      {"Host", "www.example.com"},
      {"User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0"},
      {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
      {"Accept-Language", "en-US,en;q=0.5"},
      {"Accept-Encoding", "gzip, deflate"}};
  for (auto& [name, value] : headers)
    r.headers.headers.push_back({name, value});
  return r;
}

HttpRequest post(std::string uri, std::string content_type, std::string body) {
  HttpRequest r = get(std::move(uri), {{"Content-Type", std::move(content_type)},
                                       {"Content-Length", std::to_string(body.size())}});
  r.method = "POST";
  r.body = std::move(body);
  return r;
}

Verdict inspect(const std::string& app, HttpRequest request) {
  const Application* a = shared_engine().find(app);
  if (a == nullptr) throw std::runtime_error("no app " + app);
  Transaction tx(shared_engine(), *a, "test-id");
  return tx.request(request);
}

bool has_rule(const std::string& ids, const std::string& id) {
  std::istringstream in(ids);
  std::string word;
  while (in >> word)
    if (word == id) return true;
  return false;
}

}  // namespace spoa::waf::testing

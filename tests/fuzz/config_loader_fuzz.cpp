// The config loader on any text: it answers with a Config or with errors,
// never with a crash, a hang or an exception. Each error is one line (it goes
// to a terminal and to the journal) and names the file. What it accepts,
// render() prints back as YAML that loads to the same Config: the
// `check-config --print` output an operator may copy into /etc.
#include <cstdint>

#include "etcd_warden/config/loader.hpp"
#include "fuzz_check.hpp"

using namespace etcd_warden;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto loaded = config::load_string(fuzz::as_text(data, size), "fuzz.yaml");
  if (!loaded.ok()) {
    fuzz::require(!loaded.errors.empty(), "refused without an error");
    for (const auto& e : loaded.errors) {
      const std::string line = e.to_string();
      // The messages are built only for a finding: this runs for every error of every input.
      if (!line.starts_with("fuzz.yaml"))
        fuzz::finding("an error that does not name the file: " + line);
      if (line.find('\n') != std::string::npos)
        fuzz::finding("an error of more than one line: " + line);
      fuzz::require(!e.message.empty(), "an empty error message");
    }
    return 0;
  }
  const std::string rendered = config::render(*loaded.config);
  const auto again = config::load_string(rendered, "fuzz.yaml");
  if (!again.ok()) {
    std::string why = "render() printed YAML that does not load back:";
    for (const auto& e : again.errors) why += " " + e.to_string();
    fuzz::finding(why + "\n--- rendered:\n" + rendered);
  }
  fuzz::require(*again.config == *loaded.config, "render() printed YAML that loads differently");
  return 0;
}

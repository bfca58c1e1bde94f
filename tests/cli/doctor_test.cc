// tml doctor with the real tools, and with fakes on PATH: a missing required tool fails with its
// install command (exit code 4); Debian's bossac (not Arduino's fork) is flagged.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace tml {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

json check_named(const json& doc, const std::string& name) {
  for (const auto& c : doc["checks"])
    if (c["check"].get<std::string>().rfind(name, 0) == 0) return c;
  ADD_FAILURE() << "no check " << name;
  return json::object();
}

void fake_tool(const fs::path& dir, const std::string& name, const std::string& output) {
  test::write_text(dir / name, "#!/bin/sh\necho '" + output + "'\n");
  ::chmod((dir / name).c_str(), 0755);
}

TEST(Doctor, ThisMachineIsReady) {
  test::TempDir dir;
  const ProcessResult r = test::run_tml({"--json", "doctor"}, dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json doc = json::parse(r.out);
  EXPECT_EQ(check_named(doc, "QEMU")["status"], "ok");
  EXPECT_EQ(check_named(doc, "Arm toolchain")["status"], "ok");
  EXPECT_EQ(check_named(doc, "python3 + torch")["status"], "ok");
}

TEST(Doctor, MissingToolsAndTheWrongBossacComeWithTheirFix) {
  test::TempDir dir;
  fs::create_directories(dir / "bin");
  fake_tool(dir / "bin", "cmake", "cmake version 3.25.1");
  fake_tool(dir / "bin", "arm-none-eabi-gcc", "arm-none-eabi-gcc 12.2");
  fake_tool(dir / "bin", "bossac", "Basic Open Source SAM-BA Application (BOSSA) Version 1.9.1");
  ProcessOptions options;
  options.cwd = dir.path();
  options.env["PATH"] = (dir / "bin").string();
  const ProcessResult r = run_process({test::tml_binary().string(), "--json", "doctor"}, options);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  const json doc = json::parse(r.out);
  EXPECT_FALSE(doc["ok"].get<bool>());
  const json qemu = check_named(doc, "QEMU");
  EXPECT_EQ(qemu["status"], "fail");
  EXPECT_EQ(qemu["fix"], "sudo apt install qemu-system-arm");
  EXPECT_EQ(check_named(doc, "cmake")["status"], "ok");
  const json bossac = check_named(doc, "bossac");
  EXPECT_EQ(bossac["status"], "warn");
  EXPECT_NE(bossac["fix"].get<std::string>().find("not Arduino's fork"), std::string::npos);
  const ProcessResult human = run_process({test::tml_binary().string(), "doctor"}, options);
  EXPECT_NE(human.out.find("fix: sudo apt install qemu-system-arm"), std::string::npos) << human.out;
}

}  // namespace
}  // namespace tml

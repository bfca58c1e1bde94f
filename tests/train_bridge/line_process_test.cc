// core/line_process.h: streaming a child's stdout and stderr line by line, long lines, exit codes,
// signals, process groups and programs that cannot start.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "core/errors.h"
#include "core/line_process.h"
#include "train_fixtures.h"

namespace tml {
namespace {

struct Collected {
  std::vector<std::string> out, err;
};

LineProcessStatus run_all(LineProcess& p, Collected& c) {
  while (p.poll(std::chrono::milliseconds(200), [&](LineProcess::Stream s, std::string_view line) {
    (s == LineProcess::Stream::out ? c.out : c.err).emplace_back(line);
  })) {
  }
  return *p.status();
}

TEST(LineProcess, DeliversLinesOfBothStreamsWhileRunning) {
  LineProcess p({"/bin/sh", "-c", "echo one; echo e1 >&2; sleep 0.3; printf 'two\\nthree'; exit 3"});
  Collected c;
  bool saw_one_early = false;
  auto start = std::chrono::steady_clock::now();
  while (p.poll(std::chrono::milliseconds(50), [&](LineProcess::Stream s, std::string_view line) {
    if (s == LineProcess::Stream::out && line == "one" && std::chrono::steady_clock::now() - start < std::chrono::milliseconds(250)) {
      saw_one_early = true;
    }
    (s == LineProcess::Stream::out ? c.out : c.err).emplace_back(line);
  })) {
  }
  EXPECT_TRUE(saw_one_early);
  EXPECT_EQ(c.out, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(c.err, (std::vector<std::string>{"e1"}));
  EXPECT_EQ(p.status()->exit_code, 3);
  EXPECT_EQ(p.status()->signal, 0);
}

TEST(LineProcess, CutsOverlongLines) {
  LineProcessOptions o;
  o.max_line = 100;
  LineProcess p({"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' 'a'; echo; echo after"}, o);
  Collected c;
  run_all(p, c);
  ASSERT_EQ(c.out.size(), 2u);
  EXPECT_EQ(c.out[0], std::string(100, 'a'));
  EXPECT_EQ(c.out[1], "after");
}

TEST(LineProcess, ReportsSignalsAndStopsTheWholeGroup) {
  test::TempDir dir;
  // The child starts a grandchild that would outlive it; the group signal reaches both.
  LineProcess p({"/bin/sh", "-c", "sleep 30 & echo $! > " + (dir / "pid").string() + "; echo ready; wait"});
  Collected c;
  while (c.out.empty()) p.poll(std::chrono::milliseconds(100), [&](auto, std::string_view l) { c.out.emplace_back(l); });
  pid_t grandchild = std::stoi(test::read_text(dir / "pid"));
  p.signal_group(SIGTERM);
  LineProcessStatus s = run_all(p, c);
  EXPECT_EQ(s.signal, SIGTERM);
  EXPECT_EQ(s.exit_code, -1);
  for (int i = 0; i < 50 && test::train::process_alive(grandchild); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_FALSE(test::train::process_alive(grandchild)) << "the grandchild survived";
}

TEST(LineProcess, EnvironmentAndWorkingFolder) {
  test::TempDir dir;
  ::setenv("TML_LP_TEST_GONE", "x", 1);
  LineProcessOptions o;
  o.cwd = dir.path();
  o.env = {{"TML_LP_TEST", "hello"}};
  o.unset_env = {"TML_LP_TEST_GONE"};
  LineProcess p({"/bin/sh", "-c", "echo \"$TML_LP_TEST ${TML_LP_TEST_GONE:-unset} $(pwd)\""}, o);
  Collected c;
  run_all(p, c);
  ::unsetenv("TML_LP_TEST_GONE");
  ASSERT_EQ(c.out.size(), 1u);
  EXPECT_EQ(c.out[0], "hello unset " + std::filesystem::canonical(dir.path()).string());
}

TEST(LineProcess, MissingProgramIsAnExternalToolError) {
  try {
    LineProcess p({"/nonexistent/trainer", "x"});
    FAIL() << "started";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::external_tool);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/trainer: cannot start"), std::string::npos) << e.what();
  }
}

TEST(LineProcess, DestructorKillsARunningChild) {
  test::TempDir dir;
  pid_t pid;
  {
    LineProcess p({"/bin/sh", "-c", "echo $$ > " + (dir / "pid").string() + "; exec sleep 30"});
    while (!std::filesystem::exists(dir / "pid") || test::read_text(dir / "pid").empty()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid = p.pid();
  }
  EXPECT_FALSE(test::train::process_alive(pid));
}

}  // namespace
}  // namespace tml

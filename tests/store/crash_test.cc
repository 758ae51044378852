// Crash test: a child process appends under concurrent load and is SIGKILLed
// at random moments, 20+ rounds on the same directory. After each kill:
// every command whose completion fired is present with its seq, the seqs are
// dense, and the recovered state equals a full replay of the log.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "engine/event_codec.h"
#include "snapshots/recovery.h"
#include "store/store.h"
#include "tests/testutil/temp_dir.h"

namespace ctxd {
namespace {

constexpr int kRounds = 24;

struct Child {
  pid_t pid;
  int out_fd;
};

Child SpawnWriter(const std::string& dir, int round) {
  int fds[2];
  EXPECT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], STDOUT_FILENO);
    ::close(fds[0]);
    ::close(fds[1]);
    const std::string id = std::to_string(round);
    ::execl(CTXD_CRASH_WRITER, CTXD_CRASH_WRITER, dir.c_str(), id.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(fds[1]);
  return {pid, fds[0]};
}

// Reads every "ack KEY SEQ" line the child wrote before it died.
std::map<std::string, uint64_t> ReadAcks(int fd) {
  std::string text;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  ::close(fd);
  std::map<std::string, uint64_t> acks;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string word, key;
    uint64_t seq;
    if (fields >> word >> key >> seq && word == "ack") acks[key] = seq;
  }
  return acks;
}

void ExpectDenseLog(const log::EventLog& log) {
  uint64_t expected = 1;
  Status read = log.ReadRange(1, log.head_seq(), log.head_seq(), [&](uint64_t seq, std::string_view payload) {
    EXPECT_EQ(seq, expected);
    EXPECT_TRUE(engine::DecodeEvent(payload).ok()) << "seq " << seq;
    expected = seq + 1;
    return true;
  });
  EXPECT_TRUE(read.ok());
  EXPECT_EQ(expected, log.head_seq() + 1);
}

TEST(CrashTest, AcknowledgedWritesSurviveSigkill) {
  testutil::TempDir dir;
  std::mt19937 rng(42);
  size_t total_acks = 0;
  for (int round = 0; round < kRounds; ++round) {
    Child child = SpawnWriter(dir.path(), round);
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 600)(rng)));
    ::kill(child.pid, SIGKILL);
    int status;
    ::waitpid(child.pid, &status, 0);
    const auto acks = ReadAcks(child.out_fd);
    total_acks += acks.size();

    store::StoreOptions options;
    options.dir = dir.path();
    auto store = store::Store::Open(options);
    ASSERT_TRUE(store.ok()) << "round " << round << ": " << store.status().ToString();
    ExpectDenseLog((*store)->event_log());
    (*store)->Read([&](const engine::State& state) {
      for (const auto& [key, seq] : acks) {
        auto it = state.context.find(key);
        ASSERT_NE(it, state.context.end()) << "round " << round << ": acknowledged " << key << " lost";
        EXPECT_EQ(it->second.version, seq) << key;
      }
      engine::State replayed((*store)->limits());
      ASSERT_TRUE(snapshots::ReplayInto((*store)->event_log(), replayed, state.head_seq).ok());
      EXPECT_TRUE(replayed == state) << "round " << round;
    });
  }
  EXPECT_GT(total_acks, static_cast<size_t>(kRounds) * 50) << "the writer barely wrote anything";
}

}  // namespace
}  // namespace ctxd

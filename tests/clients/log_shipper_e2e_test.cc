// The log-shipper against the real remediator server (in process, 127.0.0.1, port 0 and the real
// SQLite store): rotation by rename and by copytruncate, the server killed and restarted
// mid-stream, the shipper process killed and restarted, a 10 MB line with bounded memory, and an
// unreadable file. Every error line is a strong signature and each batch carries one line
// (--batch-lines 1), so the incident's count is the number of error lines the server received.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "clients/log_shipper/batch_sink.h"
#include "clients/log_shipper/shipper.h"
#include "server/remediator/remediator_server.h"
#include "tests/clients/shipper_test_util.h"
#include "tests/testing/status_matchers.h"

extern char** environ;

namespace remediator {
namespace {

using ::remediator::testing::AppendLines;
using ::remediator::testing::CriLogPath;
using ::remediator::testing::IncidentCount;
using ::remediator::testing::IsOk;
using ::remediator::testing::WaitFor;
using ::testing::HasSubstr;

class LogShipperE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("log_shipper_e2e_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "logs");
    config_.server.listen = "127.0.0.1:0";
    config_.state_dir = (dir_ / "server-state").string();
    StartServer();
    config_.server.listen = server_->address();  // restarts reuse the port
  }
  void TearDown() override {
    StopShipper();
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  void StartServer() {
    auto server = RemediatorServer::Start(config_, RealClock::Get());
    ASSERT_THAT(server, IsOk());
    server_ = *std::move(server);
  }
  void StopServer() {
    server_->Shutdown(absl::ZeroDuration());
    server_.reset();
  }

  log_shipper::ShipperOptions Options() {
    log_shipper::ShipperOptions options;
    options.paths = (dir_ / "logs" / "*.log").string();
    options.state_dir = (dir_ / "shipper-state").string();
    options.batch_lines = 1;
    options.flush_interval = absl::ZeroDuration();
    options.poll_interval = absl::Milliseconds(10);
    options.glob_interval = absl::Milliseconds(20);
    options.max_backoff = absl::Milliseconds(200);
    return options;
  }

  // Runs the shipper library in a thread, as the binary does.
  void StartShipper(log_shipper::ShipperOptions options) {
    auto sink = log_shipper::NewGrpcBatchSink(server_->address(), "", {}, 200);
    ASSERT_THAT(sink, IsOk());
    sink_ = *std::move(sink);
    auto shipper = log_shipper::Shipper::Create(options, *sink_, RealClock::Get());
    ASSERT_THAT(shipper, IsOk());
    shipper_ = *std::move(shipper);
    stop_ = false;
    thread_ = std::thread([this] { run_status_ = shipper_->Run(stop_); });
  }
  void StopShipper() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
    EXPECT_THAT(run_status_, IsOk());
  }

  int64_t Count() { return server_ == nullptr ? -1 : IncidentCount(server_->store()); }

  struct Process {
    pid_t pid = -1;
    std::string stderr_file;
  };
  Process Spawn(const std::vector<std::string>& extra) {
    std::vector<std::string> args = {LOG_SHIPPER_PATH,
                                     "--server",
                                     server_->address(),
                                     "--paths",
                                     (dir_ / "logs" / "*.log").string(),
                                     "--state-dir",
                                     (dir_ / "shipper-state").string(),
                                     "--batch-lines",
                                     "1",
                                     "--flush-interval",
                                     "0s",
                                     "--poll-interval",
                                     "10ms"};
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    Process process;
    process.stderr_file = (dir_ / ("shipper-" + std::to_string(spawned_++) + ".err")).string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 2, process.stderr_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_EQ(posix_spawn(&process.pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    return process;
  }
  // Waits for the process to exit (bounded); returns its exit code. *peak_rss_kib: the highest
  // VmHWM seen in /proc/<pid>/status while it ran, or the one it logged when it stopped.
  // (ru_maxrss is not used: after posix_spawn it also counts this test process's memory.)
  int Wait(const Process& process, long* peak_rss_kib = nullptr) {
    int status = 0;
    long hwm = -1;
    absl::Time deadline = absl::Now() + absl::Seconds(120);
    while (true) {
      pid_t r = ::waitpid(process.pid, &status, WNOHANG);
      if (r == process.pid) break;
      if (absl::Now() > deadline) {
        ::kill(process.pid, SIGKILL);
        ::waitpid(process.pid, &status, 0);
        ADD_FAILURE() << "log-shipper did not exit in time";
        return -1;
      }
      hwm = std::max(hwm, VmHwmKib(process.pid));
      absl::SleepFor(absl::Milliseconds(5));
    }
    if (peak_rss_kib != nullptr) {
      std::string log = ReadAll(process.stderr_file);
      size_t at = log.find("peak_rss_kib=");
      if (at != std::string::npos) hwm = std::max(hwm, std::atol(log.c_str() + at + 13));
      *peak_rss_kib = hwm;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  static long VmHwmKib(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmHWM:", 0) == 0) return std::atol(line.c_str() + 6);
    }
    return -1;
  }
  static std::string ReadAll(const std::string& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  std::filesystem::path dir_;
  RemediatorConfig config_;
  std::unique_ptr<RemediatorServer> server_;
  std::unique_ptr<log_shipper::BatchSink> sink_;
  std::unique_ptr<log_shipper::Shipper> shipper_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  absl::Status run_status_;
  int spawned_ = 0;
};

TEST_F(LogShipperE2eTest, RenameRotationDeliversEveryLineOnce) {
  std::string path = CriLogPath(dir_ / "logs", "web-7d9f8b6c4-abcde");
  AppendLines(path, 40, 3, "before");
  StartShipper(Options());
  ASSERT_TRUE(WaitFor([&] { return Count() == 40; })) << Count();
  // Lines the shipper has not read yet when the runtime rotates: they must be read from the
  // renamed file, then the new file from its start.
  AppendLines(path, 25, 3, "late");
  std::filesystem::rename(path, path + ".1");
  AppendLines(path, 30, 3, "after");
  ASSERT_TRUE(WaitFor([&] { return Count() == 95; })) << Count();
  AppendLines(path, 5, 0, "more");
  ASSERT_TRUE(WaitFor([&] { return Count() == 100; })) << Count();
  StopShipper();
  EXPECT_EQ(Count(), 100);  // nothing twice
}

TEST_F(LogShipperE2eTest, CopyTruncateRotationReadsTheFileAgainFromTheStart) {
  std::string path = CriLogPath(dir_ / "logs", "web-7d9f8b6c4-abcde");
  AppendLines(path, 50, 2, "before");
  StartShipper(Options());
  ASSERT_TRUE(WaitFor([&] { return Count() == 50; })) << Count();
  std::filesystem::copy_file(path, path + ".1");
  std::filesystem::resize_file(path, 0);
  AppendLines(path, 10, 2, "after");  // shorter than what was read: detectably truncated
  ASSERT_TRUE(WaitFor([&] { return Count() == 60; })) << Count();
  AppendLines(path, 5, 0, "more");
  ASSERT_TRUE(WaitFor([&] { return Count() == 65; })) << Count();
  StopShipper();
  EXPECT_EQ(Count(), 65);
}

TEST_F(LogShipperE2eTest, FilesThatAppearLaterArePickedUp) {
  StartShipper(Options());
  AppendLines(CriLogPath(dir_ / "logs", "api-5c8d7f6b9-qwert"), 7, 1, "late-file");
  ASSERT_TRUE(WaitFor([&] { return Count() == 7; })) << Count();
}

// The report of issue 16: a log file whose name is not UTF-8 made a batch unparsable, the server
// took it for the end of the stream and answered OK, the shipper checkpointed everything: 112 of
// 200 lines lost, exit 0. Now the name travels escaped, and unparsable-looking lines (invalid
// UTF-8, NUL bytes, not CRI) travel as the bytes they are: 200 lines read, 200 acknowledged.
TEST_F(LogShipperE2eTest, NonUtf8FileNameAndUnparsableLinesLoseNothing) {
  std::string plain = CriLogPath(dir_ / "logs", "web-7d9f8b6c4-abcde");
  std::string latin1 = CriLogPath(dir_ / "logs", "caf\xe9-7d9f8b6c4-abcde");
  AppendLines(plain, 60, 0, "plain");
  {
    std::ofstream out(plain, std::ios::app | std::ios::binary);
    for (int i = 0; i < 40; ++i) out << "2026-11-26T08:00:00.1Z stdout F GET /orders/" << i << "\n";
  }
  AppendLines(latin1, 60, 0, "latin1");
  {
    std::ofstream out(latin1, std::ios::app | std::ios::binary);
    for (int i = 0; i < 10; ++i) {
      out << "2026-11-26T08:00:00.1Z stdout F bytes \xff\xfe\xc0\xaf " << i << "\n";  // not UTF-8
      out << std::string("nul \0 inside\n", 13);                                      // not CRI
      out << "{\"log\":\"docker json-file line\"}\n";                                 // not CRI
      out << "2026-11-26T08:00:00.1Z stderr F cut \xe2\x82\n";  // truncated UTF-8 sequence
    }
  }
  // One line per batch, so the incident's count is the number of error lines received.
  Process process = Spawn({"--once", "--stream-batches", "7"});
  EXPECT_EQ(Wait(process), 0) << ReadAll(process.stderr_file);
  std::string log = ReadAll(process.stderr_file);
  EXPECT_THAT(log, HasSubstr("lines_read=200"));
  EXPECT_THAT(log, HasSubstr("lines_acknowledged=200"));
  EXPECT_EQ(Count(), 120);  // every error line of both files arrived
  // The escaped name is what the incident shows.
  IncidentFilter filter;
  filter.namespace_name = "shop";
  auto page = server_->store().ListIncidents(filter);
  ASSERT_THAT(page, IsOk());
  bool escaped = false;
  for (const auto& incident : page->incidents) {
    for (const auto& e : incident.evidence()) escaped |= e.find("caf\\xe9") != std::string::npos;
    escaped |= incident.workload().name().find("caf\\xe9") != std::string::npos;
  }
  EXPECT_TRUE(escaped);
}

TEST_F(LogShipperE2eTest, ServerKilledAndRestartedMidStreamLosesNothing) {
  std::string path = CriLogPath(dir_ / "logs", "web-7d9f8b6c4-abcde");
  AppendLines(path, 100, 5, "first");
  log_shipper::ShipperOptions options = Options();
  options.stream_batches = 8;
  StartShipper(options);
  ASSERT_TRUE(WaitFor([&] { return Count() >= 20; })) << Count();
  StopServer();  // mid-stream: streams in flight fail, nothing unacknowledged is checkpointed
  AppendLines(path, 100, 5, "second");
  ASSERT_TRUE(WaitFor([&] { return shipper_->stats().send_failures.load() > 0; }));
  StartServer();
  ASSERT_TRUE(WaitFor([&] { return Count() >= 200; }, absl::Seconds(60))) << Count();
  StopShipper();
  // At least once; duplicates only from the batches of the stream the crash broke.
  EXPECT_GE(Count(), 200);
  EXPECT_LE(Count(), 200 + 2 * options.stream_batches * options.batch_lines);
}

TEST_F(LogShipperE2eTest, ShipperProcessKilledAndRestartedLosesNothing) {
  std::string path = CriLogPath(dir_ / "logs", "web-7d9f8b6c4-abcde");
  AppendLines(path, 600, 5, "kill");
  Process first = Spawn({"--stream-batches", "16"});
  ASSERT_TRUE(WaitFor([&] { return Count() >= 30; })) << Count();
  ::kill(first.pid, SIGKILL);
  EXPECT_EQ(Wait(first), 128 + SIGKILL);
  int64_t at_kill = Count();
  EXPECT_LT(at_kill, 600) << "killed too late to test anything";
  Process second = Spawn({"--once", "--stream-batches", "16"});
  EXPECT_EQ(Wait(second), 0) << ReadAll(second.stderr_file);
  EXPECT_GE(Count(), 600);
  // The restart resends at most the one stream that was not acknowledged.
  EXPECT_LE(Count(), 600 + 16);
  // A third run finds everything checkpointed and sends nothing.
  int64_t before_third = Count();
  Process third = Spawn({"--once"});
  EXPECT_EQ(Wait(third), 0);
  EXPECT_EQ(Count(), before_third);
}

TEST_F(LogShipperE2eTest, TenMegabyteLineIsCutWithBoundedMemory) {
  std::string path = CriLogPath(dir_ / "logs", "web-7d9f8b6c4-abcde");
  {
    std::ofstream out(path, std::ios::binary);
    out << "2026-11-26T08:00:00.1Z stderr F panic: giant line follows ";
    std::string block(1 << 20, 'x');
    for (int i = 0; i < 10; ++i) out << block;
    out << "\n";
  }
  AppendLines(path, 3, 1, "after-giant");
  Process process = Spawn({"--once", "--max-line-bytes", "262144"});
  long max_rss_kib = 0;
  EXPECT_EQ(Wait(process, &max_rss_kib), 0) << ReadAll(process.stderr_file);
  EXPECT_THAT(ReadAll(process.stderr_file), HasSubstr("lines_acknowledged=7"));
  EXPECT_EQ(Count(), 4);
  RecordProperty("max_rss_kib", std::to_string(max_rss_kib));
  EXPECT_LE(max_rss_kib, 32 * 1024) << "peak RSS " << max_rss_kib << " KiB";
  EXPECT_GT(max_rss_kib, 0);
}

TEST_F(LogShipperE2eTest, UnreadableFileIsNamedInTheLogAndTheOthersGoOn) {
  // A directory where a log file should be: open() works, read() fails (root can read any
  // file, so permissions cannot make one unreadable here).
  std::string bad = CriLogPath(dir_ / "logs", "broken-6b7c8d9f5-zzzzz");
  std::filesystem::create_directories(bad);
  AppendLines(CriLogPath(dir_ / "logs", "web-7d9f8b6c4-abcde"), 12, 2, "good");
  Process process = Spawn({"--once"});
  EXPECT_EQ(Wait(process), 0);
  std::string log = ReadAll(process.stderr_file);
  EXPECT_THAT(log, HasSubstr(bad));
  EXPECT_THAT(log, HasSubstr("cannot read log file"));
  EXPECT_EQ(Count(), 12);
}

TEST_F(LogShipperE2eTest, UsageErrorsExitTwoAndHelpExitsZero) {
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), LOG_SHIPPER_PATH);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    Process process;
    process.stderr_file = (dir_ / ("cli-" + std::to_string(spawned_++) + ".err")).string();
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, process.stderr_file.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    EXPECT_EQ(posix_spawn(&process.pid, argv[0], &actions, nullptr, argv.data(), environ), 0);
    posix_spawn_file_actions_destroy(&actions);
    int code = Wait(process);
    return std::make_pair(code, ReadAll(process.stderr_file));
  };
  EXPECT_EQ(run({"--help"}).first, 0);
  auto no_server = run({"--state-dir", (dir_ / "s").string()});
  EXPECT_EQ(no_server.first, 2);
  EXPECT_THAT(no_server.second, HasSubstr("--server HOST:PORT is required"));
  auto bad_duration = run({"--server", "127.0.0.1:1", "--state-dir", (dir_ / "s").string(),
                           "--flush-interval", "soon"});
  EXPECT_EQ(bad_duration.first, 2);
  EXPECT_THAT(bad_duration.second, HasSubstr("--flush-interval"));
  auto bad_batch =
      run({"--server", "127.0.0.1:1", "--state-dir", (dir_ / "s").string(), "--batch-lines", "0"});
  EXPECT_EQ(bad_batch.first, 2);
  EXPECT_THAT(bad_batch.second, HasSubstr("batch lines 0"));
  EXPECT_EQ(run({"--bogus"}).first, 2);
}

TEST_F(LogShipperE2eTest, WrongTokenIsARuntimeFailureNotARetryLoop) {
  StopServer();
  std::ofstream(dir_ / "token") << "right-token-0123456789\n";
  std::ofstream(dir_ / "wrong") << "wrong-token-0123456789\n";
  config_.auth_token_file = (dir_ / "token").string();
  StartServer();
  AppendLines(CriLogPath(dir_ / "logs", "web-7d9f8b6c4-abcde"), 3, 0, "auth");
  Process wrong = Spawn({"--once", "--token-file", (dir_ / "wrong").string()});
  EXPECT_EQ(Wait(wrong), 1);
  EXPECT_THAT(ReadAll(wrong.stderr_file), HasSubstr("UNAUTHENTICATED"));
  EXPECT_EQ(Count(), 0);
  Process right = Spawn({"--once", "--token-file", (dir_ / "token").string()});
  EXPECT_EQ(Wait(right), 0) << ReadAll(right.stderr_file);
  EXPECT_EQ(Count(), 3);
}

}  // namespace
}  // namespace remediator

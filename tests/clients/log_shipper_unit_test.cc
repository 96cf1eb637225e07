// The log-shipper's pieces without a server: file names, the tailer (partial lines, long lines,
// rewind), checkpoints, and the Shipper's batching, acknowledgement and retry rules against a
// recording sink on a fake clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "clients/log_shipper/batch_sink.h"
#include "clients/log_shipper/checkpoints.h"
#include "clients/log_shipper/cri_file_name.h"
#include "clients/log_shipper/file_tailer.h"
#include "clients/log_shipper/shipper.h"
#include "tests/clients/shipper_test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace remediator::log_shipper {
namespace {

using ::remediator::testing::CriLine;
using ::remediator::testing::CriLogPath;
using ::remediator::testing::FakeClock;
using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::SizeIs;

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("log_shipper_unit_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_ / "logs");
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

void Append(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::app | std::ios::binary) << text;
}

TEST(CriFileNameTest, ParsesPodNamespaceContainer) {
  auto id = ParseCriLogFileName(
      "/var/log/containers/web-7d9f8b6c4-abcde_shop_nginx-"
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.log");
  ASSERT_THAT(id, IsOk());
  EXPECT_EQ(id->pod, "web-7d9f8b6c4-abcde");
  EXPECT_EQ(id->namespace_name, "shop");
  EXPECT_EQ(id->container, "nginx");
  // Container names may hold '-'.
  auto dashed = ParseCriLogFileName("p_ns_my-side-car-abc123.log");
  ASSERT_THAT(dashed, IsOk());
  EXPECT_EQ(dashed->container, "my-side-car");
}

TEST(CriFileNameTest, RejectsOtherNamesSayingWhy) {
  EXPECT_THAT(ParseCriLogFileName("/x/syslog"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseCriLogFileName("/x/a_b.log"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("fewer than two '_'")));
  EXPECT_THAT(ParseCriLogFileName("/x/a_b_c-XYZ.log"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("not hex")));
}

TEST(EscapeInvalidUtf8Test, ValidUtf8IsUnchangedAndBadBytesAreEscaped) {
  EXPECT_EQ(EscapeInvalidUtf8("web_shop_app-ab.log"), "web_shop_app-ab.log");
  EXPECT_EQ(EscapeInvalidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  // A Latin-1 byte, a lone continuation byte, a truncated sequence, an overlong '/', a surrogate.
  EXPECT_EQ(EscapeInvalidUtf8("caf\xe9"), "caf\\xe9");
  EXPECT_EQ(EscapeInvalidUtf8("a\x80"
                              "b"),
            "a\\x80b");
  EXPECT_EQ(EscapeInvalidUtf8("a\xe2\x82"), "a\\xe2\\x82");
  EXPECT_EQ(EscapeInvalidUtf8("\xc0\xaf"), "\\xc0\\xaf");
  EXPECT_EQ(EscapeInvalidUtf8("\xed\xa0\x80"), "\\xed\\xa0\\x80");
  // A literal "\x" in the name stays distinguishable from an escape.
  EXPECT_EQ(EscapeInvalidUtf8("a\\x41"), "a\\\\x41");
}

std::vector<std::string> ReadAllLines(FileTailer& tailer, bool* at_end = nullptr) {
  std::vector<std::string> lines;
  auto end = tailer.ReadLines([&](std::string_view line) {
    lines.emplace_back(line);
    return true;
  });
  EXPECT_THAT(end, IsOk());
  if (at_end != nullptr) *at_end = end.value_or(false);
  return lines;
}

TEST(FileTailerTest, PartialLineWaitsForItsNewline) {
  TempDir dir;
  std::string path = (dir.path() / "f.log").string();
  Append(path, "one\ntw");
  auto tailer = FileTailer::Open(path, 0, 1024);
  ASSERT_THAT(tailer, IsOk());
  EXPECT_THAT(ReadAllLines(**tailer), ElementsAre("one"));
  EXPECT_EQ((*tailer)->offset(), 4u);
  Append(path, "o\r\nthree\n");
  EXPECT_THAT(ReadAllLines(**tailer), ElementsAre("two", "three"));
  EXPECT_EQ((*tailer)->offset(), std::filesystem::file_size(path));
}

TEST(FileTailerTest, LongLineIsCutAndMarkedWithoutLosingTheNextLine) {
  TempDir dir;
  std::string path = (dir.path() / "f.log").string();
  Append(path, std::string(300000, 'a') + "\nnext\n");
  auto tailer = FileTailer::Open(path, 0, 1000);
  ASSERT_THAT(tailer, IsOk());
  auto lines = ReadAllLines(**tailer);
  ASSERT_THAT(lines, SizeIs(2));
  EXPECT_EQ(lines[0], std::string(1000, 'a') + " [truncated 299000 bytes]");
  EXPECT_EQ(lines[1], "next");
}

TEST(FileTailerTest, StopsAfterALineAndRewinds) {
  TempDir dir;
  std::string path = (dir.path() / "f.log").string();
  Append(path, "a\nb\nc\n");
  auto tailer = FileTailer::Open(path, 0, 100);
  ASSERT_THAT(tailer, IsOk());
  std::vector<std::string> got;
  auto end = (*tailer)->ReadLines([&](std::string_view line) {
    got.emplace_back(line);
    return false;
  });
  ASSERT_THAT(end, IsOk());
  EXPECT_FALSE(*end);
  EXPECT_THAT(got, ElementsAre("a"));
  EXPECT_THAT(ReadAllLines(**tailer), ElementsAre("b", "c"));
  (*tailer)->Rewind(2);
  EXPECT_THAT(ReadAllLines(**tailer), ElementsAre("b", "c"));
}

TEST(FileTailerTest, OpenErrorsNameTheFile) {
  TempDir dir;
  std::string missing = (dir.path() / "missing.log").string();
  EXPECT_THAT(FileTailer::Open(missing, 0, 100),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr(missing)));
  EXPECT_THAT(FileTailer::Open(dir.path().string(), 0, 100),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not a regular file")));
}

TEST(CheckpointsTest, RoundTripAndMalformedLine) {
  TempDir dir;
  std::string file = (dir.path() / "checkpoints").string();
  EXPECT_THAT(LoadCheckpoints(file), IsOk());  // absent: empty
  ASSERT_THAT(SaveCheckpoints(file, {{"/a b.log", {1, 2}, 3}, {"/c.log", {4, 5}, 6}}), IsOk());
  auto loaded = LoadCheckpoints(file);
  ASSERT_THAT(loaded, IsOk());
  ASSERT_THAT(*loaded, SizeIs(2));
  EXPECT_EQ((*loaded)[0].path, "/a b.log");
  EXPECT_EQ((*loaded)[0].id.inode, 2u);
  EXPECT_EQ((*loaded)[1].offset, 6u);
  std::ofstream(file) << "1 2 x /p\n";
  EXPECT_THAT(LoadCheckpoints(file),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(":1: malformed checkpoint")));
}

// Records streams; can be told to fail the next Finish() or Send().
class RecordingSink : public BatchSink {
 public:
  absl::Status Begin() override {
    open_.clear();
    ++begun;
    return absl::OkStatus();
  }
  absl::Status Send(const v1::ReportErrorRequest& batch) override {
    if (fail_sends > 0) {
      --fail_sends;
      return absl::UnavailableError("connection refused");
    }
    open_.push_back(batch);
    return absl::OkStatus();
  }
  absl::StatusOr<v1::ReportErrorStreamResponse> Finish() override {
    if (fail_finishes > 0) {
      --fail_finishes;
      open_.clear();
      return absl::UnavailableError("server went away");
    }
    // Counts what it stored, as the server does; `drop_last` forgets the stream's last batch
    // (what an older server did with a batch it could not parse).
    v1::ReportErrorStreamResponse ack;
    if (drop_last > 0 && !open_.empty()) {
      --drop_last;
      open_.pop_back();
    }
    for (auto& b : open_) {
      acknowledged.push_back(b);
      ack.set_batches(ack.batches() + 1);
      ack.set_observations(ack.observations() + b.observations_size());
    }
    open_.clear();
    return ack;
  }
  void Cancel() override { open_.clear(); }

  std::vector<std::string> AckedLines() const {
    std::vector<std::string> lines;
    for (const auto& b : acknowledged) {
      for (const auto& o : b.observations()) {
        for (const auto& l : o.cri_log().lines()) lines.push_back(l);
      }
    }
    return lines;
  }

  int begun = 0;
  int fail_sends = 0;
  int fail_finishes = 0;
  int drop_last = 0;
  std::vector<v1::ReportErrorRequest> acknowledged;

 private:
  std::vector<v1::ReportErrorRequest> open_;
};

class ShipperTest : public ::testing::Test {
 protected:
  ShipperOptions Options() {
    ShipperOptions options;
    options.paths = (dir_.path() / "logs" / "*.log").string();
    options.state_dir = (dir_.path() / "state").string();
    options.batch_lines = 3;
    options.flush_interval = absl::Seconds(5);
    options.glob_interval = absl::ZeroDuration();
    return options;
  }
  std::unique_ptr<Shipper> Make(ShipperOptions options) {
    auto shipper = Shipper::Create(std::move(options), sink_, clock_);
    EXPECT_THAT(shipper, IsOk());
    return shipper.ok() ? *std::move(shipper) : nullptr;
  }

  TempDir dir_;
  FakeClock clock_;
  RecordingSink sink_;
  std::string log_ = CriLogPath(dir_.path() / "logs", "web-7d9f8b6c4-abcde");
};

TEST_F(ShipperTest, FullBatchesGoAtOnceAndAPartialOneWaitsForTheFlushInterval) {
  for (int i = 0; i < 7; ++i) Append(log_, CriLine("line " + std::to_string(i)));
  auto shipper = Make(Options());
  ASSERT_THAT(shipper->Step(), IsOk());
  // Two full batches of 3; the 7th line waits.
  ASSERT_THAT(sink_.acknowledged, SizeIs(2));
  const auto& observation = sink_.acknowledged[0].observations(0);
  EXPECT_EQ(observation.cri_log().namespace_(), "shop");
  EXPECT_EQ(observation.cri_log().pod(), "web-7d9f8b6c4-abcde");
  EXPECT_EQ(observation.cri_log().container(), "app");
  EXPECT_THAT(observation.cri_log().lines(), SizeIs(3));
  auto caught_up = shipper->Step();
  ASSERT_THAT(caught_up, IsOk());
  EXPECT_FALSE(*caught_up);
  EXPECT_THAT(sink_.acknowledged, SizeIs(2));
  clock_.Advance(absl::Seconds(5));
  caught_up = shipper->Step();
  ASSERT_THAT(caught_up, IsOk());
  EXPECT_TRUE(*caught_up);
  EXPECT_THAT(sink_.AckedLines(), SizeIs(7));
}

TEST_F(ShipperTest, BatchByteLimit) {
  ShipperOptions options = Options();
  options.batch_lines = 1000;
  options.batch_bytes = 400;
  options.once = true;
  for (int i = 0; i < 10; ++i) Append(log_, CriLine(std::string(100, 'x')));
  auto shipper = Make(options);
  ASSERT_THAT(shipper->Step(), IsOk());
  EXPECT_GE(sink_.acknowledged.size(), 3u);
  for (const auto& b : sink_.acknowledged) EXPECT_LE(b.ByteSizeLong(), 400u + 200u);
  EXPECT_THAT(sink_.AckedLines(), SizeIs(10));
}

TEST_F(ShipperTest, UnacknowledgedLinesAreResentAndCheckpointsWaitForTheAck) {
  ShipperOptions options = Options();
  options.once = true;
  for (int i = 0; i < 5; ++i) Append(log_, CriLine("line " + std::to_string(i)));
  sink_.fail_finishes = 1;
  auto shipper = Make(options);
  auto caught_up = shipper->Step();
  ASSERT_THAT(caught_up, IsOk());
  EXPECT_FALSE(*caught_up);
  EXPECT_THAT(sink_.acknowledged, SizeIs(0));
  auto checkpoints = LoadCheckpoints(options.state_dir + "/checkpoints");
  ASSERT_THAT(checkpoints, IsOk());
  EXPECT_THAT(*checkpoints, SizeIs(0));  // nothing acknowledged, nothing recorded
  // The failure waited the backoff on the clock, then everything goes again.
  ASSERT_THAT(shipper->Run(std::atomic<bool>(false)), IsOk());
  EXPECT_THAT(sink_.AckedLines(), SizeIs(5));
  checkpoints = LoadCheckpoints(options.state_dir + "/checkpoints");
  ASSERT_THAT(checkpoints, IsOk());
  ASSERT_THAT(*checkpoints, SizeIs(1));
  EXPECT_EQ((*checkpoints)[0].offset, std::filesystem::file_size(log_));
  // A new shipper on the same state dir sends nothing again.
  sink_.acknowledged.clear();
  auto second = Make(options);
  ASSERT_THAT(second->Run(std::atomic<bool>(false)), IsOk());
  EXPECT_THAT(sink_.acknowledged, SizeIs(0));
  Append(log_, CriLine("new"));
  auto third = Make(options);
  ASSERT_THAT(third->Run(std::atomic<bool>(false)), IsOk());
  EXPECT_THAT(sink_.AckedLines(), ElementsAre(EndsWith("new")));
}

TEST_F(ShipperTest, AnAcknowledgementShortOfWhatWasSentIsDataLossAndNothingIsCheckpointed) {
  ShipperOptions options = Options();
  options.once = true;
  for (int i = 0; i < 5; ++i) Append(log_, CriLine("line " + std::to_string(i)));
  sink_.drop_last = 1;  // the server answers OK for batch 0 of batches 0 and 1
  auto shipper = Make(options);
  EXPECT_THAT(shipper->Run(std::atomic<bool>(false)),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("acknowledged 1 batches")));
  EXPECT_EQ(shipper->stats().lines_acknowledged.load(), 0);
  auto checkpoints = LoadCheckpoints(options.state_dir + "/checkpoints");
  ASSERT_THAT(checkpoints, IsOk());
  EXPECT_THAT(*checkpoints, SizeIs(0));
}

TEST_F(ShipperTest, NonUtf8FileNamesTravelEscapedSoTheBatchParses) {
  ShipperOptions options = Options();
  options.once = true;
  std::string latin1 = CriLogPath(dir_.path() / "logs", "caf\xe9-0");
  Append(latin1, CriLine("hello"));
  auto shipper = Make(options);
  ASSERT_THAT(shipper->Run(std::atomic<bool>(false)), IsOk());
  ASSERT_THAT(sink_.acknowledged, SizeIs(1));
  const v1::CriLogLines& cri = sink_.acknowledged[0].observations(0).cri_log();
  EXPECT_EQ(cri.pod(), "caf\\xe9-0");
  EXPECT_THAT(cri.log_file(), HasSubstr("/caf\\xe9-0_shop_app-"));
  // What the server receives parses (proto3 refuses invalid UTF-8 in string fields).
  v1::ReportErrorRequest parsed;
  EXPECT_TRUE(parsed.ParseFromString(sink_.acknowledged[0].SerializeAsString()));
}

TEST_F(ShipperTest, SendFailureRewindsToTheCheckpoint) {
  ShipperOptions options = Options();
  options.once = true;
  for (int i = 0; i < 9; ++i) Append(log_, CriLine("line " + std::to_string(i)));
  sink_.fail_sends = 2;
  auto shipper = Make(options);
  ASSERT_THAT(shipper->Run(std::atomic<bool>(false)), IsOk());
  EXPECT_THAT(sink_.AckedLines(), SizeIs(9));
  EXPECT_EQ(shipper->stats().send_failures.load(), 2);
}

TEST_F(ShipperTest, PartialLineIsNotShippedUntilComplete) {
  ShipperOptions options = Options();
  options.once = true;
  Append(log_, CriLine("done") + "2026-11-26T08:00:00Z stdout F half");
  auto shipper = Make(options);
  ASSERT_THAT(shipper->Run(std::atomic<bool>(false)), IsOk());
  EXPECT_THAT(sink_.AckedLines(), ElementsAre(EndsWith("done")));
  Append(log_, " and the rest\n");
  ASSERT_THAT(shipper->Run(std::atomic<bool>(false)), IsOk());
  EXPECT_THAT(sink_.AckedLines(),
              ElementsAre(EndsWith("done"), EndsWith("stdout F half and the rest")));
}

TEST_F(ShipperTest, NonCriLinesAreWrappedSoTheServerAcceptsThem) {
  ShipperOptions options = Options();
  options.once = true;
  Append(log_, "{\"log\":\"docker json\"}\n");
  auto shipper = Make(options);
  ASSERT_THAT(shipper->Run(std::atomic<bool>(false)), IsOk());
  ASSERT_THAT(sink_.AckedLines(), SizeIs(1));
  EXPECT_THAT(sink_.AckedLines()[0], HasSubstr("Z stdout F {\"log\":\"docker json\"}"));
}

TEST_F(ShipperTest, PrefilterShipsOnlyCandidateLinesAndStillCheckpointsTheRest) {
  ShipperOptions options = Options();
  options.once = true;
  options.prefilter = true;
  options.prefilter_context = 0;
  Append(log_, CriLine("GET /healthz 200"));
  Append(log_, CriLine("panic: runtime error: index out of range", "stderr"));
  Append(log_, CriLine("served"));
  auto shipper = Make(options);
  ASSERT_THAT(shipper->Run(std::atomic<bool>(false)), IsOk());
  EXPECT_THAT(sink_.AckedLines(), ElementsAre(HasSubstr("panic: runtime error")));
  EXPECT_EQ(shipper->stats().lines_filtered.load(), 2);
  auto checkpoints = LoadCheckpoints(options.state_dir + "/checkpoints");
  ASSERT_THAT(checkpoints, IsOk());
  ASSERT_THAT(*checkpoints, SizeIs(1));
  EXPECT_EQ((*checkpoints)[0].offset, std::filesystem::file_size(log_));
}

TEST_F(ShipperTest, PrefilterKeepsContextLinesAroundACandidate) {
  ShipperOptions options = Options();
  options.once = true;
  options.prefilter = true;
  options.prefilter_context = 1;
  for (const char* text : {"far before", "just before", "panic: boom", "just after", "far after"}) {
    Append(log_, CriLine(text));
  }
  auto shipper = Make(options);
  ASSERT_THAT(shipper->Run(std::atomic<bool>(false)), IsOk());
  EXPECT_THAT(sink_.AckedLines(), ElementsAre(EndsWith("just before"), EndsWith("panic: boom"),
                                              EndsWith("just after")));
  EXPECT_EQ(shipper->stats().lines_filtered.load(), 2);
}

TEST_F(ShipperTest, RenameRotationFinishesTheOldFileFirst) {
  ShipperOptions options = Options();
  options.batch_lines = 100;
  options.once = true;
  Append(log_, CriLine("a1"));
  auto shipper = Make(options);
  ASSERT_THAT(shipper->Run(std::atomic<bool>(false)), IsOk());
  Append(log_, CriLine("a2"));
  std::filesystem::rename(log_, log_ + ".1");
  Append(log_, CriLine("b1"));
  ASSERT_THAT(shipper->Run(std::atomic<bool>(false)), IsOk());
  EXPECT_THAT(sink_.AckedLines(), ElementsAre(EndsWith("a1"), EndsWith("a2"), EndsWith("b1")));
}

TEST_F(ShipperTest, RotationWhileStoppedResumesTheRenamedFile) {
  ShipperOptions options = Options();
  options.batch_lines = 100;
  options.once = true;
  Append(log_, CriLine("a1"));
  ASSERT_THAT(Make(options)->Run(std::atomic<bool>(false)), IsOk());
  // While no shipper runs: more lines, rotation, a new file.
  Append(log_, CriLine("a2"));
  std::filesystem::rename(log_, log_ + ".1");
  Append(log_, CriLine("b1"));
  ASSERT_THAT(Make(options)->Run(std::atomic<bool>(false)), IsOk());
  EXPECT_THAT(sink_.AckedLines(), ElementsAre(EndsWith("a1"), EndsWith("a2"), EndsWith("b1")));
}

TEST_F(ShipperTest, BadOptionsAreInvalidArgument) {
  ShipperOptions options = Options();
  options.batch_lines = 0;
  EXPECT_THAT(Shipper::Create(options, sink_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("batch lines 0")));
  options = Options();
  options.state_dir = "";
  EXPECT_THAT(Shipper::Create(options, sink_, clock_),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--state-dir")));
}

}  // namespace
}  // namespace remediator::log_shipper

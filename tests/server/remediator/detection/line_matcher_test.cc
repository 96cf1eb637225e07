#include "server/remediator/core/detection/line_matcher.h"

#include <random>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "server/remediator/core/detection/literal_scanner.h"
#include "server/remediator/core/detection/log_patterns.h"
#include "tests/testing/status_matchers.h"

namespace remediator::detection {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Brute force: the ids of `literals` occurring in `text`, ASCII case-insensitively.
std::vector<int> NaiveFindAll(const std::vector<std::string>& literals, const std::string& text) {
  std::vector<int> ids;
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (size_t i = 0; i < literals.size(); ++i) {
    std::string l = literals[i];
    for (char& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (l.size() >= 3 && lower.find(l) != std::string::npos) ids.push_back(static_cast<int>(i));
  }
  return ids;
}

TEST(LiteralScannerTest, AgreesWithBruteForceOnRandomText) {
  const std::vector<std::string> literals = {
      "OOMKilled", "panic: ", "\"error\"",   "abc",          "xyz",  "connection refused",
      "Zq9",       "[emerg]", "level=fatal", "http/1.1\" 5", "aaaa", "killed",
      "oomkill"};
  LiteralScanner simd(literals);
  LiteralScanner scalar(literals, /*allow_simd=*/false);
  EXPECT_FALSE(scalar.uses_avx2());
  std::mt19937 rng(42);
  // A small alphabet makes partial matches and overlaps frequent.
  const std::string alphabet = "abcxyzOKMildeoprn:\" =[]/.15tfv9qZ\t";
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int len = static_cast<int>(rng() % 300);
    for (int i = 0; i < len; ++i) text += alphabet[rng() % alphabet.size()];
    if (round % 3 == 0) {
      std::string lit = literals[rng() % literals.size()];
      if (round % 2 == 0) {
        for (char& c : lit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      text.insert(text.empty() ? 0 : rng() % text.size(), lit);
    }
    const std::vector<int> want = NaiveFindAll(literals, text);
    for (const LiteralScanner* scanner : {&simd, &scalar}) {
      std::vector<int> got;
      scanner->FindAll(text, &got);
      ASSERT_EQ(got, want) << "simd=" << scanner->uses_avx2() << " text: " << text;
      EXPECT_EQ(scanner->Contains(text), !got.empty());
    }
  }
}

TEST(LiteralScannerTest, ThreeByteLiteralsUseAThreeByteWindow) {
  const std::vector<std::string> literals = {"abc", "longer literal"};
  for (bool simd : {true, false}) {
    LiteralScanner scanner(literals, simd);
    std::vector<int> ids;
    scanner.FindAll(std::string(70, '-') + "ABC" + std::string(70, '-') + "Longer Literal", &ids);
    EXPECT_THAT(ids, ElementsAre(0, 1));
    EXPECT_FALSE(scanner.Contains(std::string(100, 'a') + "ab"));
  }
}

TEST(LiteralScannerTest, RespectsTheLowerBoundAndEnds) {
  LiteralScanner scanner({"needle"});
  int id = -1;
  const std::string text = std::string(100, '.') + "needle" + std::string(40, '.') + "needle";
  EXPECT_EQ(scanner.Find(text, 0, 0, &id), 100u);
  EXPECT_EQ(id, 0);
  EXPECT_EQ(scanner.Find(text, 101, 101, &id), 146u);
  EXPECT_EQ(scanner.Find(text, 147, 147, &id), LiteralScanner::kNotFound);
  EXPECT_FALSE(scanner.Contains("needl"));
  EXPECT_TRUE(scanner.Contains("NEEDLE"));
  EXPECT_FALSE(scanner.Contains(""));
}

TEST(LineMatcherTest, RejectsBadPatternSets) {
  EXPECT_THAT(LineMatcher::Create({}), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(LineMatcher::Create({PatternSpec{"bad", "foo(("}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad")));
  EXPECT_THAT(LineMatcher::Create({PatternSpec{"a", "x"}, PatternSpec{"a", "y"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("duplicate")));
  EXPECT_THAT(LineMatcher::Create({PatternSpec{"", "x"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(LineMatcherTest, MatchesTheBenchmarkTemplatesExactlyOnce) {
  auto m = LineMatcher::Create(BenchmarkPatterns());
  ASSERT_THAT(m, IsOk());
  // One line per template of gen_cri_logs.cpp, in pattern order.
  const std::vector<std::string> lines = {
      "Warning  OOMKilled  container abc was OOMKilled (exit code 137)",
      "Warning  BackOff  Back-off restarting failed container app in pod x: CrashLoopBackOff",
      "panic: runtime error: invalid memory address or nil pointer dereference",
      "Traceback (most recent call last): File \"app/main.py\", line 42, in handler",
      "java.lang.OutOfMemoryError: Java heap space at com.example.Cache.put(Cache.java:88)",
      "dial tcp 10.96.0.12:5432: connect: connection refused (req 1)",
      "time=\"2024-05-01T12:00:00Z\" level=error msg=\"failed to sync object\" key=k",
      "{\"level\":\"error\",\"ts\":1714564800.123,\"msg\":\"reconcile failed\",\"id\":\"x\"}",
      "Warning  Failed  Failed to pull image \"registry/app:1\": ErrImagePull",
      "worker exited: signal SIGSEGV: segmentation violation pc=0x1",
      "Exception in thread \"pool-3-thread-1\" java.lang.IllegalStateException: bad state",
      "rpc error: code = DeadlineExceeded desc = context deadline exceeded id=1",
      "write data/wal-1: no space left on device",
      "read tcp 10.0.1.5:44312->10.0.2.9:6379: read: connection reset by peer",
      "Warning  Unhealthy  Liveness probe failed: HTTP probe failed with statuscode: 500",
      "accept tcp [::]:8080: accept4: too many open files; retrying",
      "dial tcp 10.0.3.3:443: i/o timeout (host a)",
      "tls: failed to verify certificate: x509: certificate has expired or is not yet valid",
      "10.0.0.7 - - [01/May/2024:12:00:00 +0000] \"GET /api/v1/orders/1 HTTP/1.1\" 503 19 \"-\"",
      "fatal error: concurrent map writes goroutine 1",
  };
  ASSERT_EQ(lines.size(), 20u);
  std::vector<int> ids;
  for (size_t i = 0; i < lines.size(); ++i) {
    EXPECT_TRUE((*m)->IsCandidate(lines[i])) << lines[i];
    ASSERT_TRUE((*m)->MatchAll(lines[i], &ids)) << lines[i];
    EXPECT_THAT(ids, ElementsAre(static_cast<int>(i))) << lines[i];
  }
}

TEST(LineMatcherTest, BenignLinesDoNotMatch) {
  auto m = LineMatcher::Create(DefaultLogPatterns());
  ASSERT_THAT(m, IsOk());
  EXPECT_FALSE((*m)->always_candidate());
  const std::vector<std::string> benign = {
      "time=\"2024-05-01T12:00:00Z\" level=info msg=\"no errors\" errors=0",
      "{\"level\":\"info\",\"msg\":\"no errors found\",\"status\":200}",
      "2025/05/31 09:00:00 [notice] 1#1: start worker processes",
      "2025/05/30 10:10:10 [warn] 1#1: the \"user\" directive makes sense only if ...",
      "    error_log  /var/log/nginx/error.log notice;",
      "    error_page   500 502 503 504  /50x.html;",
      "10.244.1.1 - - [31/May/2025:09:00:09 +0000] \"GET /error HTTP/1.1\" 200 615 \"-\"",
      "10.244.1.1 - - [31/May/2025:09:00:09 +0000] \"GET /healthz HTTP/1.1\" 200 2 \"-\"",
      "I0501 12:00:00.123456       1 controller.go:123] \"Reconciling\" pod=\"default/app\"",
      "",
  };
  std::vector<int> ids;
  for (const std::string& line : benign) {
    EXPECT_FALSE((*m)->MatchAll(line, &ids)) << line << " matched " << ids.size();
    EXPECT_EQ((*m)->Match(line), std::nullopt) << line;
  }
}

TEST(LineMatcherTest, MatchPrefersTheHighestPriority) {
  auto m = LineMatcher::Create(DefaultLogPatterns());
  ASSERT_THAT(m, IsOk());
  auto hit =
      (*m)->Match("Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->pattern->name, "java_out_of_memory");
  EXPECT_TRUE(hit->pattern->fixable_by_manifest);
  hit = (*m)->Match("/docker-entrypoint.sh: line 18:    41 Killed                  node app.js");
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->pattern->error_class, v1::ERROR_CLASS_OOM_KILLED);
}

// The prefilter never hides a match: on random mixes of pattern fragments and noise, IsCandidate
// is true whenever plain RE2 finds any pattern, and MatchAll equals RE2 pattern by pattern.
TEST(LineMatcherTest, PrefilterIsASupersetOfRe2) {
  const std::vector<PatternSpec> specs = DefaultLogPatterns();
  auto m = LineMatcher::Create(specs);
  ASSERT_THAT(m, IsOk());
  std::vector<std::unique_ptr<RE2>> res;
  for (const PatternSpec& s : specs) res.push_back(std::make_unique<RE2>(s.regex));
  const std::vector<std::string> fragments = {"level=",
                                              "error",
                                              "fatal",
                                              "\"level\":",
                                              " \"",
                                              "\"error\"",
                                              "panic: ",
                                              "Killed",
                                              "line 3:",
                                              "  12 ",
                                              "connection refused",
                                              "dial tcp ",
                                              "10.0.0.1:80",
                                              ": connect: ",
                                              "HTTP/1.1\" ",
                                              "503 ",
                                              "[emerg] ",
                                              "host not found in upstream",
                                              "KeyError: '",
                                              "DB_URL'",
                                              "x509: cert",
                                              "OOMKilled",
                                              " ",
                                              "\t",
                                              "lookup db on 10.96.0.10:53",
                                              ": no such host",
                                              "ECONNREFUSED",
                                              "connect ",
                                              "Liveness probe failed",
                                              "java.lang.OutOfMemoryError",
                                              "retrying"};
  std::mt19937 rng(7);
  std::vector<int> ids;
  for (int round = 0; round < 5000; ++round) {
    std::string line;
    const int parts = 1 + static_cast<int>(rng() % 6);
    for (int i = 0; i < parts; ++i) line += fragments[rng() % fragments.size()];
    std::vector<int> want;
    for (size_t i = 0; i < res.size(); ++i) {
      if (RE2::PartialMatch(line, *res[i])) want.push_back(static_cast<int>(i));
    }
    if (!want.empty()) {
      ASSERT_TRUE((*m)->IsCandidate(line)) << line;
    }
    (*m)->MatchAll(line, &ids);
    ASSERT_EQ(ids, want) << line;
  }
}

TEST(LineMatcherTest, ScanBufferFindsTheSameLinesAsPerLineMatching) {
  auto m = LineMatcher::Create(DefaultLogPatterns());
  ASSERT_THAT(m, IsOk());
  const std::string buffer =
      "ok line\n"
      "panic: boom\n"
      "{\"level\":\"info\",\"msg\":\"fine\"}\n"
      "\n"
      "{\"level\":\"error\",\"msg\":\"bad\"}\n"
      "level=info msg=\"connection refused, retrying\"\n"
      "last line without newline: no space left on device";
  std::vector<std::string> got;
  (*m)->ScanBuffer(buffer, [&](std::string_view line, const std::vector<int>& ids) {
    EXPECT_THAT(ids, ::testing::Not(IsEmpty()));
    got.emplace_back(line);
  });
  EXPECT_THAT(got, ElementsAre("panic: boom", "{\"level\":\"error\",\"msg\":\"bad\"}",
                               "level=info msg=\"connection refused, retrying\"",
                               "last line without newline: no space left on device"));
}

TEST(LineMatcherTest, PatternsWithoutLiteralsStillWork) {
  // No literal of 3+ bytes: every line is a candidate, matching stays exact.
  auto m = LineMatcher::Create({PatternSpec{"digits", R"(^\d+$)"}});
  ASSERT_THAT(m, IsOk());
  EXPECT_TRUE((*m)->always_candidate());
  EXPECT_TRUE((*m)->IsCandidate("anything"));
  EXPECT_TRUE((*m)->Match("12345").has_value());
  EXPECT_FALSE((*m)->Match("12a").has_value());
  int seen = 0;
  (*m)->ScanBuffer("a\n12345\nb", [&](std::string_view line, const std::vector<int>&) {
    EXPECT_EQ(line, "12345");
    ++seen;
  });
  EXPECT_EQ(seen, 1);
  EXPECT_FALSE((*m)->Match("no problems").has_value());
}

TEST(LineMatcherTest, FromRegexLinesSkipsBlanksAndComments) {
  auto m = LineMatcher::FromRegexLines("# comment\nOOMKilled\n\nfatal error: \r\n");
  ASSERT_THAT(m, IsOk());
  ASSERT_EQ((*m)->size(), 2);
  EXPECT_EQ((*m)->pattern(1).regex, "fatal error: ");
  EXPECT_EQ((*m)->pattern(0).name, "pattern_0");
  EXPECT_THAT(LineMatcher::FromRegexLines("ok\n(unclosed\n"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("pattern_1")));
}

}  // namespace
}  // namespace remediator::detection

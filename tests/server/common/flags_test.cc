#include "server/common/flags.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/testing/status_matchers.h"

namespace remediator {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct Parsed {
  std::string listen = "127.0.0.1:50051";
  int port = 7;
  bool verbose = false;
  std::vector<std::string> paths;
};

absl::Status ParseInto(FlagSet& flags, Parsed& p, std::vector<const char*> args) {
  flags.String("listen", &p.listen, "address");
  flags.Int("port", &p.port, "port", 'p');
  flags.Bool("verbose", &p.verbose, "more output");
  flags.Repeated("paths", &p.paths, "globs");
  args.insert(args.begin(), "prog");
  return flags.Parse(static_cast<int>(args.size()), args.data());
}

TEST(FlagSetTest, ParsesEqualsSpaceShortAndRepeatedForms) {
  FlagSet flags("prog", "test");
  Parsed p;
  ASSERT_THAT(ParseInto(flags, p,
                        {"--listen=0.0.0.0:1", "-p", "42", "--verbose", "--paths", "a", "--paths=b",
                         "positional"}),
              IsOk());
  EXPECT_EQ(p.listen, "0.0.0.0:1");
  EXPECT_EQ(p.port, 42);
  EXPECT_TRUE(p.verbose);
  EXPECT_THAT(p.paths, ElementsAre("a", "b"));
  EXPECT_THAT(flags.positional(), ElementsAre("positional"));
  EXPECT_TRUE(flags.IsSet("listen"));
  EXPECT_FALSE(flags.IsSet("nonexistent"));
}

TEST(FlagSetTest, UnsetFlagsKeepDefaultsAndReportNotSet) {
  FlagSet flags("prog", "test");
  Parsed p;
  ASSERT_THAT(ParseInto(flags, p, {}), IsOk());
  EXPECT_EQ(p.listen, "127.0.0.1:50051");
  EXPECT_FALSE(flags.IsSet("listen"));
}

TEST(FlagSetTest, NegatedBool) {
  FlagSet flags("prog", "test");
  Parsed p;
  p.verbose = true;
  ASSERT_THAT(ParseInto(flags, p, {"--no-verbose"}), IsOk());
  EXPECT_FALSE(p.verbose);
}

TEST(FlagSetTest, UnknownFlagIsInvalidArgumentNamingIt) {
  FlagSet flags("prog", "test");
  Parsed p;
  EXPECT_THAT(ParseInto(flags, p, {"--lisen=x"}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--lisen")));
}

TEST(FlagSetTest, BadIntAndMissingValueAreErrors) {
  {
    FlagSet flags("prog", "test");
    Parsed p;
    EXPECT_THAT(ParseInto(flags, p, {"--port=abc"}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("whole number")));
  }
  {
    FlagSet flags("prog", "test");
    Parsed p;
    EXPECT_THAT(ParseInto(flags, p, {"--listen"}),
                StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a value")));
  }
}

TEST(FlagSetTest, HelpListsEveryFlagWithDefault) {
  FlagSet flags("prog", "does things");
  Parsed p;
  ASSERT_THAT(ParseInto(flags, p, {"--help"}), IsOk());
  EXPECT_TRUE(flags.help_requested());
  const std::string usage = flags.Usage();
  EXPECT_THAT(usage, HasSubstr("--listen VALUE"));
  EXPECT_THAT(usage, HasSubstr("default: 127.0.0.1:50051"));
  EXPECT_THAT(usage, HasSubstr("-p, --port"));
  EXPECT_THAT(usage, HasSubstr("does things"));
}

TEST(FlagSetTest, StopAtFirstPositionalLeavesCommandFlags) {
  FlagSet flags("prog", "test");
  flags.set_stop_at_first_positional(true);
  Parsed p;
  ASSERT_THAT(ParseInto(flags, p, {"--port", "1", "report", "-f", "x"}), IsOk());
  EXPECT_EQ(p.port, 1);
  EXPECT_THAT(flags.positional(), ElementsAre("report", "-f", "x"));
}

}  // namespace
}  // namespace remediator

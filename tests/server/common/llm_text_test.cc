#include "server/common/llm_text.h"

#include <gtest/gtest.h>

namespace remediator {
namespace {

TEST(StripThinkBlocksTest, InlineBlock) {
  EXPECT_EQ(StripThinkBlocks("<think>\nthe pod is OOM {not json\n</think>\n\nanswer"), "answer");
}
TEST(StripThinkBlocksTest, CloseTagOnly) {
  EXPECT_EQ(StripThinkBlocks("reasoning about } and {\n</think>\n\n{\"a\":1}"), "{\"a\":1}");
}
TEST(StripThinkBlocksTest, EmptyBlock) {
  EXPECT_EQ(StripThinkBlocks("<think>\n\n</think>\n\nok"), "ok");
}
TEST(StripThinkBlocksTest, NoBlockIsKeptTrimmed) {
  EXPECT_EQ(StripThinkBlocks("  Checkout is down.  "), "Checkout is down.");
  EXPECT_EQ(StripThinkBlocks("<think>x</think>"), "");
}
TEST(StripThinkBlocksTest, LastCloseTagWins) {
  EXPECT_EQ(StripThinkBlocks("<think>a</think> mention </think> in text</think>final"), "final");
}
TEST(StripThinkBlocksTest, UnclosedThinkIsNoAnswer) {
  EXPECT_EQ(StripThinkBlocks("<think>\nstill thinking about {\"changes\": []}"), "");
}

}  // namespace
}  // namespace remediator

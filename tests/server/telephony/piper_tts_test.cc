// PiperTts against a stand-in `piper` executable (a shell script following the Piper CLI contract,
// api-contracts.md §6.4): checks the arguments and stdin, writes a WAV with sox.
#include "server/telephony/adapters/piper_tts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "server/common/file_util.h"
#include "tests/server/telephony/test_util.h"
#include "tests/testing/status_matchers.h"

namespace remediator::telephony {
namespace {

using ::remediator::testing::IsOk;
using ::remediator::testing::StatusIs;
using ::testing::HasSubstr;

// Records its argv and stdin next to itself, insists on --model X.onnx and --output_file, and
// writes 1 s of a 22050 Hz tone there. With a model named "broken.onnx" it fails like piper.
constexpr char kFakePiper[] = R"(#!/bin/sh
here=$(dirname "$0")
printf '%s\n' "$@" > "$here/args.txt"
cat > "$here/stdin.txt"
model=""; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --model) model="$2"; shift 2;;
    --output_file) out="$2"; shift 2;;
    --length_scale|--speaker) shift 2;;
    *) echo "unknown argument $1" >&2; exit 64;;
  esac
done
case "$model" in *.onnx) ;; *) echo "missing --model" >&2; exit 64;; esac
[ -n "$out" ] || { echo "missing --output_file" >&2; exit 64; }
case "$model" in *broken.onnx) echo "Failed to load voice model" >&2; exit 1;; esac
sox -V1 -n -r 22050 -c 1 -b 16 "$out" synth 1 sine 440
echo "$out"
)";

class PiperTtsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    script_ = dir_.path() + "/piper";
    ASSERT_THAT(WriteFileAtomically(script_, kFakePiper), IsOk());
    ::chmod(script_.c_str(), 0755);
    options_.binary = script_;
    options_.model = dir_.path() + "/en_US-lessac-medium.onnx";
    options_.work_dir = dir_.path() + "/work";
  }
  std::string Read(const std::string& name) {
    return ReadFile(dir_.path() + "/" + name).value_or("");
  }

  TempDir dir_;
  std::string script_;
  PiperOptions options_;
};

TEST_F(PiperTtsTest, SendsTextOnStdinAndReadsTheWav) {
  PiperTts tts(options_);
  TtsRequest request;
  request.text = "Can you intervene?\nPlease answer yes or no.";
  request.words_per_minute = 350;
  auto audio = tts.Synthesize(request);
  ASSERT_THAT(audio, IsOk());
  EXPECT_EQ(audio->sample_rate, 22050);
  EXPECT_EQ(audio->samples.size(), 22050u);
  EXPECT_EQ(Read("stdin.txt"), "Can you intervene? Please answer yes or no.\n");
  std::string args = Read("args.txt");
  EXPECT_THAT(args, HasSubstr("--model\n" + options_.model + "\n"));
  EXPECT_THAT(args, HasSubstr("--output_file\n"));
  EXPECT_THAT(args, HasSubstr("--length_scale\n0.500\n"));
  EXPECT_EQ(tts.engine(), "piper");
}

TEST_F(PiperTtsTest, FrenchModelAndSpeakerChoice) {
  options_.model_fr = dir_.path() + "/fr_FR-siwis-medium.onnx";
  PiperTts tts(options_);
  TtsRequest request;
  request.text = "Pouvez-vous intervenir ?";
  request.language = "fr";
  request.voice = "2";
  ASSERT_THAT(tts.Synthesize(request), IsOk());
  EXPECT_THAT(Read("args.txt"), HasSubstr(options_.model_fr));
  EXPECT_THAT(Read("args.txt"), HasSubstr("--speaker\n2\n"));
}

TEST_F(PiperTtsTest, ErrorsSayWhatWentWrong) {
  PiperTts no_model(PiperOptions{script_, "", "", dir_.path(), absl::Seconds(10)});
  TtsRequest request;
  request.text = "hello";
  EXPECT_THAT(no_model.Synthesize(request),
              StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("piper.model")));
  options_.model = dir_.path() + "/broken.onnx";
  PiperTts broken(options_);
  EXPECT_THAT(broken.Synthesize(request),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("Failed to load voice model")));
  request.voice = "not a voice";
  EXPECT_THAT(broken.Synthesize(request), StatusIs(absl::StatusCode::kInvalidArgument));
  request.voice = "";
  request.text = "";
  EXPECT_THAT(broken.Synthesize(request), StatusIs(absl::StatusCode::kInvalidArgument));
  options_.binary = dir_.path() + "/no-such-piper";
  options_.model = dir_.path() + "/x.onnx";
  PiperTts missing(options_);
  request.text = "hello";
  EXPECT_THAT(missing.Synthesize(request), StatusIs(absl::StatusCode::kUnavailable));
}

}  // namespace
}  // namespace remediator::telephony

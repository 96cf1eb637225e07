#include "server/telephony/adapters/piper_tts.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/common/file_util.h"
#include "server/common/status_macros.h"
#include "server/telephony/adapters/subprocess.h"
#include "server/telephony/core/speech_drafter.h"

namespace remediator::telephony {
namespace {

// Removes a directory tree on scope exit.
struct DirCleanup {
  std::string path;
  ~DirCleanup() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace

absl::StatusOr<Audio> PiperTts::Synthesize(const TtsRequest& request) {
  if (request.text.empty()) return absl::InvalidArgumentError("text to synthesize is empty");
  ASSIGN_OR_RETURN(std::string lang, NormalizeLanguage(request.language));
  std::string model =
      lang == "fr" && !options_.model_fr.empty() ? options_.model_fr : options_.model;
  std::string speaker;
  if (absl::EndsWith(request.voice, ".onnx")) {
    model = request.voice;
  } else if (!request.voice.empty()) {
    int n = 0;
    if (!absl::SimpleAtoi(request.voice, &n) || n < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "piper voice \"", request.voice, "\" is neither a model path (.onnx) nor a speaker id"));
    }
    speaker = request.voice;
  }
  if (model.empty()) {
    return absl::FailedPreconditionError("piper has no voice model; set piper.model");
  }
  if (request.words_per_minute < 0 || request.words_per_minute > 450) {
    return absl::InvalidArgumentError("words_per_minute must be 0..450");
  }
  RETURN_IF_ERROR(MakeDirectories(options_.work_dir));
  std::string dir = options_.work_dir + "/piper-XXXXXX";
  if (::mkdtemp(dir.data()) == nullptr) {
    return ErrnoToStatus(errno, "create a directory under " + options_.work_dir);
  }
  DirCleanup cleanup{dir};
  // One line: newlines inside the text would only become pauses anyway.
  std::string text = request.text;
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  RETURN_IF_ERROR(WriteFileAtomically(dir + "/text.txt", text + "\n"));
  std::vector<std::string> argv = {options_.binary, "--model", model, "--output_file",
                                   dir + "/out.wav"};
  if (request.words_per_minute > 0) {
    argv.push_back("--length_scale");
    argv.push_back(absl::StrFormat("%.3f", 175.0 / request.words_per_minute));
  }
  if (!speaker.empty()) {
    argv.push_back("--speaker");
    argv.push_back(speaker);
  }
  ASSIGN_OR_RETURN(auto process, Subprocess::Start(argv, dir + "/piper.log", dir + "/text.txt"));
  if (!process->WaitFor(options_.timeout)) {
    process->Stop(absl::Milliseconds(200));
    return absl::DeadlineExceededError(
        absl::StrCat("piper did not finish within ", absl::FormatDuration(options_.timeout)));
  }
  int status = process->wait_status();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string log = ReadFile(dir + "/piper.log").value_or("");
    if (log.size() > 400) log = log.substr(log.size() - 400);
    return absl::UnavailableError(
        absl::StrCat("piper failed (status ", status, "): ", absl::StripAsciiWhitespace(log)));
  }
  auto wav = ReadFile(dir + "/out.wav");
  if (!wav.ok()) return absl::UnavailableError("piper exited 0 but wrote no WAV file");
  absl::StatusOr<Audio> audio = DecodeWav(*wav);
  if (!audio.ok()) {
    return absl::UnavailableError(
        absl::StrCat("piper wrote a bad WAV: ", audio.status().message()));
  }
  return audio;
}

}  // namespace remediator::telephony

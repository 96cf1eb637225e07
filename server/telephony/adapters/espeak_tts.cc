#include "server/telephony/adapters/espeak_tts.h"

#include <espeak-ng/speak_lib.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "server/telephony/core/speech_drafter.h"

namespace remediator::telephony {
namespace {

std::mutex& EngineMutex() {
  static std::mutex* mu = new std::mutex();
  return *mu;
}

// The engine appends to the Audio passed as user data of the current synthesis.
int OnSamples(short* wav, int count, espeak_EVENT* events) {
  if (wav == nullptr || count <= 0 || events == nullptr) return 0;
  auto* audio = static_cast<Audio*>(events->user_data);
  if (audio != nullptr) audio->samples.insert(audio->samples.end(), wav, wav + count);
  return 0;  // continue
}

}  // namespace

absl::StatusOr<Audio> EspeakTts::Synthesize(const TtsRequest& request) {
  if (request.text.empty()) return absl::InvalidArgumentError("text to synthesize is empty");
  int wpm = request.words_per_minute == 0 ? espeakRATE_NORMAL : request.words_per_minute;
  if (wpm < espeakRATE_MINIMUM || wpm > espeakRATE_MAXIMUM) {
    return absl::InvalidArgumentError(absl::StrCat("words_per_minute ", request.words_per_minute,
                                                   " is outside 80..450 for espeak-ng"));
  }
  std::string voice = request.voice;
  if (voice.empty()) {
    absl::StatusOr<std::string> lang = NormalizeLanguage(request.language);
    if (!lang.ok()) return lang.status();
    voice = *lang == "fr" ? "fr" : "en-us";
  }
  std::lock_guard<std::mutex> lock(EngineMutex());
  static int sample_rate = 0;
  if (sample_rate <= 0) {
    sample_rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 200,
                                    data_path_.empty() ? nullptr : data_path_.c_str(),
                                    espeakINITIALIZE_DONT_EXIT);
    if (sample_rate <= 0) {
      return absl::UnavailableError(
          "espeak-ng failed to initialize (is espeak-ng-data installed?)");
    }
    espeak_SetSynthCallback(&OnSamples);
  }
  if (espeak_SetVoiceByName(voice.c_str()) != EE_OK) {
    return absl::InvalidArgumentError(
        absl::StrCat("espeak-ng has no voice \"", voice, "\" (see espeak-ng --voices)"));
  }
  espeak_SetParameter(espeakRATE, wpm, 0);
  Audio audio;
  audio.sample_rate = sample_rate;
  audio.samples.reserve(static_cast<size_t>(sample_rate) * request.text.size() / 12);
  espeak_ERROR err = espeak_Synth(request.text.c_str(), request.text.size() + 1, 0, POS_CHARACTER,
                                  0, espeakCHARS_UTF8, nullptr, &audio);
  if (err != EE_OK) return absl::InternalError(absl::StrCat("espeak-ng synthesis failed: ", err));
  espeak_Synchronize();
  if (!HasSpeech(audio)) {
    return absl::FailedPreconditionError(
        absl::StrCat("espeak-ng voice \"", voice,
                     "\" produced silence (an mbrola voice that is not installed?)"));
  }
  return audio;
}

}  // namespace remediator::telephony

// PocketsphinxStt: answer recognition with libpocketsphinx, in-process, against a small JSGF
// grammar of English and French answers ("yes i can come", "no i am busy", "oui j'arrive",
// "non je ne peux pas"...). The audio is trimmed of silence, resampled to 16 kHz (the only rate
// of the en-us model) and decoded as one utterance. French words are given English phones
// (there is no French model in Debian), which is enough for oui/non-style answers.
//
// A grammar forces any speech into one of its answers ("the weather is nice today" can come
// out as "ok"), so a transcript that would decide YES is verified, and match_score says how
// well it held up (DecideAnswer needs >= 0.5 for a yes):
//   - a second pass over the same audio with a free phone loop (GarbageGrammar): when the
//     loop scores much better per frame than the grammar, the audio was not that answer;
//   - a duration check: more than 0.75 s of loud speech per recognized word means a longer
//     sentence was squeezed into a short answer.
// Measured on an espeak-ng grid (tests/server/telephony/speech_test.cc): 0 false yes.
//
// One decoder per instance, guarded by a mutex (set-up ~100-200 ms; ~100-170 ms CPU per
// answer on this machine, the verification pass included).
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_POCKETSPHINX_STT_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_POCKETSPHINX_STT_H_

#include <memory>
#include <mutex>
#include <string>

#include "server/telephony/core/stt.h"

namespace remediator::telephony {

class PocketsphinxStt final : public Stt {
 public:
  // `model_dir` holds en-us/en-us (acoustic model) and en-us/cmudict-en-us.dict.
  // `work_dir` receives the generated grammar and dictionary. FailedPrecondition naming the
  // missing file when the model is not installed.
  static absl::StatusOr<std::unique_ptr<PocketsphinxStt>> Create(const std::string& model_dir,
                                                                 const std::string& work_dir);
  ~PocketsphinxStt() override;

  absl::StatusOr<SttResult> Transcribe(const Audio& audio, const std::string& language) override;
  std::string engine() const override { return "pocketsphinx"; }

  // The grammar in JSGF text (exposed for tests and --help).
  static std::string Grammar();
  // The phone loop that verifies the answer grammar's result.
  static std::string GarbageGrammar();

 private:
  struct Decoder;
  explicit PocketsphinxStt(std::unique_ptr<Decoder> decoder);
  std::mutex mu_;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_POCKETSPHINX_STT_H_

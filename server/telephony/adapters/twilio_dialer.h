// TwilioDialer: places calls through Twilio Programmable Voice (api-contracts.md §6.5).
//
// Twilio speaks and listens itself: the call is created with inline TwiML
//   <Response><Gather input="speech" action=WEBHOOK/gather/TOKEN actionOnEmptyResult="true" ...>
//     <Say language=...>SPEECH</Say></Gather><Hangup/></Response>
// and Twilio POSTs the transcript (SpeechResult, Confidence) to the Gather action URL, which a
// small cpp-httplib server owned by the dialer receives (webhook_listen, reachable by Twilio at
// webhook_public_url). The call status is polled (GET .../Calls/{Sid}.json) with the injected
// clock. Twilio needs text, not audio, while the Dialer interface carries Audio: TwilioSayTts
// packs the text into an Audio that TwilioDialer unpacks, and the answer comes back the same way
// to TwilioSpeechResultStt, so that the existing CallFlow and AnswerDecider are used unchanged.
// Only one answer per call: re-asking after an unclear answer is not supported (the second
// PlayAndListen fails and the call is recorded with the first answer).
// The auth token is sent as HTTP Basic credentials only; it never reaches logs or errors.
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_TWILIO_DIALER_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_TWILIO_DIALER_H_

#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "server/common/clock.h"
#include "server/common/http_client.h"
#include "server/telephony/core/dialer.h"
#include "server/telephony/core/stt.h"
#include "server/telephony/core/tts.h"

namespace httplib {
class Server;
}

namespace remediator::telephony {

struct TwilioOptions {
  std::string account_sid;
  std::string auth_token;  // secret
  std::string from;        // a Twilio or verified number
  std::string api_url = "https://api.twilio.com";
  // HOST:PORT the Gather webhook server listens on (port 0: a free port).
  std::string webhook_listen = "127.0.0.1:0";
  // The base URL Twilio reaches that server at (e.g. https://telephony.example.com); empty:
  // http://<the bound address> (only useful with a local stand-in).
  std::string webhook_public_url;
  absl::Duration poll_interval = absl::Seconds(1);
  // Attempts for a request answered 429 or 5xx.
  int max_attempts = 3;
  absl::Duration request_timeout = absl::Seconds(15);
};

// Text carried in an Audio (see the file comment). `language` is "en" or "fr".
Audio PackText(const std::string& text, const std::string& language, double confidence,
               int sample_rate);
// False when `audio` is not a packed text.
bool UnpackText(const Audio& audio, std::string* text, std::string* language, double* confidence);

// The Tts paired with TwilioDialer: packs the text (Twilio's <Say> speaks it).
class TwilioSayTts final : public Tts {
 public:
  absl::StatusOr<Audio> Synthesize(const TtsRequest& request) override;
  std::string engine() const override { return "twilio-say"; }
};

// The Stt paired with TwilioDialer: unpacks Twilio's SpeechResult; InvalidArgument for real
// audio.
class TwilioSpeechResultStt final : public Stt {
 public:
  absl::StatusOr<SttResult> Transcribe(const Audio& audio, const std::string& language) override;
  std::string engine() const override { return "twilio-gather"; }
};

class TwilioDialer final : public Dialer {
 public:
  // Starts the webhook server. InvalidArgument for missing settings, Unavailable when the
  // webhook address cannot be bound. `http` and `clock` are borrowed.
  static absl::StatusOr<std::unique_ptr<TwilioDialer>> Create(HttpClient* http, Clock* clock,
                                                              TwilioOptions options);
  ~TwilioDialer() override;

  // The call's outcome follows Twilio's status: in-progress/completed after pick-up ->
  // ANSWERED, busy -> BUSY, no-answer/canceled or ringing past ring_timeout -> NO_ANSWER,
  // failed, an API error (401, 4xx, 429/5xx after retries) or no progress -> FAILED.
  // DialOptions::first_prompt must come from TwilioSayTts.
  absl::StatusOr<std::unique_ptr<Call>> Dial(const std::string& number,
                                             const DialOptions& options) override;
  int sample_rate() const override { return 8000; }
  std::string name() const override { return "twilio"; }

  // Base URL of the webhook server as given to Twilio.
  std::string webhook_url() const { return public_url_; }

  // Used by the call (public for the implementation only).
  struct Gathered {
    bool done = false;
    std::string speech;
    double confidence = 0;
  };
  absl::StatusOr<HttpResponse> Api(const std::string& method, const std::string& path,
                                   const std::string& form);
  // Waits for the Gather result of `token` (real time, at most `wait`).
  bool WaitGathered(const std::string& token, absl::Duration wait, Gathered* out);
  void Forget(const std::string& token);
  Clock* clock() const { return clock_; }
  const TwilioOptions& options() const { return options_; }

 private:
  TwilioDialer(HttpClient* http, Clock* clock, TwilioOptions options);

  HttpClient* http_;
  Clock* clock_;
  TwilioOptions options_;
  std::string public_url_;
  std::unique_ptr<httplib::Server> server_;
  std::thread server_thread_;
  absl::Mutex mu_;
  std::map<std::string, Gathered> gathered_ ABSL_GUARDED_BY(mu_);
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_TWILIO_DIALER_H_

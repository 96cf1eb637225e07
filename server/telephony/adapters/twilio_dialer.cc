#include "server/telephony/adapters/twilio_dialer.h"

#include <httplib.h>

#include <random>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "server/common/logging.h"
#include "server/common/status_macros.h"

namespace remediator::telephony {
namespace {

// Packed text: a marker, the language (one sample), the confidence in 1/10000, the byte count,
// then one loud sample per byte, padded so that HasSpeech() sees speech in it (an empty text
// packs into empty audio, i.e. silence).
constexpr int16_t kMarker0 = 0x7A7A;
constexpr int16_t kMarker1 = 0x5454;
constexpr int kHeader = 5;
constexpr int16_t kPad = 8000;

int16_t ByteSample(unsigned char b) { return static_cast<int16_t>(1000 + b * 100); }

std::string XmlEscape(const std::string& text) {
  std::string out;
  for (char ch : text) {
    switch (ch) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out += ch;
    }
  }
  return out;
}

std::string TwilioLanguage(const std::string& language) {
  return language == "fr" ? "fr-FR" : "en-US";
}

std::string NewToken() {
  static absl::Mutex mu(absl::kConstInit);
  static std::mt19937_64 rng(std::random_device{}());
  absl::MutexLock lock(&mu);
  return absl::StrFormat("%016x%016x", rng(), rng());
}

std::string Form(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string out;
  for (const auto& [k, v] : fields) {
    if (!out.empty()) out += "&";
    absl::StrAppend(&out, UrlEncode(k), "=", UrlEncode(v));
  }
  return out;
}

// "twilio: HTTP 401 (code 20003): Authenticate" from Twilio's error JSON.
std::string ApiError(const HttpResponse& r) {
  std::string detail;
  try {
    nlohmann::json j = nlohmann::json::parse(r.body);
    if (j.is_object()) {
      if (j.contains("code") && j["code"].is_number()) {
        detail = absl::StrCat(" (code ", j["code"].get<int64_t>(), ")");
      }
      if (j.contains("message") && j["message"].is_string()) {
        absl::StrAppend(&detail, ": ", j["message"].get<std::string>());
      }
    }
  } catch (const nlohmann::json::exception&) {
  }
  return absl::StrCat("twilio: HTTP ", r.status, detail);
}

std::string JsonString(const std::string& body, const std::string& key) {
  try {
    nlohmann::json j = nlohmann::json::parse(body);
    if (j.is_object() && j.contains(key) && j[key].is_string()) return j[key].get<std::string>();
  } catch (const nlohmann::json::exception&) {
  }
  return "";
}

bool Terminal(const std::string& status) {
  return status == "completed" || status == "busy" || status == "no-answer" || status == "failed" ||
         status == "canceled";
}

class TwilioCall final : public Call {
 public:
  TwilioCall(TwilioDialer* dialer, std::string token) : dialer_(dialer), token_(std::move(token)) {}
  ~TwilioCall() override {
    Hangup();
    dialer_->Forget(token_);
  }

  CallOutcome outcome() const override { return outcome_; }
  std::string error() const override { return error_; }
  absl::Duration setup_time() const override { return setup_time_; }
  std::string recording_path() const override { return ""; }

  // Creates the call and polls until it is answered or over.
  void Start(const std::string& number, const DialOptions& options) {
    std::string text, language;
    double unused;
    if (!UnpackText(options.first_prompt, &text, &language, &unused) || text.empty()) {
      Fail("twilio: the prompt must come from TwilioSayTts (text for <Say>)");
      return;
    }
    language_ = language;
    const int ring_s = std::max<int64_t>(5, absl::ToInt64Seconds(options.ring_timeout));
    const std::string action = absl::StrCat(dialer_->webhook_url(), "/gather/", token_);
    std::string twiml = absl::StrCat(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Gather input=\"speech\" action=\"",
        XmlEscape(action), "\" method=\"POST\" actionOnEmptyResult=\"true\" language=\"",
        TwilioLanguage(language), "\" speechTimeout=\"auto\" timeout=\"8\"><Say language=\"",
        TwilioLanguage(language), "\">", XmlEscape(text), "</Say></Gather><Hangup/></Response>");
    const std::string& account = dialer_->options().account_sid;
    const absl::Time start = dialer_->clock()->Now();
    absl::StatusOr<HttpResponse> created =
        dialer_->Api("POST", absl::StrCat("/2010-04-01/Accounts/", account, "/Calls.json"),
                     Form({{"To", number},
                           {"From", dialer_->options().from},
                           {"Twiml", twiml},
                           {"Timeout", absl::StrCat(ring_s)}}));
    if (!created.ok()) return Fail(std::string(created.status().message()));
    if (created->status != 201 && created->status != 200) return Fail(ApiError(*created));
    sid_ = JsonString(created->body, "sid");
    if (sid_.empty()) return Fail("twilio: the create-call response has no sid");
    std::string status = JsonString(created->body, "status");
    const absl::Time give_up = start + options.connect_timeout + options.ring_timeout;
    while (true) {
      if (status == "in-progress" || status == "completed") {
        outcome_ = ::telephony::v1::CALL_OUTCOME_ANSWERED;
        setup_time_ = dialer_->clock()->Now() - start;
        answered_ = true;
        ended_ = status == "completed";
        return;
      }
      if (status == "busy") return End(::telephony::v1::CALL_OUTCOME_BUSY, "busy");
      if (status == "no-answer" || status == "canceled") {
        return End(::telephony::v1::CALL_OUTCOME_NO_ANSWER, absl::StrCat("twilio: ", status));
      }
      if (status == "failed") return End(::telephony::v1::CALL_OUTCOME_FAILED, "twilio: failed");
      if (dialer_->clock()->Now() >= give_up) {
        Cancel();
        return End(status == "ringing" ? ::telephony::v1::CALL_OUTCOME_NO_ANSWER
                                       : ::telephony::v1::CALL_OUTCOME_FAILED,
                   absl::StrCat("twilio: still ", status.empty() ? "unknown" : status,
                                " after the ring timeout"));
      }
      dialer_->clock()->SleepFor(dialer_->options().poll_interval);
      absl::StatusOr<std::string> polled = Poll();
      if (!polled.ok()) {
        Cancel();
        return Fail(std::string(polled.status().message()));
      }
      status = *polled;
    }
  }

  absl::StatusOr<Audio> PlayAndListen(const Audio& /*prompt*/,
                                      const ListenOptions& listen) override {
    if (!answered_) return absl::FailedPreconditionError("twilio: the call was not answered");
    if (listened_) {
      return absl::UnavailableError(
          "twilio: the call ended after the first answer (re-asking is not supported)");
    }
    listened_ = true;
    // Twilio speaks first, then listens: allow for the speech plus the listening window.
    const absl::Duration budget = listen.window + absl::Seconds(60);
    const int max_polls = static_cast<int>(budget / dialer_->options().poll_interval) + 1;
    const absl::Time deadline = dialer_->clock()->Now() + budget;
    TwilioDialer::Gathered g;
    for (int i = 0; i < max_polls; ++i) {
      if (dialer_->WaitGathered(token_, dialer_->options().poll_interval, &g)) break;
      if (dialer_->clock()->Now() >= deadline) break;
      absl::StatusOr<std::string> status = Poll();
      if (status.ok() && Terminal(*status)) {
        ended_ = true;
        // The action may race with the final status: one more look.
        dialer_->WaitGathered(token_, absl::ZeroDuration(), &g);
        break;
      }
    }
    if (!g.done) {
      return absl::UnavailableError("twilio: no answer was gathered before the call ended");
    }
    return PackText(g.speech, language_, g.confidence, dialer_->sample_rate());
  }

  void Hangup() override {
    if (sid_.empty() || ended_) return;
    ended_ = true;
    absl::StatusOr<HttpResponse> r =
        dialer_->Api("POST", CallPath(), Form({{"Status", "completed"}}));
    if (!r.ok() || r->status >= 300) {
      LogWarning("twilio: cannot end the call", {{"sid", sid_}});
    }
  }

 private:
  std::string CallPath() const {
    return absl::StrCat("/2010-04-01/Accounts/", dialer_->options().account_sid, "/Calls/", sid_,
                        ".json");
  }
  absl::StatusOr<std::string> Poll() {
    ASSIGN_OR_RETURN(HttpResponse r, dialer_->Api("GET", CallPath(), ""));
    if (r.status != 200) return absl::UnavailableError(ApiError(r));
    return JsonString(r.body, "status");
  }
  void Cancel() {
    if (sid_.empty()) return;
    dialer_->Api("POST", CallPath(), Form({{"Status", "canceled"}})).IgnoreError();
    ended_ = true;
  }
  void Fail(const std::string& error) { End(::telephony::v1::CALL_OUTCOME_FAILED, error); }
  void End(CallOutcome outcome, const std::string& error) {
    outcome_ = outcome;
    error_ = error;
    ended_ = true;
  }

  TwilioDialer* dialer_;
  std::string token_;
  std::string sid_;
  std::string language_ = "en";
  CallOutcome outcome_ = ::telephony::v1::CALL_OUTCOME_FAILED;
  std::string error_;
  absl::Duration setup_time_ = absl::ZeroDuration();
  bool answered_ = false;
  bool listened_ = false;
  bool ended_ = false;
};

}  // namespace

Audio PackText(const std::string& text, const std::string& language, double confidence,
               int sample_rate) {
  Audio audio;
  audio.sample_rate = sample_rate;
  if (text.empty()) return audio;
  audio.samples = {kMarker0, kMarker1, static_cast<int16_t>(language == "fr" ? 2 : 1),
                   static_cast<int16_t>(std::clamp(confidence, 0.0, 1.0) * 10000),
                   static_cast<int16_t>(std::min<size_t>(text.size(), 30000))};
  for (size_t i = 0; i < text.size() && i < 30000; ++i) {
    audio.samples.push_back(ByteSample(static_cast<unsigned char>(text[i])));
  }
  // At least 100 ms so that a 10 ms analysis frame is full.
  while (audio.samples.size() < static_cast<size_t>(sample_rate / 10)) {
    audio.samples.push_back(kPad);
  }
  return audio;
}

bool UnpackText(const Audio& audio, std::string* text, std::string* language, double* confidence) {
  text->clear();
  *language = "en";
  *confidence = 0;
  if (audio.samples.empty()) return true;  // silence: no words
  const auto& s = audio.samples;
  if (s.size() < kHeader || s[0] != kMarker0 || s[1] != kMarker1 || s[4] < 0 ||
      s.size() < static_cast<size_t>(kHeader + s[4])) {
    return false;
  }
  *language = s[2] == 2 ? "fr" : "en";
  *confidence = s[3] / 10000.0;
  for (int i = 0; i < s[4]; ++i) {
    int v = s[kHeader + i] - 1000;
    if (v < 0 || v % 100 != 0 || v / 100 > 255) return false;
    text->push_back(static_cast<char>(v / 100));
  }
  return true;
}

absl::StatusOr<Audio> TwilioSayTts::Synthesize(const TtsRequest& request) {
  if (request.text.empty()) return absl::InvalidArgumentError("nothing to say");
  return PackText(request.text, request.language, 1.0, 8000);
}

absl::StatusOr<SttResult> TwilioSpeechResultStt::Transcribe(const Audio& audio,
                                                            const std::string& /*language*/) {
  SttResult result;
  std::string language;
  if (!UnpackText(audio, &result.transcript, &language, &result.match_score)) {
    return absl::InvalidArgumentError(
        "with --dialer twilio the answer is transcribed by Twilio; this is not a Twilio answer");
  }
  result.transcript = absl::AsciiStrToLower(result.transcript);
  return result;
}

TwilioDialer::TwilioDialer(HttpClient* http, Clock* clock, TwilioOptions options)
    : http_(http), clock_(clock), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<TwilioDialer>> TwilioDialer::Create(HttpClient* http, Clock* clock,
                                                                   TwilioOptions options) {
  if (options.account_sid.empty())
    return absl::InvalidArgumentError("twilio: account_sid is empty");
  if (options.auth_token.empty())
    return absl::InvalidArgumentError("twilio: the auth token is empty");
  if (options.from.empty())
    return absl::InvalidArgumentError("twilio: from (the caller number) is empty");
  if (options.poll_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("twilio: poll_interval must be positive");
  }
  std::vector<std::string> hp = absl::StrSplit(options.webhook_listen, absl::MaxSplits(':', 1));
  int port = -1;
  if (hp.size() != 2 || hp[0].empty() || !absl::SimpleAtoi(hp[1], &port) || port < 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("twilio: webhook_listen \"", options.webhook_listen, "\" is not HOST:PORT"));
  }
  std::unique_ptr<TwilioDialer> d(new TwilioDialer(http, clock, std::move(options)));
  d->server_ = std::make_unique<httplib::Server>();
  // Twilio sends one request per webhook; idle keep-alive sockets would delay stop().
  d->server_->set_keep_alive_max_count(1);
  TwilioDialer* self = d.get();
  d->server_->Post(
      R"(/gather/([0-9a-f]+))", [self](const httplib::Request& req, httplib::Response& res) {
        const std::string token = req.matches[1];
        absl::MutexLock lock(&self->mu_);
        auto it = self->gathered_.find(token);
        if (it == self->gathered_.end()) {
          res.status = 404;
          return;
        }
        it->second.done = true;
        it->second.speech = req.get_param_value("SpeechResult");
        double c = 0;
        it->second.confidence = absl::SimpleAtod(req.get_param_value("Confidence"), &c) ? c : 0.0;
        res.set_content("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Hangup/></Response>",
                        "text/xml");
      });
  int bound = port == 0 ? d->server_->bind_to_any_port(hp[0])
                        : (d->server_->bind_to_port(hp[0], port) ? port : -1);
  if (bound <= 0) {
    return absl::UnavailableError(
        absl::StrCat("twilio: cannot listen for webhooks on ", d->options_.webhook_listen));
  }
  d->public_url_ = d->options_.webhook_public_url.empty()
                       ? absl::StrCat("http://", hp[0], ":", bound)
                       : d->options_.webhook_public_url;
  while (!d->public_url_.empty() && d->public_url_.back() == '/') d->public_url_.pop_back();
  d->server_thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  // stop() before the loop runs would be lost (the destructor would then hang): wait for it.
  const absl::Time ready_by = absl::Now() + absl::Seconds(5);
  while (!d->server_->is_running() && absl::Now() < ready_by) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  LogInfo("twilio webhook server",
          {{"listen", absl::StrCat(hp[0], ":", bound)}, {"public_url", d->public_url_}});
  return d;
}

TwilioDialer::~TwilioDialer() {
  if (server_) server_->stop();
  if (server_thread_.joinable()) server_thread_.join();
}

absl::StatusOr<HttpResponse> TwilioDialer::Api(const std::string& method, const std::string& path,
                                               const std::string& form) {
  HttpRequest request;
  request.method = method;
  std::string base = options_.api_url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  request.url = base + path;
  request.timeout = options_.request_timeout;
  request.headers.push_back(
      {"Authorization",
       "Basic " + absl::Base64Escape(options_.account_sid + ":" + options_.auth_token)});
  request.headers.push_back({"Accept", "application/json"});
  if (method == "POST") {
    request.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
    request.body = form;
  }
  absl::StatusOr<HttpResponse> response;
  absl::Duration backoff = absl::Seconds(1);
  for (int attempt = 1; attempt <= std::max(1, options_.max_attempts); ++attempt) {
    response = http_->Send(request);
    if (!response.ok()) return response;
    if (response->status != 429 && response->status < 500) return response;
    if (attempt == options_.max_attempts) break;
    absl::Duration wait = backoff;
    int retry_after = 0;
    if (absl::SimpleAtoi(response->Header("retry-after"), &retry_after) && retry_after > 0) {
      wait = absl::Seconds(std::min(retry_after, 30));
    }
    LogWarning("twilio: retrying", {{"status", absl::StrCat(response->status)}, {"path", path}});
    clock_->SleepFor(wait);
    backoff *= 2;
  }
  return response;
}

bool TwilioDialer::WaitGathered(const std::string& token, absl::Duration wait, Gathered* out) {
  absl::MutexLock lock(&mu_);
  auto done = [this, &token]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    auto it = gathered_.find(token);
    return it != gathered_.end() && it->second.done;
  };
  if (!mu_.AwaitWithTimeout(absl::Condition(&done), wait)) return false;
  *out = gathered_[token];
  return true;
}

void TwilioDialer::Forget(const std::string& token) {
  absl::MutexLock lock(&mu_);
  gathered_.erase(token);
}

absl::StatusOr<std::unique_ptr<Call>> TwilioDialer::Dial(const std::string& number,
                                                         const DialOptions& options) {
  std::string token = NewToken();
  {
    absl::MutexLock lock(&mu_);
    gathered_[token] = Gathered{};
  }
  auto call = std::make_unique<TwilioCall>(this, token);
  call->Start(number, options);
  return std::unique_ptr<Call>(std::move(call));
}

}  // namespace remediator::telephony

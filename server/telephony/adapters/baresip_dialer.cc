#include "server/telephony/adapters/baresip_dialer.h"

#include <stdlib.h>

#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/file_util.h"
#include "server/common/logging.h"
#include "server/common/status_macros.h"
#include "server/telephony/adapters/baresip_ctrl.h"
#include "server/telephony/adapters/free_port.h"
#include "server/telephony/adapters/subprocess.h"
#include "server/telephony/core/number.h"

namespace remediator::telephony {
namespace {

using ::telephony::v1::CALL_OUTCOME_ANSWERED;
using ::telephony::v1::CALL_OUTCOME_BUSY;
using ::telephony::v1::CALL_OUTCOME_FAILED;
using ::telephony::v1::CALL_OUTCOME_NO_ANSWER;

// Extra silence after each prompt's listening window, so baresip (which hangs up when its source
// file ends) does not end the call while we decide.
constexpr absl::Duration kSourceGuard = absl::Seconds(4);
constexpr absl::Duration kPoll = absl::Milliseconds(50);

CallOutcome OutcomeOfCloseReason(const std::string& reason) {
  if (absl::StrContains(reason, "486") || absl::StrContains(reason, "600") ||
      absl::StrContains(absl::AsciiStrToLower(reason), "busy")) {
    return CALL_OUTCOME_BUSY;
  }
  if (absl::StrContains(reason, "480") || absl::StrContains(reason, "408") ||
      absl::StrContains(reason, "487") || absl::StrContains(reason, "603")) {
    return CALL_OUTCOME_NO_ANSWER;
  }
  return CALL_OUTCOME_FAILED;
}

std::string LogTail(const std::string& path) {
  absl::StatusOr<std::string> log = ReadFile(path);
  if (!log.ok()) return "";
  std::string tail = log->size() > 600 ? log->substr(log->size() - 600) : *log;
  for (char& c : tail) {
    if (c == '\n' || c == '\r' || c == '\x1b') c = ' ';
  }
  return tail;
}

class BaresipCall final : public Call {
 public:
  BaresipCall(std::string dir, bool keep_dir) : dir_(std::move(dir)), keep_dir_(keep_dir) {}
  ~BaresipCall() override {
    Hangup();
    if (!keep_dir_) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
    }
  }

  absl::Status Start(const BaresipOptions& options, const std::string& uri,
                     const DialOptions& dial);

  CallOutcome outcome() const override { return outcome_; }
  std::string error() const override { return error_; }
  absl::Duration setup_time() const override { return setup_; }
  absl::StatusOr<Audio> PlayAndListen(const Audio& prompt, const ListenOptions& listen) override;
  void Hangup() override;
  std::string recording_path() const override { return keep_dir_ ? FindRecording() : ""; }

 private:
  // Reads events for up to `timeout`; records CALL_CLOSED. False when baresip went away.
  bool Pump(absl::Duration timeout);
  std::string FindRecording() const;
  Audio ReadRecording() const;
  absl::Status WritePrompt(const std::string& path, const Audio& prompt,
                           absl::Duration window) const;

  std::string dir_;
  bool keep_dir_;
  std::unique_ptr<Subprocess> process_;
  std::unique_ptr<BaresipCtrl> ctrl_;
  CallOutcome outcome_ = CALL_OUTCOME_FAILED;
  std::string error_;
  absl::Duration setup_ = absl::ZeroDuration();
  bool established_ = false;
  bool ringing_ = false;
  bool closed_ = false;
  bool hung_up_ = false;
  std::string close_reason_;
  int prompts_played_ = 0;
  size_t first_prompt_samples_ = 0;
  absl::Time established_at_;
};

absl::Status BaresipCall::WritePrompt(const std::string& path, const Audio& prompt,
                                      absl::Duration window) const {
  Audio source = prompt;
  AppendSilence(source, window + kSourceGuard);
  return WriteFileAtomically(path, EncodeWav(source));
}

bool BaresipCall::Pump(absl::Duration timeout) {
  // Waits up to `timeout` for the first message, then drains what is already there.
  absl::Duration wait = timeout;
  while (true) {
    auto event = ctrl_->Next(wait);
    if (!event.ok()) {
      if (!closed_) {
        closed_ = true;
        close_reason_ = std::string(event.status().message());
      }
      return false;
    }
    if (!event->has_value()) return true;
    wait = absl::ZeroDuration();
    const BaresipEvent& e = **event;
    if (e.type == "CALL_RINGING" || e.type == "CALL_PROGRESS") ringing_ = true;
    if (e.type == "CALL_ESTABLISHED") established_ = true;
    if (e.type == "CALL_CLOSED") {
      closed_ = true;
      close_reason_ = e.param;
    }
    if (e.type == "RESPONSE" && !e.ok && e.token == "dial") {
      closed_ = true;
      close_reason_ = absl::StrCat("baresip refused to dial: ", e.param);
    }
  }
}

absl::Status BaresipCall::Start(const BaresipOptions& options, const std::string& uri,
                                const DialOptions& dial) {
  const std::string& ip = options.local_ip;
  ASSIGN_OR_RETURN(int sip_port, PickFreeSipPort(ip));
  ASSIGN_OR_RETURN(int ctrl_port, PickFreeTcpPort("127.0.0.1"));
  ASSIGN_OR_RETURN(int rtp_port, PickFreeUdpRange(ip, 10));
  RETURN_IF_ERROR(MakeDirectories(dir_ + "/rec"));
  const std::string prompt_path = dir_ + "/prompt-1.wav";
  // The listening window of the first prompt is decided in PlayAndListen; give the source
  // enough silence for a generous window.
  RETURN_IF_ERROR(WritePrompt(prompt_path, dial.first_prompt, absl::Seconds(30)));
  first_prompt_samples_ = dial.first_prompt.samples.size();

  std::string config = absl::StrCat(
      "poll_method epoll\n", "sip_listen ", ip, ":", sip_port, "\n", "net_interface ", ip, "\n",
      "call_local_timeout 120\n", "call_max_calls 1\n", "audio_player aubridge,nil\n",
      "audio_source aufile,", prompt_path, "\n", "audio_alert aubridge,nil\n",
      "ausrc_srate 8000\nauplay_srate 8000\nausrc_channels 1\nauplay_channels 1\n",
      "audio_buffer 20-160\n", "rtcp_mux no\n", "rtp_ports ", rtp_port, "-", rtp_port + 9, "\n",
      "jitter_buffer_delay 5-10\n", "module_path ", options.module_path, "\n",
      "module g711.so\nmodule aufile.so\nmodule aubridge.so\nmodule sndfile.so\n",
      "module_tmp account.so\n", "module_app menu.so\nmodule_app ctrl_tcp.so\n",
      "ctrl_tcp_listen 127.0.0.1:", ctrl_port, "\n", "snd_path ", dir_, "/rec\n",
      "statmode_default off\n", "ringback_disabled yes\n");
  std::string account;
  if (options.trunk_host.empty()) {
    account = absl::StrCat("<sip:", options.user, "@", ip, ":", sip_port,
                           ">;regint=0;audio_codecs=", options.codecs, "\n");
  } else {
    account = absl::StrCat("<sip:", options.user, "@", options.trunk_host, ">");
    if (!options.auth_user.empty()) absl::StrAppend(&account, ";auth_user=", options.auth_user);
    if (!options.auth_pass.empty()) absl::StrAppend(&account, ";auth_pass=", options.auth_pass);
    if (!options.outbound_proxy.empty()) {
      absl::StrAppend(&account, ";outbound=\"", options.outbound_proxy, "\"");
    }
    absl::StrAppend(&account, ";regint=0;audio_codecs=", options.codecs, "\n");
  }
  RETURN_IF_ERROR(WriteFileAtomically(dir_ + "/config", config));
  RETURN_IF_ERROR(WriteFileAtomically(dir_ + "/accounts", account));
  RETURN_IF_ERROR(WriteFileAtomically(dir_ + "/contacts", ""));

  const std::string log_path = dir_ + "/baresip.log";
  ASSIGN_OR_RETURN(process_, Subprocess::Start({options.binary, "-f", dir_}, log_path));
  auto ctrl = BaresipCtrl::Connect(ctrl_port, absl::Seconds(3));
  if (!ctrl.ok()) {
    return absl::UnavailableError(absl::StrCat("baresip did not start: ", ctrl.status().message(),
                                               "; log: ", LogTail(log_path)));
  }
  ctrl_ = *std::move(ctrl);

  const absl::Time dialed = absl::Now();
  RETURN_IF_ERROR(ctrl_->Send("dial", uri, "dial"));
  while (!established_ && !closed_) {
    absl::Time now = absl::Now();
    if (!ringing_ && now - dialed >= dial.connect_timeout) {
      outcome_ = CALL_OUTCOME_FAILED;
      error_ = absl::StrCat("no response from ", uri, " within ",
                            absl::FormatDuration(dial.connect_timeout), " (unreachable?)");
      Hangup();
      return absl::OkStatus();
    }
    if (now - dialed >= dial.ring_timeout) {
      outcome_ = CALL_OUTCOME_NO_ANSWER;
      error_ = absl::StrCat("no answer from ", uri, " after ringing ",
                            absl::FormatDuration(dial.ring_timeout));
      Hangup();
      return absl::OkStatus();
    }
    Pump(kPoll);
  }
  if (established_) {
    established_at_ = absl::Now();
    outcome_ = CALL_OUTCOME_ANSWERED;
    setup_ = absl::Now() - dialed;
    // The call may be closed already (a callee that hangs up at once); PlayAndListen says so.
    return absl::OkStatus();
  }
  outcome_ = OutcomeOfCloseReason(close_reason_);
  error_ = absl::StrCat("call to ", uri, " ended before it was answered: ",
                        close_reason_.empty() ? "no reason given" : close_reason_);
  Hangup();
  return absl::OkStatus();
}

std::string BaresipCall::FindRecording() const {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_ + "/rec", ec)) {
    std::string name = entry.path().filename().string();
    if (absl::EndsWith(name, "-dec.wav")) return entry.path().string();
  }
  return "";
}

Audio BaresipCall::ReadRecording() const {
  Audio empty{8000, {}};
  std::string path = FindRecording();
  if (path.empty()) return empty;
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return empty;
  absl::StatusOr<Audio> audio = DecodeWav(*bytes);
  if (!audio.ok()) return empty;
  return Resample(*audio, 8000);
}

absl::StatusOr<Audio> BaresipCall::PlayAndListen(const Audio& prompt, const ListenOptions& listen) {
  if (outcome_ != CALL_OUTCOME_ANSWERED || hung_up_) {
    return absl::FailedPreconditionError("the call is not in progress");
  }
  size_t prompt_start = 0;
  size_t prompt_samples = first_prompt_samples_;
  if (prompts_played_ > 0) {
    if (closed_) return absl::UnavailableError("the callee hung up: " + close_reason_);
    std::string path = absl::StrCat(dir_, "/prompt-", prompts_played_ + 1, ".wav");
    RETURN_IF_ERROR(WritePrompt(path, prompt, listen.window));
    prompt_start = ReadRecording().samples.size();
    prompt_samples = prompt.samples.size();
    RETURN_IF_ERROR(ctrl_->Send("ausrc", absl::StrCat("aufile,", path), "ausrc"));
  }
  ++prompts_played_;
  const size_t rate = 8000;
  const size_t listen_start = prompt_start + prompt_samples;
  const size_t listen_end =
      listen_start + static_cast<size_t>(absl::ToDoubleSeconds(listen.window) * rate);
  // Part of the answer may overlap the end of the prompt.
  const size_t answer_from = std::max(prompt_start, listen_start > rate ? listen_start - rate : 0);
  const absl::Time wall_deadline =
      absl::Now() + absl::Seconds(double(listen_end - prompt_start) / rate) + absl::Seconds(5);
  Audio recording;
  while (true) {
    Pump(kPoll);
    recording = ReadRecording();
    size_t now = recording.samples.size();
    if (closed_ || now >= listen_end || absl::Now() >= wall_deadline) break;
    if (now > listen_start) {
      absl::Duration from = absl::Seconds(double(answer_from) / rate);
      absl::Duration end = LastSpeechEnd(recording, from);
      absl::Duration at = absl::Seconds(double(now) / rate);
      if (end > absl::ZeroDuration() && at - end >= listen.end_silence) break;
    }
  }
  LogInfo("listened", {{"prompt", absl::StrCat(prompts_played_)},
                       {"recorded_s", absl::StrCat(double(recording.samples.size()) / rate)},
                       {"since_established_s",
                        absl::StrCat(absl::ToDoubleSeconds(absl::Now() - established_at_))},
                       {"closed", closed_ ? close_reason_ : "no"}});
  Audio answer{8000, {}};
  if (recording.samples.size() > answer_from) {
    answer.samples.assign(recording.samples.begin() + static_cast<long>(answer_from),
                          recording.samples.end());
  }
  if (closed_ && !HasSpeech(answer)) {
    return absl::UnavailableError(
        absl::StrCat("the callee hung up before answering",
                     close_reason_.empty() ? "" : absl::StrCat(" (", close_reason_, ")")));
  }
  return answer;
}

void BaresipCall::Hangup() {
  if (hung_up_) return;
  hung_up_ = true;
  if (ctrl_ != nullptr) {
    if (!closed_ && (established_ || ringing_ || outcome_ != CALL_OUTCOME_ANSWERED)) {
      if (ctrl_->Send("hangup", "", "hangup").ok()) {
        absl::Time deadline = absl::Now() + absl::Seconds(1);
        while (!closed_ && absl::Now() < deadline) {
          if (!Pump(kPoll)) break;
        }
      }
    }
    (void)ctrl_->Send("quit", "", "quit");
  }
  if (process_ != nullptr) {
    if (!process_->WaitFor(absl::Seconds(1))) process_->Stop(absl::Milliseconds(300));
  }
  ctrl_.reset();
}

}  // namespace

absl::StatusOr<std::string> BaresipDialer::DialUri(const std::string& number) const {
  RETURN_IF_ERROR(ValidateNumber(number));
  if (IsSipUri(number)) return number;
  if (options_.trunk_host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot dial the phone number ", number,
                     " over SIP without a trunk; configure sip.trunk_host or dial a sip: URI"));
  }
  return absl::StrCat("sip:", number, "@", options_.trunk_host);
}

absl::StatusOr<std::unique_ptr<Call>> BaresipDialer::Dial(const std::string& number,
                                                          const DialOptions& options) {
  ASSIGN_OR_RETURN(std::string uri, DialUri(number));
  if (options.first_prompt.sample_rate != 8000) {
    return absl::InvalidArgumentError("the prompt must be 8000 Hz for the SIP dialer");
  }
  RETURN_IF_ERROR(MakeDirectories(options_.work_dir));
  std::string tmpl = options_.work_dir + "/call-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    return ErrnoToStatus(errno, "create call directory under " + options_.work_dir);
  }
  auto call = std::make_unique<BaresipCall>(tmpl, options_.keep_call_dirs);
  absl::Status started = call->Start(options_, uri, options);
  if (!started.ok()) return started;
  LogInfo("sip call set up", {{"uri", uri},
                              {"outcome", ::telephony::v1::CallOutcome_Name(call->outcome())},
                              {"setup", absl::FormatDuration(call->setup_time())}});
  return call;
}

}  // namespace remediator::telephony

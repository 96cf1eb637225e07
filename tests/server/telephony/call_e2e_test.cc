// End to end: the real call flow (espeak-ng, baresip, pocketsphinx, CSV log) calling a real
// baresip callee that auto-answers and plays a spoken answer. Runs in a private network
// namespace (unshare -n, only `lo`) when the process may create one, else on 127.0.0.1 with
// every socket bound there.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/common/file_util.h"
#include "server/common/time_util.h"
#include "server/telephony/adapters/baresip_ctrl.h"
#include "server/telephony/adapters/baresip_dialer.h"
#include "server/telephony/adapters/csv_call_log.h"
#include "server/telephony/adapters/espeak_tts.h"
#include "server/telephony/adapters/free_port.h"
#include "server/telephony/adapters/pocketsphinx_stt.h"
#include "server/telephony/adapters/subprocess.h"
#include "server/telephony/core/call_flow.h"
#include "tests/server/telephony/test_util.h"
#include "tests/testing/status_matchers.h"

#ifndef POCKETSPHINX_MODELDIR
#define POCKETSPHINX_MODELDIR "/usr/share/pocketsphinx/model"
#endif

namespace remediator::telephony {
namespace {

using ::remediator::testing::IsOk;
using ::telephony::v1::CALL_OUTCOME_ANSWERED;
using ::telephony::v1::CALL_OUTCOME_FAILED;
using ::telephony::v1::DECISION_NO;
using ::telephony::v1::DECISION_UNCLEAR;
using ::telephony::v1::DECISION_YES;

// Moves this process (and so every child it starts) into a new network namespace with `lo` up.
bool EnterPrivateNetwork() {
  if (::unshare(CLONE_NEWNET) != 0) return false;
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  ::close(fd);
  return ok;
}

const char kMessage[] =
    "This is a test call from Remediator. Can you intervene? Please answer yes or no.";

// A baresip "on-call engineer" that answers at once and plays `answer` (8 kHz).
class Callee {
 public:
  static std::unique_ptr<Callee> Start(const std::string& dir, const Audio& answer) {
    auto callee = std::unique_ptr<Callee>(new Callee());
    callee->dir_ = dir;
    auto port = PickFreeSipPort("127.0.0.1");
    auto ctrl_port = PickFreeTcpPort("127.0.0.1");
    auto rtp = PickFreeUdpRange("127.0.0.1", 10);
    EXPECT_THAT(port, IsOk());
    EXPECT_THAT(ctrl_port, IsOk());
    EXPECT_THAT(rtp, IsOk());
    if (!port.ok() || !ctrl_port.ok() || !rtp.ok()) return nullptr;
    callee->port_ = *port;
    std::filesystem::create_directories(dir + "/rec");
    EXPECT_THAT(WriteFileAtomically(dir + "/answer.wav", EncodeWav(answer)), IsOk());
    std::string config = absl::StrCat(
        "poll_method epoll\nsip_listen 127.0.0.1:", *port, "\nnet_interface 127.0.0.1\n",
        "call_max_calls 4\naudio_player aubridge,nil\naudio_source aufile,", dir,
        "/answer.wav\naudio_alert aubridge,nil\nausrc_srate 8000\nauplay_srate 8000\n",
        "ausrc_channels 1\nauplay_channels 1\naudio_buffer 20-160\nrtcp_mux no\nrtp_ports ", *rtp,
        "-", *rtp + 9, "\njitter_buffer_delay 5-10\nmodule_path /usr/lib/baresip/modules\n",
        "module g711.so\nmodule aufile.so\nmodule aubridge.so\nmodule sndfile.so\n",
        "module_tmp account.so\nmodule_app menu.so\nmodule_app ctrl_tcp.so\n",
        "ctrl_tcp_listen 127.0.0.1:", *ctrl_port, "\nsnd_path ", dir, "/rec\n",
        "statmode_default off\nringback_disabled yes\n");
    EXPECT_THAT(WriteFileAtomically(dir + "/config", config), IsOk());
    EXPECT_THAT(WriteFileAtomically(dir + "/accounts",
                                    absl::StrCat("<sip:oncall@127.0.0.1:", *port,
                                                 ">;regint=0;answermode=auto;audio_codecs=PCMU\n")),
                IsOk());
    auto process = Subprocess::Start({"baresip", "-f", dir}, dir + "/baresip.log");
    EXPECT_THAT(process, IsOk());
    if (!process.ok()) return nullptr;
    callee->process_ = *std::move(process);
    // Ready when its control port accepts.
    auto ctrl = BaresipCtrl::Connect(*ctrl_port, absl::Seconds(5));
    EXPECT_THAT(ctrl, IsOk());
    if (!ctrl.ok()) return nullptr;
    callee->ctrl_ = *std::move(ctrl);
    return callee;
  }
  std::string uri() const { return absl::StrCat("sip:oncall@127.0.0.1:", port_); }
  // Calls the callee received (one recording per call).
  int calls_received() const {
    int n = 0;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(dir_ + "/rec", ec)) {
      n += absl::EndsWith(e.path().string(), "-dec.wav") ? 1 : 0;
    }
    return n;
  }
  ~Callee() {
    if (ctrl_) (void)ctrl_->Send("quit", "", "q");
    if (process_ && !process_->WaitFor(absl::Seconds(1))) process_->Stop();
  }

 private:
  Callee() = default;
  std::string dir_;
  int port_ = 0;
  std::unique_ptr<Subprocess> process_;
  std::unique_ptr<BaresipCtrl> ctrl_;
};

class CallE2eTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    private_network_ = EnterPrivateNetwork();
    std::printf("network: %s\n",
                private_network_ ? "private namespace (lo only)" : "host loopback 127.0.0.1");
  }

  void SetUp() override {
    auto stt = PocketsphinxStt::Create(POCKETSPHINX_MODELDIR, dir_.path() + "/ps");
    ASSERT_THAT(stt, IsOk());
    stt_ = *std::move(stt);
    auto log = CsvCallLog::Open(dir_.path() + "/calls.csv");
    ASSERT_THAT(log, IsOk());
    log_ = *std::move(log);
    BaresipOptions options;
    options.work_dir = dir_.path() + "/calls";
    dialer_ = std::make_unique<BaresipDialer>(options);
    CallFlowOptions flow;
    flow.connect_timeout = absl::Seconds(3);
    flow.ring_timeout = absl::Seconds(10);
    flow.listen.window = absl::Seconds(5);
    flow.listen.end_silence = absl::Milliseconds(1000);
    flow_ = std::make_unique<CallFlow>(&drafter_, &tts_, stt_.get(), dialer_.get(), log_.get(),
                                       &RealClock::Get(), flow);
  }

  Audio Say(const std::string& text) {
    TtsRequest r;
    r.text = text;
    auto audio = tts_.Synthesize(r);
    EXPECT_THAT(audio, IsOk());
    return Resample(audio.ok() ? *audio : Audio{22050, {}}, 8000);
  }

  // Silence while our prompt plays (+0.7 s), the spoken answer, then `tail` of silence.
  Audio AnswerAfterPrompt(const std::string& answer, absl::Duration tail = absl::Seconds(3)) {
    Audio out{8000, {}};
    AppendSilence(out, Say(kMessage).duration() + absl::Milliseconds(700));
    if (!answer.empty()) {
      Audio spoken = Say(answer);
      out.samples.insert(out.samples.end(), spoken.samples.begin(), spoken.samples.end());
    }
    AppendSilence(out, tail);
    return out;
  }

  ::telephony::v1::PlaceCallRequest Request(const std::string& uri) {
    ::telephony::v1::PlaceCallRequest request;
    request.set_number(uri);
    request.set_message(kMessage);
    request.mutable_incident()->set_incident_id("inc-42");
    return request;
  }

  static bool private_network_;
  TempDir dir_;
  TemplateSpeechDrafter drafter_;
  EspeakTts tts_;
  std::unique_ptr<PocketsphinxStt> stt_;
  std::unique_ptr<CsvCallLog> log_;
  std::unique_ptr<BaresipDialer> dialer_;
  std::unique_ptr<CallFlow> flow_;
};

bool CallE2eTest::private_network_ = false;

TEST_F(CallE2eTest, YesAnswerIsRecordedAndARetryDoesNotRingAgain) {
  auto callee = Callee::Start(dir_.path() + "/callee", AnswerAfterPrompt("yes I can come"));
  ASSERT_NE(callee, nullptr);
  auto request = Request(callee->uri());
  request.set_idempotency_key("incident-42-attempt-1");
  absl::Time before = absl::Now();
  auto record = flow_->PlaceCall(request);
  absl::Time after = absl::Now();
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), CALL_OUTCOME_ANSWERED) << record->error();
  EXPECT_EQ(record->decision(), DECISION_YES) << record->transcript();
  EXPECT_TRUE(record->can_intervene());
  EXPECT_THAT(record->transcript(), ::testing::ContainsRegex("^(yes|yeah|yep) i can"));
  EXPECT_EQ(record->attempts(), 1);

  // The CSV row, read back.
  auto rows = log_->List(CallFilter{});
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 1u);
  const CallRecord& row = (*rows)[0];
  EXPECT_EQ(row.number(), callee->uri());
  EXPECT_EQ(row.speech(), kMessage);
  EXPECT_TRUE(row.can_intervene());
  EXPECT_EQ(row.incident_id(), "inc-42");
  absl::Time t = FromProtoTime(row.call_time());
  EXPECT_GE(t, before - absl::Milliseconds(1));
  EXPECT_LE(t, after);
  auto csv = log_->ReadCsv();
  ASSERT_THAT(csv, IsOk());
  EXPECT_THAT(*csv, ::testing::HasSubstr(",true,inc-42,"));

  // The retry returns the first record and the callee is not called again.
  auto retry = flow_->PlaceCall(request);
  ASSERT_THAT(retry, IsOk());
  EXPECT_EQ(retry->call_id(), record->call_id());
  EXPECT_EQ(callee->calls_received(), 1);
  auto rows_after = log_->List(CallFilter{});
  ASSERT_THAT(rows_after, IsOk());
  EXPECT_EQ(rows_after->size(), 1u);
}

TEST_F(CallE2eTest, NoAnswerIsRecordedAsCannotIntervene) {
  auto callee = Callee::Start(dir_.path() + "/callee", AnswerAfterPrompt("no I cannot"));
  ASSERT_NE(callee, nullptr);
  auto record = flow_->PlaceCall(Request(callee->uri()));
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), CALL_OUTCOME_ANSWERED) << record->error();
  EXPECT_EQ(record->decision(), DECISION_NO) << record->transcript();
  EXPECT_FALSE(record->can_intervene());
  auto csv = log_->ReadCsv();
  ASSERT_THAT(csv, IsOk());
  EXPECT_THAT(*csv, ::testing::HasSubstr(",false,inc-42,"));
}

TEST_F(CallE2eTest, SilenceIsUnclearAfterAskingTwice) {
  auto callee = Callee::Start(dir_.path() + "/callee", AnswerAfterPrompt("", absl::Seconds(40)));
  ASSERT_NE(callee, nullptr);
  absl::Time start = absl::Now();
  auto record = flow_->PlaceCall(Request(callee->uri()));
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), CALL_OUTCOME_ANSWERED) << record->error();
  EXPECT_EQ(record->decision(), DECISION_UNCLEAR);
  EXPECT_FALSE(record->can_intervene());
  EXPECT_EQ(record->attempts(), 2);
  EXPECT_LT(absl::Now() - start, absl::Seconds(30));
}

TEST_F(CallE2eTest, CalleeNotRunningFailsQuickly) {
  auto port = PickFreeSipPort("127.0.0.1");
  ASSERT_THAT(port, IsOk());
  absl::Time start = absl::Now();
  auto record = flow_->PlaceCall(Request(absl::StrCat("sip:nobody@127.0.0.1:", *port)));
  ASSERT_THAT(record, IsOk());
  EXPECT_EQ(record->outcome(), CALL_OUTCOME_FAILED);
  EXPECT_FALSE(record->can_intervene());
  EXPECT_FALSE(record->error().empty());
  EXPECT_LT(absl::Now() - start, absl::Seconds(8));
  auto rows = log_->List(CallFilter{});
  ASSERT_THAT(rows, IsOk());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].outcome(), CALL_OUTCOME_FAILED);
}

}  // namespace
}  // namespace remediator::telephony

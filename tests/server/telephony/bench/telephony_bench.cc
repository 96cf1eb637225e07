// Benchmarks of the telephony server's hot paths:
//   - TTS: seconds of audio produced per CPU-second by espeak-ng in-process (+ resampling);
//   - decision latency: pocketsphinx (grammar + verification pass) + yes/no rule per answer;
//   - call setup on loopback: dial -> CALL_ESTABLISHED against a live baresip callee, and the
//     whole Dial() including starting our baresip;
//   - one CSV call-log append (flock + write + fsync).
// Run: telephony_bench [--benchmark_filter=...]
#include <benchmark/benchmark.h>

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
#include "server/telephony/core/speech_drafter.h"
#include "tests/server/telephony/test_util.h"

#ifndef POCKETSPHINX_MODELDIR
#define POCKETSPHINX_MODELDIR "/usr/share/pocketsphinx/model"
#endif

namespace remediator::telephony {
namespace {

std::string DraftedText() {
  IncidentSummary i;
  i.set_incident_id("inc-7");
  i.set_namespace_("shop");
  i.set_workload_kind("Deployment");
  i.set_workload_name("nginx");
  i.set_error_class("oom_killed");
  i.set_summary("nginx was killed for using more memory than its limit");
  i.set_what_was_tried("raised the memory limit from 4Mi to 32Mi");
  i.set_why_it_failed("the pod was killed again within a minute");
  TemplateSpeechDrafter drafter;
  return drafter.Draft(i, "en")->text;
}

void BM_EspeakSynthesize(benchmark::State& state) {
  EspeakTts tts;
  TtsRequest request;
  request.text = DraftedText();
  double audio_seconds = 0;
  for (auto _ : state) {
    auto audio = tts.Synthesize(request);
    if (!audio.ok()) {
      state.SkipWithError(std::string(audio.status().message()).c_str());
      return;
    }
    audio_seconds += absl::ToDoubleSeconds(audio->duration());
    if (state.range(0) != 0) benchmark::DoNotOptimize(Resample(*audio, 8000));
  }
  // Rate counters divide by CPU time: seconds of speech per CPU-second (x real time).
  state.counters["audio_s_per_cpu_s"] =
      benchmark::Counter(audio_seconds, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_EspeakSynthesize)
    ->Arg(0)
    ->Arg(1)
    ->ArgName("resample_8k")
    ->Unit(benchmark::kMillisecond);

void BM_Resample22kTo8k(benchmark::State& state) {
  Audio audio{22050, std::vector<int16_t>(22050 * 30)};
  for (size_t i = 0; i < audio.samples.size(); ++i) audio.samples[i] = int16_t((i * 37) % 2000);
  for (auto _ : state) benchmark::DoNotOptimize(Resample(audio, 8000));
  state.counters["audio_s_per_cpu_s"] =
      benchmark::Counter(30.0 * state.iterations(), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_Resample22kTo8k)->Unit(benchmark::kMillisecond);

void BM_DecisionLatency(benchmark::State& state) {
  TempDir dir;
  auto stt = PocketsphinxStt::Create(POCKETSPHINX_MODELDIR, dir.path() + "/ps");
  if (!stt.ok()) {
    state.SkipWithError(std::string(stt.status().message()).c_str());
    return;
  }
  EspeakTts tts;
  TtsRequest request;
  request.text = state.range(0) == 0 ? "yes I can come" : "no I cannot, I am busy";
  Audio answer = Resample(*tts.Synthesize(request), 8000);
  Audio padded{8000, std::vector<int16_t>(8000, 0)};
  padded.samples.insert(padded.samples.end(), answer.samples.begin(), answer.samples.end());
  AppendSilence(padded, absl::Seconds(1));
  for (auto _ : state) {
    auto heard = HearAnswer(**stt, padded, "en");
    benchmark::DoNotOptimize(heard);
  }
}
BENCHMARK(BM_DecisionLatency)->Arg(0)->Arg(1)->ArgName("no")->Unit(benchmark::kMillisecond);

void BM_CsvAppend(benchmark::State& state) {
  TempDir dir;
  auto log = CsvCallLog::Open(dir.path() + "/calls.csv");
  CallRecord r;
  *r.mutable_call_time() = ToProtoTime(absl::Now());
  r.set_number("+33612345678");
  r.set_speech(DraftedText());
  r.set_call_id("c1");
  for (auto _ : state) benchmark::DoNotOptimize((*log)->Append(r));
}
BENCHMARK(BM_CsvAppend)->Unit(benchmark::kMicrosecond);

// Manual time = dial command -> CALL_ESTABLISHED; the "dial_total_ms" counter includes starting
// and connecting to our baresip.
void BM_CallSetupLoopback(benchmark::State& state) {
  TempDir dir;
  auto port = PickFreeSipPort("127.0.0.1");
  auto ctrl_port = PickFreeTcpPort("127.0.0.1");
  auto rtp = PickFreeUdpRange("127.0.0.1", 10);
  std::string cdir = dir.path() + "/callee";
  (void)MakeDirectories(cdir + "/rec");
  (void)WriteFileAtomically(cdir + "/answer.wav",
                            EncodeWav(Audio{8000, std::vector<int16_t>(8000 * 30, 0)}));
  (void)WriteFileAtomically(
      cdir + "/config",
      absl::StrCat("sip_listen 127.0.0.1:", *port, "\nnet_interface 127.0.0.1\n",
                   "call_max_calls 4\naudio_player aubridge,nil\naudio_source aufile,", cdir,
                   "/answer.wav\naudio_alert aubridge,nil\nausrc_srate 8000\nauplay_srate 8000\n",
                   "ausrc_channels 1\nauplay_channels 1\nrtcp_mux no\nrtp_ports ", *rtp, "-",
                   *rtp + 9, "\nmodule_path /usr/lib/baresip/modules\nmodule g711.so\n",
                   "module aufile.so\nmodule aubridge.so\nmodule_tmp account.so\n",
                   "module_app menu.so\nmodule_app ctrl_tcp.so\nctrl_tcp_listen 127.0.0.1:",
                   *ctrl_port, "\n"));
  (void)WriteFileAtomically(cdir + "/accounts",
                            absl::StrCat("<sip:oncall@127.0.0.1:", *port,
                                         ">;regint=0;answermode=auto;audio_codecs=PCMU\n"));
  auto callee = Subprocess::Start({"baresip", "-f", cdir}, cdir + "/log");
  if (!callee.ok() || !BaresipCtrl::Connect(*ctrl_port, absl::Seconds(5)).ok()) {
    state.SkipWithError("callee baresip did not start");
    return;
  }
  BaresipOptions options;
  options.work_dir = dir.path() + "/calls";
  BaresipDialer dialer(options);
  DialOptions dial;
  dial.first_prompt = Audio{8000, std::vector<int16_t>(8000, 0)};
  dial.connect_timeout = absl::Seconds(3);
  double total_ms = 0;
  for (auto _ : state) {
    absl::Time start = absl::Now();
    auto call = dialer.Dial(absl::StrCat("sip:oncall@127.0.0.1:", *port), dial);
    total_ms += absl::ToDoubleMilliseconds(absl::Now() - start);
    if (!call.ok() || (*call)->outcome() != ::telephony::v1::CALL_OUTCOME_ANSWERED) {
      state.SkipWithError("call not answered");
      return;
    }
    state.SetIterationTime(absl::ToDoubleSeconds((*call)->setup_time()));
    (*call)->Hangup();
  }
  state.counters["dial_total_ms"] = total_ms / static_cast<double>(state.iterations());
  (*callee)->Stop();
}
BENCHMARK(BM_CallSetupLoopback)->UseManualTime()->Iterations(5)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace remediator::telephony

BENCHMARK_MAIN();

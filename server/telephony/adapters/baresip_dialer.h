// BaresipDialer: places SIP calls by driving one baresip subprocess per call over ctrl_tcp.
//
// Per call it creates a private directory with a generated `config` and `accounts`:
//   - SIP and RTP bound to `local_ip` (127.0.0.1 by default) on free ports, ctrl_tcp on a free
//     loopback port, G.711 only;
//   - audio source `aufile` = the first prompt followed by the listening window (baresip hangs up
//     when the source file ends), player `aubridge,nil` (a quiet null sink), and `sndfile`
//     recording what the callee says into rec/dump-*-dec.wav, read while the call runs;
//   - account `regint=0` (no registration) for direct dialing, or the trunk's AOR with
//     `auth_pass` and `outbound` when a trunk is configured.
// The dialer applies its own timeouts (connect, ring) so that an unreachable callee fails in
// seconds instead of SIP timer B's 32 s. A second prompt is played by switching the audio source
// (`ausrc aufile,...`). The subprocess is always killed and reaped, and the directory removed
// (unless keep_call_dirs).
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_BARESIP_DIALER_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_BARESIP_DIALER_H_

#include <string>

#include "server/telephony/core/dialer.h"

namespace remediator::telephony {

struct BaresipOptions {
  std::string binary = "baresip";
  std::string module_path = "/usr/lib/baresip/modules";
  // Per-call directories are created under it (e.g. STATE_DIR/calls).
  std::string work_dir = "/tmp";
  // The address SIP and RTP bind to and advertise.
  std::string local_ip = "127.0.0.1";
  // Our SIP user name (the AOR is sip:USER@local_ip:port for direct dialing).
  std::string user = "remediator";
  // A SIP trunk: when `trunk_host` is set ("sip.example.com" or "127.0.0.1:5062"), the account is
  // sip:USER@trunk_host with auth_pass, and E.164 numbers are dialed as sip:+NUMBER@trunk_host.
  std::string trunk_host;
  std::string auth_user;  // empty: `user`
  std::string auth_pass;
  std::string outbound_proxy;  // e.g. "sip:proxy.example.com;transport=tcp"
  std::string codecs = "PCMU,PCMA";
  // Keep the per-call directory (config, baresip.log, recording) after the call.
  bool keep_call_dirs = false;
};

class BaresipDialer final : public Dialer {
 public:
  explicit BaresipDialer(BaresipOptions options) : options_(std::move(options)) {}

  // InvalidArgument for an E.164 number when no trunk is configured (a phone number needs a
  // trunk), Unavailable when baresip cannot be started.
  absl::StatusOr<std::unique_ptr<Call>> Dial(const std::string& number,
                                             const DialOptions& options) override;
  int sample_rate() const override { return 8000; }
  std::string name() const override { return "sip"; }

  // The SIP URI dialed for `number` (exposed for tests).
  absl::StatusOr<std::string> DialUri(const std::string& number) const;

 private:
  BaresipOptions options_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_BARESIP_DIALER_H_

// WebConsole: the remediator's read-only web console (--http-listen). Server-rendered HTML with
// inline CSS and no script or external asset, so it works offline and under a strict CSP:
//   /                      incidents, filtered by state, class and namespace (GET form)
//   /incidents/<id>        one incident: timeline, evidence, each fix attempt (proposed diff,
//                          guard decision, dry run, verification), the pull request, its calls
//   /calls                 calls: number, transcript, decision, and the prompt and answer audio
//   /audio/<call>/prompt.wav, /audio/<call>/answer.wav
//                          the recordings, read from the telephony server's audio directory
//                          (--console-audio-dir: its STATE_DIR/audio, with keep_audio on)
//   /incidents.csv, /calls.csv   the same lists as CSV downloads
//   /login                 a form that keeps the token in an HttpOnly, SameSite=Strict cookie
// Behind the same tokens as the API: "Authorization: Bearer <token>" or the cookie; the operator
// and viewer roles may read, the reporter may not. Nothing can be changed from here.
// Thread-safe (cpp-httplib serves each request on its own thread; collaborators are thread-safe).
#ifndef REMEDIATOR_SERVER_REMEDIATOR_CONSOLE_WEB_CONSOLE_H_
#define REMEDIATOR_SERVER_REMEDIATOR_CONSOLE_WEB_CONSOLE_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "server/common/rpc_guard.h"
#include "server/remediator/core/incident_store.h"
#include "server/remediator/core/phone.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace remediator::console {

struct WebConsoleOptions {
  // HOST:PORT; port 0 picks a free port.
  std::string listen;
  // Where the telephony server keeps the calls' WAV files (<call_id>-prompt.wav,
  // <call_id>-answer.wav); empty: no audio.
  std::string audio_dir;
};

class WebConsole {
 public:
  // `store`, `guard` borrowed; `phone` may be null (calls are then read from the store).
  static absl::StatusOr<std::unique_ptr<WebConsole>> Start(const WebConsoleOptions& options,
                                                           IncidentStore& store, Phone* phone,
                                                           const RpcGuard& guard);
  ~WebConsole();

  const std::string& address() const { return address_; }

 private:
  WebConsole(const WebConsoleOptions& options, IncidentStore& store, Phone* phone,
             const RpcGuard& guard);
  void Route();
  // True when the request may read; otherwise fills `res` (login page or 401) and returns false.
  bool Allowed(const httplib::Request& req, httplib::Response& res, bool html);
  void IncidentsPage(const httplib::Request& req, httplib::Response& res);
  void IncidentPage(const httplib::Request& req, httplib::Response& res);
  void CallsPage(const httplib::Request& req, httplib::Response& res);
  void IncidentsCsv(const httplib::Request& req, httplib::Response& res);
  void CallsCsv(const httplib::Request& req, httplib::Response& res);
  void Audio(const httplib::Request& req, httplib::Response& res);
  void Login(const httplib::Request& req, httplib::Response& res);
  absl::StatusOr<std::vector<telephony::v1::CallRecord>> Calls(const std::string& incident_id);
  bool HasAudio(const std::string& call_id, const char* kind) const;

  WebConsoleOptions options_;
  IncidentStore& store_;
  Phone* phone_;
  const RpcGuard& guard_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::string address_;
};

}  // namespace remediator::console

#endif  // REMEDIATOR_SERVER_REMEDIATOR_CONSOLE_WEB_CONSOLE_H_

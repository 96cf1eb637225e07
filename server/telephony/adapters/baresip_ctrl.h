// BaresipCtrl: a client for baresip's ctrl_tcp module. Messages are TCP netstrings
// ("<len>:<json>,"); commands are {"command","params","token"}, replies carry "response":true and
// the token, events carry "event":true, "type" (CALL_RINGING, CALL_ESTABLISHED, CALL_CLOSED...)
// and "param" (for CALL_CLOSED, the reason, e.g. "486 Busy Here").
// Not thread-safe: one owner.
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_BARESIP_CTRL_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_BARESIP_CTRL_H_

#include <deque>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace remediator::telephony {

struct BaresipEvent {
  std::string type;   // event type, or "RESPONSE" for a command reply
  std::string param;  // event param, or the reply's data
  bool ok = true;     // for replies
  std::string token;  // for replies
};

class BaresipCtrl {
 public:
  // Connects to 127.0.0.1:`port`, retrying until `timeout` (baresip needs ~0.1 s to start).
  static absl::StatusOr<std::unique_ptr<BaresipCtrl>> Connect(int port, absl::Duration timeout);
  ~BaresipCtrl();

  absl::Status Send(const std::string& command, const std::string& params,
                    const std::string& token);
  // The next event or reply, waiting up to `timeout`; nullopt on timeout. Unavailable when the
  // connection closed (baresip exited), DataLoss on a malformed frame.
  absl::StatusOr<std::optional<BaresipEvent>> Next(absl::Duration timeout);

  // Netstring framing (exposed for tests): appends frames decoded from `buffer` to `out` and
  // removes them from `buffer`; DataLoss for a malformed frame.
  static absl::Status Deframe(std::string& buffer, std::deque<std::string>& out);
  static absl::StatusOr<BaresipEvent> ParseMessage(const std::string& json);

 private:
  explicit BaresipCtrl(int fd) : fd_(fd) {}
  int fd_;
  std::string buffer_;
  std::deque<std::string> frames_;
};

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_BARESIP_CTRL_H_

#include "server/telephony/adapters/baresip_ctrl.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "server/common/file_util.h"
#include "server/common/status_macros.h"

namespace remediator::telephony {

absl::StatusOr<std::unique_ptr<BaresipCtrl>> BaresipCtrl::Connect(int port,
                                                                  absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  int last_errno = 0;
  while (true) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return ErrnoToStatus(errno, "socket");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
      return std::unique_ptr<BaresipCtrl>(new BaresipCtrl(fd));
    }
    last_errno = errno;
    ::close(fd);
    if (absl::Now() >= deadline) break;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::UnavailableError(
      absl::StrCat("baresip control port 127.0.0.1:", port, " did not accept within ",
                   absl::FormatDuration(timeout), ": ", std::strerror(last_errno)));
}

BaresipCtrl::~BaresipCtrl() { ::close(fd_); }

absl::Status BaresipCtrl::Send(const std::string& command, const std::string& params,
                               const std::string& token) {
  nlohmann::json j = {{"command", command}, {"params", params}, {"token", token}};
  std::string body = j.dump();
  std::string frame = absl::StrCat(body.size(), ":", body, ",");
  size_t done = 0;
  while (done < frame.size()) {
    ssize_t n = ::send(fd_, frame.data() + done, frame.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "send to baresip");
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status BaresipCtrl::Deframe(std::string& buffer, std::deque<std::string>& out) {
  size_t at = 0;
  while (true) {
    size_t colon = buffer.find(':', at);
    if (colon == std::string::npos) {
      if (buffer.size() - at > 10) return absl::DataLossError("baresip netstring: no length");
      break;
    }
    size_t len = 0;
    if (colon == at || colon - at > 9 ||
        !absl::SimpleAtoi(absl::string_view(buffer).substr(at, colon - at), &len)) {
      return absl::DataLossError("baresip netstring: bad length");
    }
    if (buffer.size() < colon + 1 + len + 1) break;
    if (buffer[colon + 1 + len] != ',') {
      return absl::DataLossError("baresip netstring: missing trailing comma");
    }
    out.push_back(buffer.substr(colon + 1, len));
    at = colon + 1 + len + 1;
  }
  buffer.erase(0, at);
  return absl::OkStatus();
}

absl::StatusOr<BaresipEvent> BaresipCtrl::ParseMessage(const std::string& json) {
  nlohmann::json j = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return absl::DataLossError("baresip sent a message that is not JSON");
  BaresipEvent e;
  auto str = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  if (j.value("response", false)) {
    e.type = "RESPONSE";
    e.ok = j.value("ok", false);
    e.param = str("data");
    e.token = str("token");
  } else {
    e.type = str("type");
    e.param = str("param");
  }
  return e;
}

absl::StatusOr<std::optional<BaresipEvent>> BaresipCtrl::Next(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (frames_.empty()) {
    // A zero or past deadline still looks once at what is already readable.
    int64_t left_ms = std::max<int64_t>(0, absl::ToInt64Milliseconds(deadline - absl::Now()));
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left_ms));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "poll baresip");
    }
    if (r == 0) {
      if (absl::Now() >= deadline) return std::nullopt;
      continue;
    }
    char buf[8192];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoToStatus(errno, "recv from baresip");
    }
    if (n == 0) return absl::UnavailableError("baresip closed its control connection");
    buffer_.append(buf, static_cast<size_t>(n));
    RETURN_IF_ERROR(Deframe(buffer_, frames_));
  }
  std::string frame = std::move(frames_.front());
  frames_.pop_front();
  ASSIGN_OR_RETURN(BaresipEvent e, ParseMessage(frame));
  return e;
}

}  // namespace remediator::telephony

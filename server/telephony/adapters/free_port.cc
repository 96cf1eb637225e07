#include "server/telephony/adapters/free_port.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <mutex>
#include <random>

#include "absl/strings/str_cat.h"

namespace remediator::telephony {
namespace {

// Binds a socket of `type` to ip:port; returns the bound port, or 0 when it is taken.
int TryBind(const std::string& ip, int port, int type) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) {
    ::close(fd);
    return 0;
  }
  int bound = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    socklen_t len = sizeof addr;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      bound = ntohs(addr.sin_port);
    }
  }
  ::close(fd);
  return bound;
}

int RandomPort(int align) {
  static std::mutex mu;
  static std::mt19937 rng(std::random_device{}());
  std::lock_guard<std::mutex> lock(mu);
  int p = std::uniform_int_distribution<int>(20000, 59900)(rng);
  return p - p % align;
}

}  // namespace

absl::StatusOr<int> PickFreeSipPort(const std::string& ip) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    int p = RandomPort(2);
    if (TryBind(ip, p, SOCK_DGRAM) && TryBind(ip, p, SOCK_STREAM) &&
        TryBind(ip, p + 1, SOCK_STREAM)) {
      return p;
    }
  }
  return absl::ResourceExhaustedError(absl::StrCat("no free SIP port on ", ip));
}

absl::StatusOr<int> PickFreeTcpPort(const std::string& ip) {
  int p = TryBind(ip, 0, SOCK_STREAM);
  if (p == 0) return absl::ResourceExhaustedError(absl::StrCat("no free TCP port on ", ip));
  return p;
}

absl::StatusOr<int> PickFreeUdpRange(const std::string& ip, int count) {
  for (int attempt = 0; attempt < 200; ++attempt) {
    int p = RandomPort(2);
    bool free = true;
    for (int i = 0; i < count && free; ++i) free = TryBind(ip, p + i, SOCK_DGRAM) != 0;
    if (free) return p;
  }
  return absl::ResourceExhaustedError(absl::StrCat("no free RTP port range on ", ip));
}

}  // namespace remediator::telephony

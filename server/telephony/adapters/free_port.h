// Picking free local ports for subprocesses that cannot be given port 0.
#ifndef REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_FREE_PORT_H_
#define REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_FREE_PORT_H_

#include <string>

#include "absl/status/statusor.h"

namespace remediator::telephony {

// A port free for both UDP and TCP on `ip` at `port` and TCP on `port`+1 (baresip's SIP
// listener takes UDP+TCP on PORT and TLS on PORT+1). There is an unavoidable race between this
// check and the subprocess binding; ports are drawn at random from 20000..59999 to make
// collisions unlikely.
absl::StatusOr<int> PickFreeSipPort(const std::string& ip);

// A free TCP port on `ip` (bind port 0 and read it back).
absl::StatusOr<int> PickFreeTcpPort(const std::string& ip);

// The first port of `count` consecutive free UDP ports (for an RTP range), even-aligned.
absl::StatusOr<int> PickFreeUdpRange(const std::string& ip, int count);

}  // namespace remediator::telephony

#endif  // REMEDIATOR_SERVER_TELEPHONY_ADAPTERS_FREE_PORT_H_

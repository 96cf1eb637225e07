#include "server/telephony/core/limits.h"

#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"

namespace remediator::telephony {
namespace {

// Offset of the first byte that does not start or continue a well-formed UTF-8 sequence
// (overlong forms, surrogates and code points past U+10FFFF included), or npos.
size_t FirstBadUtf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size()) return i;
    for (size_t k = 1; k < len; ++k) {
      const unsigned char b = static_cast<unsigned char>(s[i + k]);
      if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return i;
    }
    i += len;
  }
  return std::string::npos;
}

absl::Status CheckField(const std::string& value, const std::string& field, size_t max_bytes) {
  if (value.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " is ", value.size(), " bytes; the limit is ", max_bytes, " bytes"));
  }
  return ValidateUtf8(value, field);
}

}  // namespace

absl::Status ValidateUtf8(const std::string& value, const std::string& field) {
  const size_t bad = FirstBadUtf8(value);
  if (bad == std::string::npos) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, " is not valid UTF-8 (first bad byte at offset ", bad, ")"));
}

absl::Status ValidateIncident(const ::telephony::v1::IncidentSummary& incident) {
  const std::pair<const char*, const std::string*> fields[] = {
      {"incident.incident_id", &incident.incident_id()},
      {"incident.cluster", &incident.cluster()},
      {"incident.namespace", &incident.namespace_()},
      {"incident.workload_kind", &incident.workload_kind()},
      {"incident.workload_name", &incident.workload_name()},
      {"incident.container", &incident.container()},
      {"incident.error_class", &incident.error_class()},
      {"incident.summary", &incident.summary()},
      {"incident.what_was_tried", &incident.what_was_tried()},
      {"incident.why_it_failed", &incident.why_it_failed()},
      {"incident.severity", &incident.severity()}};
  size_t total = 0;
  for (const auto& [name, value] : fields) {
    RETURN_IF_ERROR(CheckField(*value, name, kMaxIncidentFieldBytes));
    total += value->size();
  }
  if (total > kMaxIncidentBytes) {
    return absl::InvalidArgumentError(absl::StrCat("incident text fields are ", total,
                                                   " bytes together; the limit is ",
                                                   kMaxIncidentBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidatePlaceCallLimits(const ::telephony::v1::PlaceCallRequest& request) {
  RETURN_IF_ERROR(CheckField(request.number(), "number", 256));
  RETURN_IF_ERROR(CheckField(request.message(), "message", kMaxMessageBytes));
  RETURN_IF_ERROR(CheckField(request.language(), "language", kMaxLanguageBytes));
  RETURN_IF_ERROR(CheckField(request.idempotency_key(), "idempotency_key", kMaxKeyBytes));
  if (request.has_incident()) RETURN_IF_ERROR(ValidateIncident(request.incident()));
  return absl::OkStatus();
}

}  // namespace remediator::telephony

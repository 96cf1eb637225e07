#include "clients/log_shipper/cri_file_name.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace remediator::log_shipper {

absl::StatusOr<PodIdentity> ParseCriLogFileName(const std::string& path) {
  std::string base = path.substr(path.rfind('/') == std::string::npos ? 0 : path.rfind('/') + 1);
  auto bad = [&](const char* why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "log file name \"", path, "\" is not <pod>_<namespace>_<container>-<id>.log: ", why));
  };
  constexpr char kSuffix[] = ".log";
  if (base.size() < 5 || base.compare(base.size() - 4, 4, kSuffix) != 0) {
    return bad("no .log suffix");
  }
  base.resize(base.size() - 4);
  // Pod names and namespaces are DNS labels/subdomains: they hold no '_'.
  size_t first = base.find('_');
  size_t second = first == std::string::npos ? first : base.find('_', first + 1);
  if (second == std::string::npos) return bad("fewer than two '_'");
  size_t dash = base.rfind('-');
  if (dash == std::string::npos || dash <= second + 1) return bad("no -<container id>");
  std::string id = base.substr(dash + 1);
  if (id.empty()) return bad("empty container id");
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return bad("container id is not hex");
  }
  PodIdentity identity;
  identity.pod = base.substr(0, first);
  identity.namespace_name = base.substr(first + 1, second - first - 1);
  identity.container = base.substr(second + 1, dash - second - 1);
  if (identity.pod.empty() || identity.namespace_name.empty()) return bad("empty pod or namespace");
  return identity;
}

namespace {

// Length of the valid UTF-8 sequence starting at text[i] (RFC 3629: no overlong forms, no
// surrogates, nothing above U+10FFFF), or 0 when it is not one.
size_t Utf8SequenceLength(std::string_view text, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t n = c >= 0xC2 && c <= 0xDF   ? 2
             : c >= 0xE0 && c <= 0xEF ? 3
             : c >= 0xF0 && c <= 0xF4 ? 4
                                      : 0;
  if (n == 0 || i + n > text.size()) return 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c == 0xE0) lo = 0xA0;
  if (c == 0xED) hi = 0x9F;
  if (c == 0xF0) lo = 0x90;
  if (c == 0xF4) hi = 0x8F;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = i + 2; k < i + n; ++k) {
    if (byte(k) < 0x80 || byte(k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

std::string EscapeInvalidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      absl::StrAppend(&out, "\\x", absl::Hex(static_cast<unsigned char>(text[i]), absl::kZeroPad2));
      ++i;
      continue;
    }
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == 'x') out += '\\';
    out.append(text.substr(i, n));
    i += n;
  }
  return out;
}

}  // namespace remediator::log_shipper

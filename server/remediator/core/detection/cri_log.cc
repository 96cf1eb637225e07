#include "server/remediator/core/detection/cri_log.h"

#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace remediator::detection {
namespace {

std::string Excerpt(std::string_view line) {
  std::string out(line.substr(0, 60));
  if (line.size() > 60) out += "...";
  return out;
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return !s.empty();
}

}  // namespace

absl::StatusOr<CriRecord> ParseCriLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  auto bad = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a CRI log line (want \"<RFC3339Nano time> <stdout|stderr> <P|F> "
                     "<text>\"): ",
                     std::string(why), ": \"", Excerpt(line), "\""));
  };
  CriRecord rec;
  const size_t s1 = line.find(' ');
  if (s1 == std::string_view::npos) return bad("no fields");
  rec.time = line.substr(0, s1);
  if (rec.time.size() < 11 || !std::isdigit(static_cast<unsigned char>(rec.time[0])) ||
      rec.time[4] != '-' || rec.time.find('T') == std::string_view::npos) {
    return bad("the first field is not a timestamp");
  }
  const size_t s2 = line.find(' ', s1 + 1);
  if (s2 == std::string_view::npos) return bad("no tag field");
  rec.stream = line.substr(s1 + 1, s2 - s1 - 1);
  if (rec.stream != "stdout" && rec.stream != "stderr") return bad("stream is not stdout|stderr");
  size_t s3 = line.find(' ', s2 + 1);
  const std::string_view tags =
      line.substr(s2 + 1, s3 == std::string_view::npos ? std::string_view::npos : s3 - s2 - 1);
  const std::string_view first_tag = tags.substr(0, tags.find(':'));
  if (first_tag == "P") {
    rec.partial = true;
  } else if (first_tag != "F") {
    return bad("tag is not P or F");
  }
  rec.text = s3 == std::string_view::npos ? std::string_view() : line.substr(s3 + 1);
  return rec;
}

absl::Status JoinCriLines(const std::vector<std::string_view>& lines,
                          std::vector<std::string_view>* out,
                          std::vector<std::unique_ptr<std::string>>* joined) {
  std::string* pending = nullptr;
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::StatusOr<CriRecord> rec = ParseCriLine(lines[i]);
    if (!rec.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", i, ": ", rec.status().message()));
    }
    if (pending == nullptr && !rec->partial) {
      out->push_back(rec->text);
      continue;
    }
    if (pending == nullptr) {
      joined->push_back(std::make_unique<std::string>());
      pending = joined->back().get();
    }
    pending->append(rec->text.data(), rec->text.size());
    if (!rec->partial) {
      out->push_back(*pending);
      pending = nullptr;
    }
  }
  if (pending != nullptr) out->push_back(*pending);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> JoinCriLines(const std::vector<std::string_view>& lines) {
  std::vector<std::string_view> views;
  std::vector<std::unique_ptr<std::string>> joined;
  absl::Status status = JoinCriLines(lines, &views, &joined);
  if (!status.ok()) return status;
  return std::vector<std::string>(views.begin(), views.end());
}

bool ParseContainerLogPath(std::string_view path, ContainerLogIdentity* identity) {
  // /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log
  const size_t pods = path.find("/pods/");
  if (pods != std::string_view::npos && path.size() > 4 && path.substr(path.size() - 4) == ".log") {
    std::string_view rest = path.substr(pods + 6);
    const size_t slash1 = rest.find('/');
    const size_t slash2 = slash1 == std::string_view::npos ? slash1 : rest.find('/', slash1 + 1);
    if (slash2 != std::string_view::npos) {
      std::string_view dir = rest.substr(0, slash1);
      const size_t u1 = dir.find('_');
      const size_t u2 = dir.rfind('_');
      if (u1 != std::string_view::npos && u2 != u1) {
        identity->namespace_ = std::string(dir.substr(0, u1));
        identity->pod = std::string(dir.substr(u1 + 1, u2 - u1 - 1));
        identity->container = std::string(rest.substr(slash1 + 1, slash2 - slash1 - 1));
        return !identity->pod.empty() && !identity->container.empty();
      }
    }
  }
  // /var/log/containers/<pod>_<namespace>_<container>-<id>.log
  std::string_view base =
      path.substr(path.rfind('/') == std::string_view::npos ? 0 : path.rfind('/') + 1);
  if (base.size() < 5 || base.substr(base.size() - 4) != ".log") return false;
  base.remove_suffix(4);
  const size_t u1 = base.find('_');
  if (u1 == std::string_view::npos) return false;
  const size_t u2 = base.find('_', u1 + 1);
  if (u2 == std::string_view::npos) return false;
  std::string_view container_and_id = base.substr(u2 + 1);
  const size_t dash = container_and_id.rfind('-');
  if (dash == std::string_view::npos || !IsHex(container_and_id.substr(dash + 1))) return false;
  identity->pod = std::string(base.substr(0, u1));
  identity->namespace_ = std::string(base.substr(u1 + 1, u2 - u1 - 1));
  identity->container = std::string(container_and_id.substr(0, dash));
  return !identity->pod.empty() && !identity->namespace_.empty() && !identity->container.empty();
}

}  // namespace remediator::detection

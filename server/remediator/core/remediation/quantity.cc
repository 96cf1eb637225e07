#include "server/remediator/core/remediation/quantity.h"

#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"

namespace remediator::remediation {

absl::StatusOr<double> ParseQuantity(const nlohmann::json& value) {
  if (value.is_number()) return value.get<double>();
  if (!value.is_string()) {
    return absl::InvalidArgumentError(absl::StrCat("quantity ", value.dump(), " is not a string"));
  }
  const std::string text = value.get<std::string>();
  char* end = nullptr;
  const double number = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(number) || number < 0) {
    return absl::InvalidArgumentError(absl::StrCat("\"", text, "\" is not a quantity"));
  }
  const std::string suffix(end);
  static const std::pair<const char*, double> kSuffixes[] = {{"", 1},
                                                             {"m", 1e-3},
                                                             {"k", 1e3},
                                                             {"M", 1e6},
                                                             {"G", 1e9},
                                                             {"T", 1e12},
                                                             {"P", 1e15},
                                                             {"E", 1e18},
                                                             {"Ki", 1024.0},
                                                             {"Mi", 1048576.0},
                                                             {"Gi", 1073741824.0},
                                                             {"Ti", 1099511627776.0},
                                                             {"Pi", 1125899906842624.0},
                                                             {"Ei", 1152921504606846976.0}};
  for (const auto& [name, factor] : kSuffixes) {
    if (suffix == name) return number * factor;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text, "\" has an unknown unit \"", suffix, "\""));
}

std::string FormatMemory(double bytes) {
  const double mi = std::ceil(bytes / 1048576.0 - 1e-9);
  if (mi >= 1024 && std::fmod(mi, 1024) == 0) {
    return absl::StrCat(static_cast<int64_t>(mi / 1024), "Gi");
  }
  return absl::StrCat(static_cast<int64_t>(std::max(mi, 1.0)), "Mi");
}

std::string FormatCpu(double cores) {
  const double milli = std::ceil(cores * 1000 - 1e-9);
  if (std::fmod(milli, 1000) == 0) return absl::StrCat(static_cast<int64_t>(milli / 1000));
  return absl::StrCat(static_cast<int64_t>(milli), "m");
}

}  // namespace remediator::remediation

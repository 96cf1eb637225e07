#include "clients/log_shipper/checkpoints.h"

#include <filesystem>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/common/file_util.h"

namespace remediator::log_shipper {

absl::StatusOr<std::vector<Checkpoint>> LoadCheckpoints(const std::string& file) {
  std::vector<Checkpoint> checkpoints;
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) return checkpoints;
  absl::StatusOr<std::string> text = ReadFile(file);
  if (!text.ok()) return text.status();
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(*text, '\n', absl::SkipEmpty())) {
    ++line_number;
    // The path is last and may contain spaces.
    std::vector<absl::string_view> parts = absl::StrSplit(line, absl::MaxSplits(' ', 3));
    Checkpoint checkpoint;
    if (parts.size() != 4 || !absl::SimpleAtoi(parts[0], &checkpoint.id.device) ||
        !absl::SimpleAtoi(parts[1], &checkpoint.id.inode) ||
        !absl::SimpleAtoi(parts[2], &checkpoint.offset) || parts[3].empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(file, ":", line_number,
                       ": malformed checkpoint, expected \"<device> <inode> <offset> <path>\""));
    }
    checkpoint.path = std::string(parts[3]);
    checkpoints.push_back(std::move(checkpoint));
  }
  return checkpoints;
}

absl::Status SaveCheckpoints(const std::string& file, const std::vector<Checkpoint>& checkpoints) {
  std::string text;
  for (const Checkpoint& c : checkpoints) {
    absl::StrAppend(&text, c.id.device, " ", c.id.inode, " ", c.offset, " ", c.path, "\n");
  }
  return WriteFileAtomically(file, text);
}

}  // namespace remediator::log_shipper

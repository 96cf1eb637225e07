#include "server/common/flags.h"

#include <charconv>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace remediator {

FlagSet::FlagSet(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void FlagSet::Add(Flag flag) {
  auto owned = std::make_unique<Flag>(std::move(flag));
  by_name_[owned->name] = owned.get();
  if (owned->short_name != 0) by_short_[owned->short_name] = owned.get();
  flags_.push_back(std::move(owned));
}

void FlagSet::String(const std::string& name, std::string* target, const std::string& help,
                     char short_name) {
  Add(Flag{name, short_name, Kind::kString, target, help, *target});
}

void FlagSet::Int(const std::string& name, int* target, const std::string& help, char short_name) {
  Add(Flag{name, short_name, Kind::kInt, target, help, std::to_string(*target)});
}

void FlagSet::Double(const std::string& name, double* target, const std::string& help) {
  std::ostringstream text;
  text << *target;
  Add(Flag{name, 0, Kind::kDouble, target, help, text.str()});
}

void FlagSet::Bool(const std::string& name, bool* target, const std::string& help) {
  Add(Flag{name, 0, Kind::kBool, target, help, *target ? "true" : "false"});
}

void FlagSet::Repeated(const std::string& name, std::vector<std::string>* target,
                       const std::string& help, char short_name) {
  Add(Flag{name, short_name, Kind::kRepeated, target, help, ""});
}

bool FlagSet::IsSet(const std::string& name) const {
  auto it = by_name_.find(name);
  return it != by_name_.end() && it->second->set;
}

absl::Status FlagSet::Assign(Flag& flag, const std::string& value) {
  flag.set = true;
  switch (flag.kind) {
    case Kind::kString:
      *static_cast<std::string*>(flag.target) = value;
      return absl::OkStatus();
    case Kind::kRepeated:
      static_cast<std::vector<std::string>*>(flag.target)->push_back(value);
      return absl::OkStatus();
    case Kind::kInt: {
      int parsed = 0;
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
      if (ec != std::errc() || end != value.data() + value.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", flag.name, " wants a whole number, got \"", value, "\""));
      }
      *static_cast<int*>(flag.target) = parsed;
      return absl::OkStatus();
    }
    case Kind::kDouble: {
      char* end = nullptr;
      double parsed = std::strtod(value.c_str(), &end);
      if (value.empty() || end != value.c_str() + value.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("--", flag.name, " wants a number, got \"", value, "\""));
      }
      *static_cast<double*>(flag.target) = parsed;
      return absl::OkStatus();
    }
    case Kind::kBool:
      if (value == "true" || value == "1" || value == "yes") {
        *static_cast<bool*>(flag.target) = true;
      } else if (value == "false" || value == "0" || value == "no") {
        *static_cast<bool*>(flag.target) = false;
      } else {
        return absl::InvalidArgumentError(
            absl::StrCat("--", flag.name, " wants true or false, got \"", value, "\""));
      }
      return absl::OkStatus();
  }
  return absl::InternalError("unknown flag kind");
}

absl::Status FlagSet::Parse(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--") {
      for (++i; i < argc; ++i) positional_.emplace_back(argv[i]);
      break;
    }
    if (arg == "--help" || arg == "-h") {
      help_requested_ = true;
      return absl::OkStatus();
    }
    Flag* flag = nullptr;
    std::string value;
    bool has_value = false;
    if (arg.rfind("--", 0) == 0) {
      std::string name = arg.substr(2);
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_value = true;
      }
      auto it = by_name_.find(name);
      if (it == by_name_.end() && !has_value && name.rfind("no-", 0) == 0) {
        auto negated = by_name_.find(name.substr(3));
        if (negated != by_name_.end() && negated->second->kind == Kind::kBool) {
          absl::Status s = Assign(*negated->second, "false");
          if (!s.ok()) return s;
          continue;
        }
      }
      if (it == by_name_.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag --", name, " (see ", program_, " --help)"));
      }
      flag = it->second;
    } else if (arg.size() == 2 && arg[0] == '-' && arg[1] != '-') {
      auto it = by_short_.find(arg[1]);
      if (it == by_short_.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown flag ", arg, " (see ", program_, " --help)"));
      }
      flag = it->second;
    } else {
      positional_.push_back(arg);
      if (stop_at_first_positional_) {
        for (++i; i < argc; ++i) positional_.emplace_back(argv[i]);
        break;
      }
      continue;
    }
    if (!has_value) {
      if (flag->kind == Kind::kBool) {
        value = "true";
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--", flag->name, " needs a value"));
      }
    }
    absl::Status s = Assign(*flag, value);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string FlagSet::Usage() const {
  std::ostringstream out;
  out << "Usage: " << program_ << " [flags]\n\n" << summary_ << "\n\nFlags:\n";
  for (const auto& flag : flags_) {
    std::string left = "  ";
    if (flag->short_name != 0) left += std::string("-") + flag->short_name + ", ";
    left += "--" + flag->name;
    if (flag->kind != Kind::kBool) left += " VALUE";
    out << left << "\n      " << flag->help;
    if (!flag->default_text.empty()) out << " (default: " << flag->default_text << ")";
    out << "\n";
  }
  out << "  -h, --help\n      Print this help and exit.\n";
  if (!epilogue_.empty()) out << "\n" << epilogue_ << "\n";
  return out.str();
}

}  // namespace remediator

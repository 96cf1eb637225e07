#include "server/remediator/adapters/kube/credentials.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "server/common/file_util.h"

namespace remediator::kube {

absl::StatusOr<std::string> CredentialSource::TokenFromFile() {
  struct stat info;
  if (stat(config_.token_file.c_str(), &info) != 0) {
    return absl::UnauthenticatedError(
        absl::StrCat("tokenFile \"", config_.token_file, "\": ", std::strerror(errno)));
  }
  const int64_t mtime_ns =
      static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
  const int64_t size = static_cast<int64_t>(info.st_size);
  // Rotated tokens (projected service-account tokens) are picked up as soon as the file changes.
  if (mtime_ns != file_mtime_ns_ || size != file_size_ || file_token_.empty()) {
    absl::StatusOr<std::string> text = ReadFile(config_.token_file);
    if (!text.ok()) {
      return absl::UnauthenticatedError(
          absl::StrCat("tokenFile \"", config_.token_file, "\": ", text.status().message()));
    }
    file_token_ = std::string(absl::StripAsciiWhitespace(*text));
    file_mtime_ns_ = mtime_ns;
    file_size_ = size;
  }
  if (file_token_.empty()) {
    return absl::UnauthenticatedError(
        absl::StrCat("tokenFile \"", config_.token_file, "\" is empty"));
  }
  return file_token_;
}

absl::StatusOr<Credentials> CredentialSource::Get() {
  Credentials out;
  out.client_cert_pem = config_.client_cert_pem;
  out.client_key_pem = config_.client_key_pem;
  out.username = config_.username;
  out.password = config_.password;
  absl::MutexLock lock(&mu_);
  if (!config_.token.empty()) {
    out.bearer_token = config_.token;
  } else if (!config_.token_file.empty()) {
    absl::StatusOr<std::string> token = TokenFromFile();
    if (!token.ok()) return token.status();
    out.bearer_token = *token;
  }
  if (config_.exec.has_value()) {
    const bool expired = exec_cache_.has_value() && exec_cache_->expiration.has_value() &&
                         clock_.Now() >= *exec_cache_->expiration;
    if (!exec_cache_.has_value() || expired) {
      exec_cache_.reset();
      ++exec_runs_;
      absl::StatusOr<ExecCredential> credential = RunExecPlugin(config_);
      if (!credential.ok()) return credential.status();
      exec_cache_ = *std::move(credential);
    }
    if (out.bearer_token.empty()) out.bearer_token = exec_cache_->token;
    if (!exec_cache_->client_cert_pem.empty()) {
      out.client_cert_pem = exec_cache_->client_cert_pem;
      out.client_key_pem = exec_cache_->client_key_pem;
    }
  }
  return out;
}

void CredentialSource::Invalidate() {
  absl::MutexLock lock(&mu_);
  exec_cache_.reset();
  file_token_.clear();
  file_mtime_ns_ = -1;
}

int64_t CredentialSource::exec_runs() const {
  absl::MutexLock lock(&mu_);
  return exec_runs_;
}

}  // namespace remediator::kube

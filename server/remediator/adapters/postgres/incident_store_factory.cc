#include "server/remediator/adapters/postgres/incident_store_factory.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "server/common/status_macros.h"
#include "server/remediator/adapters/postgres/postgres_incident_store.h"
#include "server/remediator/adapters/sqlite_incident_store.h"

namespace remediator {

absl::StatusOr<std::unique_ptr<IncidentStore>> OpenIncidentStore(const std::string& url,
                                                                 const std::string& state_dir) {
  if (url.empty()) {
    ASSIGN_OR_RETURN(auto store,
                     SqliteIncidentStore::Open(absl::StrCat(state_dir, "/remediator.db")));
    return std::unique_ptr<IncidentStore>(std::move(store));
  }
  if (absl::StartsWith(url, "sqlite://")) {
    const std::string path = url.substr(std::string("sqlite://").size());
    if (path.empty()) {
      return absl::InvalidArgumentError(
          "store \"sqlite://\" names no file (e.g. sqlite:///var/lib/remediator/remediator.db)");
    }
    ASSIGN_OR_RETURN(auto store, SqliteIncidentStore::Open(path));
    return std::unique_ptr<IncidentStore>(std::move(store));
  }
  if (absl::StartsWith(url, "postgres://") || absl::StartsWith(url, "postgresql://")) {
    PostgresStoreOptions options;
    options.url = url;
    ASSIGN_OR_RETURN(auto store, PostgresIncidentStore::Open(options));
    return std::unique_ptr<IncidentStore>(std::move(store));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("store \"", RedactStoreUrl(url),
                   "\" is not sqlite:///path, postgres://... or postgresql://..."));
}

std::string RedactStoreUrl(const std::string& url) {
  std::string redacted = url;
  // scheme://user:password@host/...: the password runs from the first ':' of the authority to
  // its '@'.
  const size_t authority = redacted.find("//");
  if (authority != std::string::npos) {
    const size_t end = redacted.find_first_of("/?", authority + 2);
    const size_t at = redacted.rfind('@', end);
    const size_t colon = redacted.find(':', authority + 2);
    if (at != std::string::npos && at > authority && colon < at) {
      redacted.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // libpq also accepts ?password=... in the query.
  const size_t query = redacted.find("password=");
  if (query != std::string::npos) {
    const size_t start = query + 9;
    const size_t end = redacted.find('&', start);
    redacted.replace(start, (end == std::string::npos ? redacted.size() : end) - start, "***");
  }
  return redacted;
}

}  // namespace remediator

// OpenIncidentStore: the one place that turns the `store` setting (`--store`, `store:` in the
// remediator YAML) into an IncidentStore.
//
//   ""                           SQLite at <state_dir>/remediator.db (the embedded default)
//   sqlite:///var/lib/r/r.db     SQLite at that absolute path
//   sqlite://relative/r.db       SQLite at a relative path
//   postgres://... postgresql://...   PostgreSQL (libpq URI: user, password, host, port,
//                                the database, and options such as ?host=/run/postgresql)
#ifndef REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_POSTGRES_INCIDENT_STORE_FACTORY_H_
#define REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_POSTGRES_INCIDENT_STORE_FACTORY_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "server/remediator/core/incident_store.h"

namespace remediator {

// InvalidArgument for any other scheme (the message names the accepted ones and never repeats
// a password); otherwise what the store's Open returns.
absl::StatusOr<std::unique_ptr<IncidentStore>> OpenIncidentStore(const std::string& url,
                                                                 const std::string& state_dir);

// The URL with any password replaced by "***", for logs.
std::string RedactStoreUrl(const std::string& url);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_REMEDIATOR_ADAPTERS_POSTGRES_INCIDENT_STORE_FACTORY_H_

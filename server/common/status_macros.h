// Propagation macros for absl::Status and absl::StatusOr, named like upstream Abseil's
// (ABSL_RETURN_IF_ERROR / ABSL_ASSIGN_OR_RETURN arrived after Debian 12's 20220623) so that they
// can be swapped for the upstream ones later.
#ifndef REMEDIATOR_SERVER_COMMON_STATUS_MACROS_H_
#define REMEDIATOR_SERVER_COMMON_STATUS_MACROS_H_

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the current function with `expr`'s status when it is not OK.
#define RETURN_IF_ERROR(expr)                                \
  do {                                                       \
    const ::absl::Status _remediator_status = (expr);        \
    if (!_remediator_status.ok()) return _remediator_status; \
  } while (false)

#define REMEDIATOR_CONCAT_INNER_(a, b) a##b
#define REMEDIATOR_CONCAT_(a, b) REMEDIATOR_CONCAT_INNER_(a, b)

// ASSIGN_OR_RETURN(T lhs, StatusOr<T> expr): declares or assigns `lhs` from the value of `expr`,
// or returns `expr`'s status from the current function.
#define ASSIGN_OR_RETURN(lhs, expr) \
  REMEDIATOR_ASSIGN_OR_RETURN_IMPL_(REMEDIATOR_CONCAT_(_remediator_statusor_, __LINE__), lhs, expr)

#define REMEDIATOR_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, expr) \
  auto statusor = (expr);                                      \
  if (!statusor.ok()) return std::move(statusor).status();     \
  lhs = std::move(statusor).value()

#endif  // REMEDIATOR_SERVER_COMMON_STATUS_MACROS_H_

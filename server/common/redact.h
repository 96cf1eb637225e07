// Redaction of secrets from free text, applied before text is stored, logged, put in a prompt or
// spoken. Recognized, each replaced by a marker that says what was there:
//   - HTTP authorization values: "Bearer <token>", "Basic <b64>", "token <t>" after Authorization:
//   - credentials in URLs: scheme://user:password@host  ->  scheme://user:[REDACTED]@host
//   - key=value and key: value pairs whose key names a secret (password, passwd, pwd, secret,
//     token, api_key, apikey, access_key, secret_key, client_secret, private_key, credentials)
//   - AWS access key ids (AKIA/ASIA + 16) and GitHub/GitLab/Slack/OpenAI style tokens
//   - PEM private-key blocks
//   - JWTs (three base64url segments starting with eyJ)
// Thread-safe. Linear time in the input (RE2).
#ifndef REMEDIATOR_SERVER_COMMON_REDACT_H_
#define REMEDIATOR_SERVER_COMMON_REDACT_H_

#include <string>

namespace remediator {

inline constexpr char kRedacted[] = "[REDACTED]";

// Returns `text` with every recognized secret replaced by "[REDACTED]".
std::string RedactSecrets(std::string text);

// True when RedactSecrets would change `text`.
bool ContainsSecret(const std::string& text);

}  // namespace remediator

#endif  // REMEDIATOR_SERVER_COMMON_REDACT_H_

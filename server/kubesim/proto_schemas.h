// Field tables of the k8s.io/api generated.proto messages kubesim decodes (protobuf_codec.h):
// for each message, its field numbers, JSON names and value types. Only the messages that
// kubectl's typed clients send are listed; unknown fields are skipped when decoding.
#ifndef REMEDIATOR_SERVER_KUBESIM_PROTO_SCHEMAS_H_
#define REMEDIATOR_SERVER_KUBESIM_PROTO_SCHEMAS_H_

#include <string>
#include <vector>

namespace remediator::kubesim::proto {

enum class Type {
  kString,
  kBytes,  // []byte: base64 in JSON
  kInt32,
  kInt64,
  kBool,
  kMessage,      // a nested message named by Field::message
  kInline,       // an embedded struct whose fields JSON inlines into the parent (Go embedding)
  kStringMap,    // map<string, string>
  kBytesMap,     // map<string, bytes>: values base64
  kQuantityMap,  // map<string, resource.Quantity>: values "1Gi"
  kQuantity,     // resource.Quantity {string=1}
  kIntOrString,  // intstr.IntOrString {type=1, intVal=2, strVal=3}
  kTime,         // metav1.Time {seconds=1, nanos=2}: RFC 3339, left out when zero
};

struct Field {
  int number;
  const char* name;
  Type type;
  const char* message = nullptr;  // for kMessage and kInline
  bool repeated = false;
  // A Go pointer field: written only when set, so a zero value on the wire is kept. Value
  // fields are always written and their zero value means "unset" (JSON omitempty).
  bool pointer = false;
};

// The fields of `message` ("ObjectMeta", "PodSpec"); nullptr when unknown.
const std::vector<Field>* FindMessage(const std::string& message);
// The top-level message of an apiVersion/kind ("apps/v1", "Deployment"); "" when unknown.
std::string MessageForKind(const std::string& api_version, const std::string& kind);

}  // namespace remediator::kubesim::proto

#endif  // REMEDIATOR_SERVER_KUBESIM_PROTO_SCHEMAS_H_

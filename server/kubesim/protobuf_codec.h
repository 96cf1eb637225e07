// Decoding of Kubernetes protobuf request bodies ("application/vnd.kubernetes.protobuf"), the
// format kubectl 1.32's typed clients send for `kubectl create <generator>`, `create token` and
// `auth can-i`. A body is the magic "k8s\0" followed by a runtime.Unknown envelope
// (typeMeta=1 {apiVersion=1, kind=2}, raw=2, contentEncoding=3, contentType=4) whose `raw` is the
// object's k8s.io/api generated.proto message. kubesim converts it to the JSON object it stores
// and always answers in JSON, which these clients accept (see README.md, "Wire formats").
#ifndef REMEDIATOR_SERVER_KUBESIM_PROTOBUF_CODEC_H_
#define REMEDIATOR_SERVER_KUBESIM_PROTOBUF_CODEC_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace remediator::kubesim {

inline constexpr char kProtobufContentType[] = "application/vnd.kubernetes.protobuf";

// True for "application/vnd.kubernetes.protobuf" with or without parameters.
bool IsProtobufContentType(const std::string& content_type);

// The object in a protobuf request body as JSON, with apiVersion and kind from the envelope.
// The JSON follows the API's JSON conventions: unset pointers and zero-valued scalars are left
// out, empty structs stay `{}`, []byte is base64, Quantity and IntOrString are scalars.
// InvalidArgument when the magic, the envelope or a message is malformed; Unimplemented when
// kubesim has no field table for the envelope's kind.
absl::StatusOr<nlohmann::json> DecodeProtobufObject(std::string_view body);

}  // namespace remediator::kubesim

#endif  // REMEDIATOR_SERVER_KUBESIM_PROTOBUF_CODEC_H_

#include "server/kubesim/protobuf_codec.h"

#include <cstdint>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/kubesim/k8s_util.h"
#include "server/kubesim/proto_schemas.h"

namespace remediator::kubesim {
namespace {

using nlohmann::json;
using proto::Field;
using proto::Type;

// Nested messages deeper than this are rejected (a body is untrusted input).
constexpr int kMaxDepth = 32;

// One field read off the wire: a varint, or a length-delimited byte range.
struct WireField {
  int number = 0;
  int wire_type = 0;
  uint64_t varint = 0;
  std::string_view bytes;
};

// Reads fields of one message in order. Fixed 32/64-bit fields are skipped (no Kubernetes
// message kubesim decodes uses them).
class WireReader {
 public:
  explicit WireReader(std::string_view data) : data_(data) {}
  // The next field; nullopt at the end. Sets `error_` on malformed input.
  std::optional<WireField> Next() {
    while (pos_ < data_.size()) {
      uint64_t key = 0;
      if (!Varint(&key)) return Fail("truncated field key");
      WireField f;
      f.number = static_cast<int>(key >> 3);
      f.wire_type = static_cast<int>(key & 7);
      if (f.number <= 0) return Fail("field number 0");
      switch (f.wire_type) {
        case 0:
          if (!Varint(&f.varint)) return Fail("truncated varint");
          return f;
        case 2: {
          uint64_t len = 0;
          if (!Varint(&len) || len > data_.size() - pos_) return Fail("truncated length");
          f.bytes = data_.substr(pos_, len);
          pos_ += len;
          return f;
        }
        case 1:
        case 5: {
          size_t n = f.wire_type == 1 ? 8 : 4;
          if (n > data_.size() - pos_) return Fail("truncated fixed field");
          pos_ += n;
          continue;
        }
        default:
          return Fail(absl::StrCat("unsupported wire type ", f.wire_type));
      }
    }
    return std::nullopt;
  }
  const std::string& error() const { return error_; }

 private:
  bool Varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && pos_ < data_.size(); shift += 7) {
      uint8_t b = static_cast<uint8_t>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) {
        *out = v;
        return true;
      }
    }
    return false;
  }
  std::nullopt_t Fail(std::string message) {
    error_ = std::move(message);
    pos_ = data_.size();
    return std::nullopt;
  }

  std::string_view data_;
  size_t pos_ = 0;
  std::string error_;
};

absl::Status Malformed(const std::string& where, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("protobuf body: ", where, ": ", what));
}

absl::StatusOr<json> DecodeMessage(std::string_view data, const std::string& message, int depth);

// {key=1, value=2} map entry; the value stays raw bytes for the caller to convert.
absl::Status MapEntry(std::string_view data, std::string* key, std::string_view* value) {
  WireReader r(data);
  while (auto f = r.Next()) {
    if (f->wire_type != 2) continue;
    if (f->number == 1) *key = std::string(f->bytes);
    if (f->number == 2) *value = f->bytes;
  }
  if (!r.error().empty()) return Malformed("map entry", r.error());
  return absl::OkStatus();
}

absl::StatusOr<std::string> QuantityText(std::string_view data) {
  WireReader r(data);
  std::string text;
  while (auto f = r.Next()) {
    if (f->number == 1 && f->wire_type == 2) text = std::string(f->bytes);
  }
  if (!r.error().empty()) return Malformed("Quantity", r.error());
  return text;
}

// IntOrString {type=1 (0 int, 1 string), intVal=2, strVal=3}; null for a zero int.
absl::StatusOr<json> IntOrString(std::string_view data, bool pointer) {
  WireReader r(data);
  uint64_t type = 0;
  int32_t int_val = 0;
  std::string str_val;
  while (auto f = r.Next()) {
    if (f->number == 1 && f->wire_type == 0) type = f->varint;
    if (f->number == 2 && f->wire_type == 0) int_val = static_cast<int32_t>(f->varint);
    if (f->number == 3 && f->wire_type == 2) str_val = std::string(f->bytes);
  }
  if (!r.error().empty()) return Malformed("IntOrString", r.error());
  if (type == 1) return json(str_val);
  if (int_val == 0 && !pointer) return json();
  return json(int_val);
}

absl::StatusOr<json> TimeValue(std::string_view data) {
  WireReader r(data);
  int64_t seconds = 0;
  while (auto f = r.Next()) {
    if (f->number == 1 && f->wire_type == 0) seconds = static_cast<int64_t>(f->varint);
  }
  if (!r.error().empty()) return Malformed("Time", r.error());
  if (seconds == 0) return json();
  return json(Rfc3339(absl::FromUnixSeconds(seconds)));
}

// A map field's entry merged into `out[field.name]`.
absl::Status AddMapEntry(const Field& field, std::string_view data, json* out) {
  std::string key;
  std::string_view value;
  if (auto s = MapEntry(data, &key, &value); !s.ok()) return s;
  json& map = (*out)[field.name];
  if (!map.is_object()) map = json::object();
  if (field.type == Type::kStringMap) {
    map[key] = std::string(value);
  } else if (field.type == Type::kBytesMap) {
    map[key] = absl::Base64Escape(absl::string_view(value.data(), value.size()));
  } else {
    auto q = QuantityText(value);
    if (!q.ok()) return q.status();
    map[key] = *q;
  }
  return absl::OkStatus();
}

// A varint field as JSON: null when it is a value field holding zero.
json Scalar(const Field& field, uint64_t v) {
  if (v == 0 && !field.pointer) return json();
  switch (field.type) {
    case Type::kBool:
      return json(v != 0);
    case Type::kInt32:
      return json(static_cast<int32_t>(v));
    default:
      return json(static_cast<int64_t>(v));
  }
}

absl::StatusOr<json> LengthDelimited(const Field& field, std::string_view bytes, int depth) {
  switch (field.type) {
    case Type::kString: {
      if (bytes.empty() && !field.pointer && !field.repeated) return json();
      return json(std::string(bytes));
    }
    case Type::kBytes:
      return json(absl::Base64Escape(absl::string_view(bytes.data(), bytes.size())));
    case Type::kMessage:
      return DecodeMessage(bytes, field.message, depth + 1);
    case Type::kQuantity: {
      auto q = QuantityText(bytes);
      if (!q.ok()) return q.status();
      return json(*q);
    }
    case Type::kIntOrString:
      return IntOrString(bytes, field.pointer);
    case Type::kTime:
      return TimeValue(bytes);
    default:
      return Malformed(field.name, "unexpected length-delimited value");
  }
}

absl::Status DecodeField(const Field& field, const WireField& w, int depth, json* out) {
  if (field.type == Type::kInline) {
    auto inner = DecodeMessage(w.bytes, field.message, depth + 1);
    if (!inner.ok()) return inner.status();
    for (auto& [k, v] : inner->items()) (*out)[k] = v;
    return absl::OkStatus();
  }
  if (field.type == Type::kStringMap || field.type == Type::kBytesMap ||
      field.type == Type::kQuantityMap) {
    if (w.wire_type != 2) return Malformed(field.name, "map entry is not length-delimited");
    return AddMapEntry(field, w.bytes, out);
  }
  json value;
  if (w.wire_type == 0) {
    value = Scalar(field, w.varint);
  } else if (w.wire_type == 2) {
    auto v = LengthDelimited(field, w.bytes, depth);
    if (!v.ok()) return v.status();
    value = std::move(*v);
  }
  if (field.repeated) {
    json& list = (*out)[field.name];
    if (!list.is_array()) list = json::array();
    if (!value.is_null()) list.push_back(std::move(value));
  } else if (!value.is_null()) {
    (*out)[field.name] = std::move(value);
  }
  return absl::OkStatus();
}

absl::StatusOr<json> DecodeMessage(std::string_view data, const std::string& message, int depth) {
  if (depth > kMaxDepth) return Malformed(message, "nested too deeply");
  const std::vector<Field>* fields = proto::FindMessage(message);
  if (fields == nullptr) return absl::InternalError("no field table for message " + message);
  json out = json::object();
  WireReader r(data);
  while (auto w = r.Next()) {
    for (const Field& field : *fields) {
      if (field.number != w->number) continue;
      if (auto s = DecodeField(field, *w, depth, &out); !s.ok()) return s;
      break;
    }
  }
  if (!r.error().empty()) return Malformed(message, r.error());
  return out;
}

}  // namespace

bool IsProtobufContentType(const std::string& content_type) {
  return absl::StartsWith(content_type, kProtobufContentType);
}

absl::StatusOr<json> DecodeProtobufObject(std::string_view body) {
  static constexpr std::string_view kMagic("k8s\0", 4);
  if (body.substr(0, kMagic.size()) != kMagic) {
    return absl::InvalidArgumentError("protobuf body does not start with the \"k8s\\0\" magic");
  }
  std::string api_version, kind, encoding;
  std::string_view raw;
  WireReader envelope(body.substr(kMagic.size()));
  while (auto f = envelope.Next()) {
    if (f->wire_type != 2) continue;
    if (f->number == 1) {
      WireReader type_meta(f->bytes);
      while (auto t = type_meta.Next()) {
        if (t->number == 1 && t->wire_type == 2) api_version = std::string(t->bytes);
        if (t->number == 2 && t->wire_type == 2) kind = std::string(t->bytes);
      }
      if (!type_meta.error().empty()) return Malformed("typeMeta", type_meta.error());
    } else if (f->number == 2) {
      raw = f->bytes;
    } else if (f->number == 3) {
      encoding = std::string(f->bytes);
    }
  }
  if (!envelope.error().empty()) return Malformed("runtime.Unknown", envelope.error());
  if (!encoding.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("protobuf body: unsupported contentEncoding \"", encoding, "\""));
  }
  if (api_version.empty() || kind.empty()) {
    return absl::InvalidArgumentError("protobuf body: the envelope has no apiVersion/kind");
  }
  std::string message = proto::MessageForKind(api_version, kind);
  if (message.empty()) {
    return absl::UnimplementedError(absl::StrCat("kubesim cannot decode protobuf for ", api_version,
                                                 "/", kind, "; send JSON instead"));
  }
  auto obj = DecodeMessage(raw, message, 0);
  if (!obj.ok()) return obj.status();
  (*obj)["apiVersion"] = api_version;
  (*obj)["kind"] = kind;
  return obj;
}

}  // namespace remediator::kubesim

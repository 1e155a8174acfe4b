#include "tools/mcp/schema.h"

#include <google/protobuf/descriptor.pb.h>

#include <map>
#include <string_view>

#include "events/domain.h"

namespace leanos::mcp {

std::string_view described_schema();  // the FileDescriptorSet with comments (generated)

namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorProto;
using google::protobuf::EnumDescriptorProto;
using google::protobuf::FieldDescriptor;

std::string one_line(const std::string& text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == ' ' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

// The comments of every message, field, enum and enum value, by full name (an enum value
// under its enum's name), from the source info protoc kept: a location's path walks the file
// (4: a message, 5: an enum), a message (2: a field, 3: a nested message, 4: an enum) and an
// enum (2: a value) by index.
const std::map<std::string, std::string>& comments() {
  static const std::map<std::string, std::string> table = [] {
    std::map<std::string, std::string> out;
    google::protobuf::FileDescriptorSet set;
    const auto bytes = described_schema();
    if (!set.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return out;
    for (const auto& file : set.file()) {
      for (const auto& loc : file.source_code_info().location()) {
        std::string text = one_line(loc.leading_comments() + " " + loc.trailing_comments());
        if (text.empty() || loc.path_size() < 2) continue;
        std::string name = file.package();
        const DescriptorProto* message = nullptr;
        const EnumDescriptorProto* enumeration = nullptr;
        bool whole = true;  // the path names an element (not one of its options or names)
        for (int i = 0; i + 1 < loc.path_size() && whole; i += 2) {
          const int tag = loc.path(i), index = loc.path(i + 1);
          if (enumeration) {
            if (tag != 2 || index >= enumeration->value_size()) whole = false;
            else name += "." + enumeration->value(index).name(), enumeration = nullptr;
          } else if (!message) {
            if (tag == 4 && index < file.message_type_size()) message = &file.message_type(index), name += "." + message->name();
            else if (tag == 5 && index < file.enum_type_size()) enumeration = &file.enum_type(index), name += "." + enumeration->name();
            else whole = false;
          } else if (tag == 3 && index < message->nested_type_size()) {
            message = &message->nested_type(index);
            name += "." + message->name();
          } else if (tag == 4 && index < message->enum_type_size()) {
            enumeration = &message->enum_type(index);
            name += "." + enumeration->name();
          } else if (tag == 2 && index < message->field_size() && i + 2 == loc.path_size()) {
            name += "." + message->field(index).name();
          } else {
            whole = false;
          }
        }
        if (whole && loc.path_size() % 2 == 0) out.emplace(name, text);
      }
    }
    return out;
  }();
  return table;
}

void describe(nlohmann::json& schema, const std::string& full_name) {
  if (auto text = comment_of(full_name); !text.empty()) schema["description"] = text;
}

nlohmann::json message_schema(const Descriptor& type, Way way, int depth);

nlohmann::json scalar_schema(const FieldDescriptor& f, Way way, int depth) {
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT32:
    case FieldDescriptor::CPPTYPE_UINT64: {
      nlohmann::json s = {{"type", "integer"}};
      if (f.cpp_type() == FieldDescriptor::CPPTYPE_UINT32 || f.cpp_type() == FieldDescriptor::CPPTYPE_UINT64) s["minimum"] = 0;
      return s;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT:
      // protobuf's JSON writes what is not a number as a word.
      if (way == Way::output) return {{"anyOf", {{{"type", "number"}}, {{"enum", {"NaN", "Infinity", "-Infinity"}}}}}};
      return {{"type", "number"}};
    case FieldDescriptor::CPPTYPE_BOOL: return {{"type", "boolean"}};
    case FieldDescriptor::CPPTYPE_STRING:
      if (f.type() == FieldDescriptor::TYPE_BYTES) return {{"type", "string"}, {"contentEncoding", "base64"}};
      return {{"type", "string"}};
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto& e = *f.enum_type();
      nlohmann::json values = nlohmann::json::array();
      std::string meanings;
      for (int i = way == Way::input ? 1 : 0; i < e.value_count(); ++i) {
        const auto* v = e.value(i);
        const std::string& name = way == Way::input ? v->name() : word(v);
        values.push_back(name);
        if (auto c = comment_of(e.full_name() + "." + v->name()); !c.empty()) meanings += (meanings.empty() ? "" : "; ") + name + ": " + c;
      }
      nlohmann::json s = {{"type", "string"}, {"enum", values}};
      if (!meanings.empty()) s["description"] = meanings;
      return s;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: return message_schema(*f.message_type(), way, depth - 1);
  }
  return nlohmann::json::object();
}

nlohmann::json message_schema(const Descriptor& type, Way way, int depth) {
  const std::string& name = type.full_name();
  if (name == "google.protobuf.Timestamp")
    return {{"type", "string"}, {"format", "date-time"}, {"description", "RFC 3339, e.g. 2026-03-01T09:30:00Z"}};
  if (name == "google.protobuf.Struct") return {{"type", "object"}};
  if (name == "google.protobuf.Value") return nlohmann::json::object();
  nlohmann::json s = {{"type", "object"}};
  describe(s, name);
  if (depth <= 0) return s;
  nlohmann::json properties = nlohmann::json::object();
  bool open_oneof = false;
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& f = *type.field(i);
    nlohmann::json p;
    if (const auto* oneof = f.real_containing_oneof(); oneof && oneof->field_count() > 8) {
      // One of many payloads (an envelope's), not spelled out sixty times over: the one set is
      // one more property, named as its field (lead_captured, deal_closed, ...), left open.
      if (!open_oneof)
        s["description"] = (s.contains("description") ? s["description"].get<std::string>() + " " : std::string()) + "Its " +
                           oneof->name() + " is one more property, named by its field.";
      open_oneof = true;
      continue;
    }
    if (f.is_map()) {
      p = {{"type", "object"}, {"additionalProperties", scalar_schema(*f.message_type()->map_value(), way, depth)}};
    } else if (f.is_repeated()) {
      p = {{"type", "array"}, {"items", scalar_schema(f, way, depth)}};
    } else {
      p = scalar_schema(f, way, depth);
    }
    if (auto c = comment_of(f.full_name()); !c.empty()) {
      auto own = p.find("description");
      p["description"] = own == p.end() ? c : c + " (" + own->get<std::string>() + ")";
    }
    properties[f.name()] = std::move(p);
  }
  s["properties"] = std::move(properties);
  // A caller's unknown field is refused by the parser, naming it; a view may grow fields.
  if (way == Way::input && !open_oneof) s["additionalProperties"] = false;
  return s;
}

}  // namespace

nlohmann::json schema_of(const Descriptor& type, Way way, int depth) { return message_schema(type, way, depth); }

std::string comment_of(const std::string& full_name) {
  const auto& table = comments();
  auto it = table.find(full_name);
  return it == table.end() ? "" : it->second;
}

}  // namespace leanos::mcp

// The typed views in protobuf's JSON mapping as the README documents it (cli::view_json):
// every field printed, 64-bit integers as numbers, enum values by their word.
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "events/domain.h"
#include "events/time.h"
#include "tools/cli/view_text.h"

namespace leanos::cli {

namespace {

// protobuf's JSON mapping prints 64-bit integers as strings (JavaScript's numbers end at
// 2^53). Ours are dollars, counts and log positions, far below that, and the README's shapes
// have numbers: walk the message's descriptor beside the JSON and turn those back. Enum
// values with a `word` option print as that word ("in_progress", "human-action").
void as_documented(const google::protobuf::Descriptor& type, nlohmann::json& j) {
  using google::protobuf::FieldDescriptor;
  if (!j.is_object()) return;
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& f = *type.field(i);
    auto it = j.find(f.name());
    if (it == j.end()) continue;
    auto convert = [&](nlohmann::json& v, const FieldDescriptor& field) {
      if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        as_documented(*field.message_type(), v);
      } else if (v.is_string() && field.cpp_type() == FieldDescriptor::CPPTYPE_INT64) {
        v = std::stoll(v.get<std::string>());
      } else if (v.is_string() && field.cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
        v = std::stoull(v.get<std::string>());
      } else if (v.is_string() && field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
        if (const auto* value = field.enum_type()->FindValueByName(v.get<std::string>())) v = word(value);
      }
    };
    if (f.is_map()) {
      for (auto& [key, value] : it->items()) convert(value, *f.message_type()->map_value());
    } else if (f.is_repeated()) {
      for (auto& v : *it) convert(v, f);
    } else {
      convert(*it, f);
    }
  }
}

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

nlohmann::json message_json(const Message& m);

// A Timestamp as protobuf's JSON mapping writes it: RFC 3339 in UTC, with 0, 3, 6 or 9
// fractional digits.
std::string timestamp_json(const Message& m) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  const std::int64_t seconds = r->GetInt64(m, d->FindFieldByNumber(1));
  const std::int32_t nanos = r->GetInt32(m, d->FindFieldByNumber(2));
  std::string out = format_time(seconds * kMicrosPerSecond);  // YYYY-MM-DDThh:mm:ssZ (whole seconds)
  out.pop_back();
  char fraction[16] = "";
  if (nanos % 1'000'000 == 0 && nanos) std::snprintf(fraction, sizeof fraction, ".%03d", nanos / 1'000'000);
  else if (nanos % 1'000 == 0 && nanos) std::snprintf(fraction, sizeof fraction, ".%06d", nanos / 1'000);
  else if (nanos) std::snprintf(fraction, sizeof fraction, ".%09d", nanos);
  return out + fraction + "Z";
}

nlohmann::json number_json(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  // Whole numbers without ".0", as protobuf prints them (1, not 1.0).
  if (std::trunc(v) == v && std::fabs(v) < 9007199254740992.0) return static_cast<std::int64_t>(v);
  return v;
}

// One value of a field (index -1: a singular field).
nlohmann::json value_json(const Message& m, const Reflection& r, const FieldDescriptor& f, int index) {
  const bool one = index < 0;
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: return one ? r.GetInt32(m, &f) : r.GetRepeatedInt32(m, &f, index);
    case FieldDescriptor::CPPTYPE_INT64: return one ? r.GetInt64(m, &f) : r.GetRepeatedInt64(m, &f, index);
    case FieldDescriptor::CPPTYPE_UINT32: return one ? r.GetUInt32(m, &f) : r.GetRepeatedUInt32(m, &f, index);
    case FieldDescriptor::CPPTYPE_UINT64: return one ? r.GetUInt64(m, &f) : r.GetRepeatedUInt64(m, &f, index);
    case FieldDescriptor::CPPTYPE_DOUBLE: return number_json(one ? r.GetDouble(m, &f) : r.GetRepeatedDouble(m, &f, index));
    case FieldDescriptor::CPPTYPE_FLOAT: return number_json(one ? r.GetFloat(m, &f) : r.GetRepeatedFloat(m, &f, index));
    case FieldDescriptor::CPPTYPE_BOOL: return one ? r.GetBool(m, &f) : r.GetRepeatedBool(m, &f, index);
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* value = one ? r.GetEnum(m, &f) : r.GetRepeatedEnum(m, &f, index);
      return word(value);
    }
    case FieldDescriptor::CPPTYPE_STRING: return one ? r.GetString(m, &f) : r.GetRepeatedString(m, &f, index);  // bytes: see printed_by_protobuf
    case FieldDescriptor::CPPTYPE_MESSAGE: return message_json(one ? r.GetMessage(m, &f) : r.GetRepeatedMessage(m, &f, index));
  }
  return nullptr;
}

// A view as protobuf's JSON mapping prints it with field names kept and every field shown,
// but built by reflection straight into the JSON tree the CLI and the API print (a large
// queue printed by protobuf, then parsed back to sort map keys and turn 64-bit integers into
// numbers, took longer than the query itself). Well-known types other than Timestamp (the
// Struct of a generic event) and messages with bytes (base64) or floats (printed at float
// precision) go through protobuf's printer.
bool printed_by_protobuf(const google::protobuf::Descriptor& d) {
  if (d.file()->package() == "google.protobuf") return true;
  for (int i = 0; i < d.field_count(); ++i)
    if (d.field(i)->type() == FieldDescriptor::TYPE_BYTES || d.field(i)->type() == FieldDescriptor::TYPE_FLOAT) return true;
  return false;
}

nlohmann::json message_json(const Message& m) {
  const auto* d = m.GetDescriptor();
  if (d->full_name() == "google.protobuf.Timestamp") return timestamp_json(m);
  if (printed_by_protobuf(*d)) {
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    options.always_print_primitive_fields = true;
    std::string out;
    if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) return nullptr;
    auto j = nlohmann::json::parse(out);
    as_documented(*d, j);
    return j;
  }
  const auto& r = *m.GetReflection();
  nlohmann::json out = nlohmann::json::object();
  for (int i = 0; i < d->field_count(); ++i) {
    const FieldDescriptor& f = *d->field(i);
    if (f.is_map()) {
      nlohmann::json map = nlohmann::json::object();
      const auto* key = f.message_type()->map_key();
      const auto* value = f.message_type()->map_value();
      for (int k = 0, n = r.FieldSize(m, &f); k < n; ++k) {
        const Message& entry = r.GetRepeatedMessage(m, &f, k);
        const auto& er = *entry.GetReflection();
        nlohmann::json key_json = value_json(entry, er, *key, -1);
        map[key_json.is_string() ? key_json.get<std::string>() : key_json.dump()] = value_json(entry, er, *value, -1);
      }
      out[f.name()] = std::move(map);
    } else if (f.is_repeated()) {
      nlohmann::json list = nlohmann::json::array();
      for (int k = 0, n = r.FieldSize(m, &f); k < n; ++k) list.push_back(value_json(m, r, f, k));
      out[f.name()] = std::move(list);
    } else if (f.has_presence() ? r.HasField(m, &f) : true) {
      out[f.name()] = value_json(m, r, f, -1);
    }
  }
  return out;
}

}  // namespace

nlohmann::json message_view_json(const google::protobuf::Message& message) { return message_json(message); }

nlohmann::json view_tree(const v1::QueryReply& r) {
  const google::protobuf::Message* view = nullptr;
  switch (r.view_case()) {
    case v1::QueryReply::kCanvas: view = &r.canvas(); break;
    case v1::QueryReply::kGoal: view = &r.goal(); break;
    case v1::QueryReply::kMetrics: view = &r.metrics(); break;
    case v1::QueryReply::kOpportunities: view = &r.opportunities(); break;
    case v1::QueryReply::kToday: view = &r.today(); break;
    case v1::QueryReply::kPipeline: view = &r.pipeline(); break;
    case v1::QueryReply::kDeals: view = &r.deals(); break;
    case v1::QueryReply::kDeal: view = &r.deal(); break;
    case v1::QueryReply::kCampaign: view = &r.campaign(); break;
    case v1::QueryReply::kAudit: view = &r.audit(); break;
    case v1::QueryReply::kWhyCanvas: view = &r.why_canvas(); break;
    case v1::QueryReply::kCampaignContact: view = &r.campaign_contact(); break;
    case v1::QueryReply::kDocuments: view = &r.documents(); break;
    case v1::QueryReply::kSegments: view = &r.segments(); break;
    case v1::QueryReply::kFiles: view = &r.files(); break;
    case v1::QueryReply::kFileLog: view = &r.file_log(); break;
    case v1::QueryReply::kScenarios: view = &r.scenarios(); break;
    case v1::QueryReply::VIEW_NOT_SET: return nlohmann::json::object();
  }
  return message_json(*view);
}

std::string view_json(const v1::QueryReply& r) { return view_tree(r).dump() + "\n"; }

nlohmann::json whatif_tree(const v1::WhatIfReply& reply) {
  nlohmann::json j;
  j["reality"] = view_tree(reply.reality());
  j["branch"] = view_tree(reply.branch());
  j["differences"] = nlohmann::json::array();
  for (const auto& d : reply.differences()) j["differences"].push_back({{"path", d.path()}, {"reality", d.reality()}, {"branch", d.branch()}});
  j["events_left_out"] = reply.events_left_out();
  j["events_added"] = reply.events_added();
  if (reply.has_scenario()) j["scenario"] = message_json(reply.scenario());
  if (reply.has_saved()) j["saved"] = message_json(reply.saved());
  return j;
}

}  // namespace leanos::cli

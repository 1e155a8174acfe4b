// The server's side of errors: a Status as a grpc::Status (a rule's rejection with its id,
// parameters and hint in a google.rpc.ErrorInfo), and the bound of one reply's events.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstddef>

#include "events/result.h"
#include "store/event_store.h"

namespace leanos::cli {

// The most event bytes one reply (ReadAll, ReadStream, a subscription page) carries: with
// the framing it stays below a client's default 4 MiB receive limit, and since no event
// exceeds store::kMaxEventBytes (1 MiB), every event fits in a reply of its own.
constexpr std::size_t kMaxReplyEventBytes = 3 << 20;
static_assert(store::kMaxEventBytes <= kMaxReplyEventBytes);

grpc::Status to_grpc(const Status& s);

}  // namespace leanos::cli

// How the server reads a request off the wire (included by the generated api.grpc.pb.h, see
// proto/CMakeLists.txt). gRPC's protobuf default answers a request that does not parse with
// INTERNAL and an empty message; a client that sent bad bytes (or a string that is not
// UTF-8, which proto3 refuses) deserves INVALID_ARGUMENT naming what could not be read.
//
// gRPC 1.51's generated unary handlers deserialize through grpc::protobuf::MessageLite, not
// the concrete request type, so this is the specialization for MessageLite: the same code as
// gRPC's own (GenericSerialize / GenericDeserialize), with the status of a failed parse
// replaced. (Subscribe, a callback streaming method, answers UNIMPLEMENTED for a request that
// does not parse whatever the traits say: the server reads that one itself, see server.cpp.)
#pragma once

#include <grpcpp/impl/codegen/proto_buffer_reader.h>
#include <grpcpp/impl/codegen/proto_buffer_writer.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include <string>

template <>
class grpc::SerializationTraits<grpc::protobuf::MessageLite, void> {
 public:
  static grpc::Status Serialize(const grpc::protobuf::MessageLite& msg, grpc::ByteBuffer* bb, bool* own_buffer) {
    return grpc::GenericSerialize<grpc::ProtoBufferWriter, grpc::protobuf::MessageLite>(msg, bb, own_buffer);
  }
  static grpc::Status Deserialize(grpc::ByteBuffer* buffer, grpc::protobuf::MessageLite* msg) {
    auto s = grpc::GenericDeserialize<grpc::ProtoBufferReader, grpc::protobuf::MessageLite>(buffer, msg);
    if (s.ok()) return s;
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "cannot read the request as " + msg->GetTypeName() +
                ": its bytes are not that protobuf message, or one of its strings is not UTF-8 (proto3 strings must be)"};
  }
};

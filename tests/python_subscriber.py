#!/usr/bin/python3
"""A subscriber written in another language: Python with Debian's python3-grpcio.

Usage: python_subscriber.py PYTHON_OUT_DIR HOST:PORT NAME COUNT
Subscribes as the named subscription NAME to ActionStarted events, acknowledges each, and
prints "position stream action" for COUNT events. The message classes come from
`protoc --python_out` (generated at build time); the calls use grpcio's generic API, so no
grpc_tools plugin is needed.
"""
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from leanos.v1 import api_pb2  # noqa: E402

address, name, count = sys.argv[2], sys.argv[3], int(sys.argv[4])
channel = grpc.insecure_channel(address)
subscribe = channel.unary_stream(
    "/leanos.v1.Ledger/Subscribe",
    request_serializer=api_pb2.SubscribeRequest.SerializeToString,
    response_deserializer=api_pb2.SubscribePage.FromString,
)
ack = channel.unary_unary(
    "/leanos.v1.Ledger/Ack",
    request_serializer=api_pb2.AckRequest.SerializeToString,
    response_deserializer=api_pb2.AckResponse.FromString,
)
stream = subscribe(api_pb2.SubscribeRequest(name=name, types=["ActionStarted"]))
seen = 0
for page in stream:  # a page holds every matching event the server had ready
    for event in page.events:
        print(event.position, event.stream, event.action_started.action, flush=True)
        ack(api_pb2.AckRequest(name=name, position=event.position))
        seen += 1
        if seen == count:
            break
    if seen == count:
        stream.cancel()
        break

#!/usr/bin/python3
"""A service in another language branching on rule ids: Python with Debian's python3-grpcio.

Usage: python_rules.py PYTHON_OUT_DIR HOST:PORT
Sends domain commands that break rules (on the seed's workspace, where deal acme-corp is in
stage 5 and A4 is in the canvas) and prints, per command, "code rule key=value..." read from
the google.rpc.Status in the `grpc-status-details-bin` trailer, then the message. No text is
parsed to find the rule.
"""
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from google.rpc import error_details_pb2, status_pb2  # noqa: E402
from leanos.v1 import api_pb2, domain_pb2, events_pb2  # noqa: E402

channel = grpc.insecure_channel(sys.argv[2])
command = channel.unary_unary(
    "/leanos.v1.Ledger/Command",
    request_serializer=api_pb2.CommandRequest.SerializeToString,
    response_deserializer=api_pb2.AppendResponse.FromString,
)


def send(name, envelope):
    try:
        command(api_pb2.CommandRequest(command=envelope))
        print(name, "accepted")
        return
    except grpc.RpcError as e:
        details = dict(e.trailing_metadata() or ()).get("grpc-status-details-bin")
        if details is None:
            print(name, e.code().name, "no details")
            return
        status = status_pb2.Status.FromString(details)
        for any_detail in status.details:
            info = error_details_pb2.ErrorInfo()
            if any_detail.Unpack(info):
                params = " ".join(f"{k}={v}" for k, v in sorted(info.metadata.items()) if k != "hint")
                print(name, e.code().name, info.domain, info.reason, params)
        print("  message:", e.details())


e = events_pb2.Envelope()
e.lead_captured.deal_id = "zeta"
e.lead_captured.company = "Zeta"
e.lead_captured.segment = "enterprise"
e.lead_captured.source = domain_pb2.INBOUND
e.lead_captured.contact.name = "Zoe"
e.lead_captured.contact.email = "zoe@zeta.example"
e.lead_captured.signal = "asked for a demo"
send("open", e)

e = events_pb2.Envelope()
e.decision_made.deal_id = "zeta"
e.decision_made.verdict = domain_pb2.QUALIFY
e.decision_made.reason = "looks good"
e.decision_made.impact = 0.5
send("skip", e)

e = events_pb2.Envelope()
e.hypothesis_stated.deal_id = "zeta"
e.hypothesis_stated.assumption_id = "A99"
e.hypothesis_stated.confidence = 50
send("unknown", e)

e = events_pb2.Envelope()
e.hypothesis_stated.deal_id = "zeta"
e.hypothesis_stated.assumption_id = "A4"
e.hypothesis_stated.confidence = 50
send("hypothesis", e)

e = events_pb2.Envelope()
e.implication_assessed.deal_id = "zeta"
e.implication_assessed.arr_low = 100000
e.implication_assessed.arr_high = 200000
e.implication_assessed.strategic = domain_pb2.HIGH
e.implication_assessed.priority = 0.9
send("implication", e)

e = events_pb2.Envelope()
e.decision_made.deal_id = "zeta"
e.decision_made.verdict = domain_pb2.QUALIFY
e.decision_made.reason = "big and strategic"
e.decision_made.impact = 0.9
send("decide", e)

e = events_pb2.Envelope()
e.action_started.deal_id = "zeta"
e.action_started.action = "sales:lead-intake"
send("unapproved", e)

#!/usr/bin/python3
"""A service in another language reading typed views: Python with Debian's python3-grpcio.

Usage: python_query.py PYTHON_OUT_DIR HOST:PORT AS_OF
Asks the Query RPC for the canvas, a goal, the morning report and the pipeline as of AS_OF,
and prints one "name value" line per field it read: the C++ test compares them with what
the CLI's --json says for the same queries. No text is parsed: every value is a field.
"""
import sys

sys.path.insert(0, sys.argv[1])
import grpc  # noqa: E402
from leanos.v1 import domain_pb2, options_pb2, query_pb2  # noqa: E402

address, as_of = sys.argv[2], sys.argv[3]
channel = grpc.insecure_channel(address)
query = channel.unary_unary(
    "/leanos.v1.Ledger/Query",
    request_serializer=query_pb2.QueryRequest.SerializeToString,
    response_deserializer=query_pb2.QueryReply.FromString,
)


def ask(**kwargs):
    return query(query_pb2.QueryRequest(as_of=as_of, **kwargs))


def word(enum, value):
    """The word the CLI prints for an enum value: the schema's own `word` option."""
    return enum.DESCRIPTOR.values_by_number[value].GetOptions().Extensions[options_pb2.word]


canvas = ask(canvas=query_pb2.CanvasQuery())
assert canvas.WhichOneof("view") == "canvas", canvas
for a in canvas.canvas.assumptions:
    print("assumption", a.id, a.confidence, word(domain_pb2.AssumptionStatus, a.status))
print("customers", canvas.canvas.metrics.customers)
print("mrr", canvas.canvas.metrics.mrr)

goal = ask(goal=query_pb2.GoalQuery(goal_id="g-mrr-50k")).goal
print("goal", goal.id, goal.current, goal.target, goal.met)
print("risk", word(domain_pb2.GoalRisk, goal.trajectory.risk))
for m in goal.milestones:
    print("milestone", m.percent, m.reached_at.ToJsonString())

today = ask(today=query_pb2.TodayQuery()).today
print("today", today.as_of.ToJsonString(), len(today.goals), len(today.queue.approvals))

pipeline = ask(pipeline=query_pb2.PipelineQuery()).pipeline
for d in pipeline.deals:
    print("open", d.deal_id, word(domain_pb2.Stage, d.stage), d.next_action)

# Closed sets are enums: filter with one, branch on one, and read the word the CLI prints
# from the schema's own option.
deals = ask(deals=query_pb2.DealListQuery(status=domain_pb2.DEAL_OPEN)).deals
for d in deals.deals:
    assert d.status in (domain_pb2.DEAL_OPEN, domain_pb2.DEAL_STALLED), d
    print("deal", d.deal_id, word(domain_pb2.DealStatus, d.status))

# A rejection is a status with the reason.
try:
    ask(goal=query_pb2.GoalQuery(goal_id="no-such-goal"))
    print("no error")
except grpc.RpcError as e:
    print("error", e.code().name)

"""Sends raw bytes to a leanos server method, as a hostile client would, and prints
'<STATUS CODE>|<details>'. Usage: raw_client.py ADDRESS METHOD HEX-BYTES [stream|bidi]
(bidi: the bytes go twice, as two messages, and each reply follows as '|' and its hex)."""
import sys

import grpc

address, method, payload = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
mode = sys.argv[4] if len(sys.argv) > 4 else ""
with grpc.insecure_channel(address) as channel:
    try:
        replies = []
        if mode == "stream":
            call = channel.unary_stream(method)(payload, timeout=10)
            for _ in call:
                pass
        elif mode == "bidi":
            for reply in channel.stream_stream(method)(iter([payload, payload]), timeout=10):
                replies.append(reply.hex())
        else:
            channel.unary_unary(method)(payload, timeout=10)
        print("OK|" + "|".join(replies))
    except grpc.RpcError as e:
        print(f"{e.code().name}|{e.details()}")

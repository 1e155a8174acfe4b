"""Sends raw bytes to a leanos server method, as a hostile client would, and prints
'<STATUS CODE>|<details>'. Usage: raw_client.py ADDRESS METHOD HEX-BYTES [stream]"""
import sys

import grpc

address, method, payload = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
streaming = len(sys.argv) > 4 and sys.argv[4] == "stream"
with grpc.insecure_channel(address) as channel:
    try:
        if streaming:
            call = channel.unary_stream(method)(payload, timeout=10)
            for _ in call:
                pass
        else:
            channel.unary_unary(method)(payload, timeout=10)
        print("OK|")
    except grpc.RpcError as e:
        print(f"{e.code().name}|{e.details()}")

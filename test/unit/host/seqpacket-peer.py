#!/usr/bin/env python3
# The far end of a SOCK_SEQPACKET socket for the LinuxHost test, playing
# conmon: listens on argv[1], prints "listening", sends two packets to the
# client, then reads nothing until a line arrives on stdin (so the client's
# socket fills up), then reads every packet until the client's EOF, prints
# "<packets> <bytes>" and closes.
import os, socket, sys

path = sys.argv[1]
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind(path)
srv.listen(1)
print('listening', flush=True)
conn, _ = srv.accept()
conn.send(b'\x02hello')
conn.send(b'\x03oops')
sys.stdin.readline()
packets = total = 0
while True:
    p = conn.recv(65536)
    if not p:
        break
    packets += 1
    total += len(p)
print(packets, total, flush=True)
conn.close()

"""A stand-in for systemd's notification socket: binds a unix datagram socket and prints each message received, one per line.

usage: /usr/bin/python3 notify-socket.py PATH
Prints "listening" once bound.
"""
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    print(s.recv(4096).decode().replace("\n", " | "), flush=True)

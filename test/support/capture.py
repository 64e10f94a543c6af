"""Captures every frame on every interface of the namespace it runs in (AF_PACKET, as root) into a file until SIGTERM.

usage: /usr/bin/python3 capture.py OUTFILE [--without-vxlan]
--without-vxlan leaves out VXLAN frames (UDP 4789): the guests' own traffic on their segments.
Run in the namespace that holds a LAN's bridge: its ports see every frame the bridge forwards
(the bridge device itself only those sent to it). Prints "capturing" once the socket is open.
The file holds the frames' bytes back to back: tests search it for secrets.
"""
import signal
import socket
import sys

path = sys.argv[1]
without_vxlan = "--without-vxlan" in sys.argv[2:]


def vxlan(frame):
    # Ethernet (14) + IPv4 header (IHL words) + UDP destination port 4789
    if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
        return False
    ihl = (frame[14] & 0x0F) * 4
    return int.from_bytes(frame[14 + ihl + 2:14 + ihl + 4], "big") == 4789

s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(0x0003))
s.settimeout(0.2)
out = open(path, "wb")
stop = False


def done(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, done)
print("capturing", flush=True)
while not stop:
    try:
        frame = s.recv(65535)
        if not (without_vxlan and vxlan(frame)):
            out.write(frame)
    except socket.timeout:
        pass
out.close()

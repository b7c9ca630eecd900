#!/usr/bin/python3
"""A non-browser Sluice participant for end-to-end tests, built on aiortc.

It speaks the signalling protocol of docs/signalling.md like the web
client: joins a room, answers every offer (publishing a 440 Hz tone and a
moving 320x240 test picture on the offer's publish mids), and counts the
decoded video and audio frames it receives from each remote participant,
attributing streams by mid through the offer's tracks[]. It prints one JSON
line and exits 0 once every remote participant (at least
--expect-peer-count of them) delivered --frames video frames and some
audio; on timeout or a fatal error it prints what it reached and exits 1.
With --hold it stays in the meeting once it got there: it prints the line
(with "holding": true) and leaves only when its standard input closes, then
prints a final line; a driver running many participants (big.mjs) keeps
everyone in the meeting until all have decoded everyone.

Only Debian 12 packages: python3-aiortc (1.4), python3-websockets (10.4),
python3-av and python3-numpy (pulled in by aiortc). Run it with
/usr/bin/python3 so a pyenv or venv interpreter does not shadow them.

    aiortc_peer.py --ws ws://127.0.0.1:8080/ws --room NAME --name aiortc
                   [--frames 100] [--timeout-s 90] [--expect-peer-count 1]
                   [--hold] [--width 320 --height 240 --fps 30]
"""

import argparse
import asyncio
import fractions
import ipaddress
import json
import re
import sys
import time

import aioice.ice
import av
import numpy
import websockets
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack, MediaStreamError, VideoStreamTrack

SAMPLE_RATE = 48000
SAMPLES_PER_FRAME = 960  # 20 ms


class ToneTrack(AudioStreamTrack):
    """A 440 Hz sine at 48 kHz mono, paced in real time, 20 ms a frame."""

    def __init__(self):
        super().__init__()
        self._sent = 0
        self._start = None

    async def recv(self):
        if self._start is None:
            self._start = time.monotonic()
        else:
            wait = self._start + self._sent / SAMPLE_RATE - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        n = numpy.arange(self._sent, self._sent + SAMPLES_PER_FRAME)
        pcm = (numpy.sin(2 * numpy.pi * 440 * n / SAMPLE_RATE) * 8000).astype(numpy.int16)
        frame = av.AudioFrame.from_ndarray(pcm.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = self._sent
        frame.time_base = fractions.Fraction(1, SAMPLE_RATE)
        self._sent += SAMPLES_PER_FRAME
        return frame


class PatternTrack(VideoStreamTrack):
    """Frames (320x240 at 30 fps unless told) whose colour and bar position
    change every frame."""

    def __init__(self, width=320, height=240, fps=30):
        super().__init__()
        self._count = 0
        self._size = (height, width)
        self._fps = fps
        self._start = None

    async def next_timestamp(self):
        """Paces frames at --fps on the 90 kHz video clock."""
        if self._start is None:
            self._start = time.monotonic()
        else:
            wait = self._start + self._count / self._fps - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
        return int(self._count * 90000 / self._fps), fractions.Fraction(1, 90000)

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        height, width = self._size
        img = numpy.zeros((height, width, 3), numpy.uint8)
        img[:, :] = ((self._count * 3) % 256, 96, 255 - (self._count * 3) % 256)
        x = (self._count * 4) % width
        img[:, x:x + 16] = 255
        self._count += 1
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = pts
        frame.time_base = time_base
        return frame


def allow_loopback_candidates():
    """aioice never gathers 127.0.0.1; add it so a dataplane that offers a
    loopback candidate is reachable even without another interface."""
    original = aioice.ice.get_host_addresses

    def with_loopback(use_ipv4, use_ipv6):
        addresses = original(use_ipv4, use_ipv6)
        if use_ipv4 and "127.0.0.1" not in addresses:
            addresses.append("127.0.0.1")
        return addresses

    aioice.ice.get_host_addresses = with_loopback


def offers_loopback(sdp):
    for m in re.finditer(r"^a=candidate:\S+ \d+ \S+ \d+ (\S+) ", sdp, re.M):
        try:
            if ipaddress.ip_address(m.group(1)).is_loopback:
                return True
        except ValueError:
            pass
    return False


class Peer:
    def __init__(self, args):
        self.args = args
        self.ws = None
        self.pc = None
        self.meeting = None
        self.participant = None
        self.names = {}  # participant id -> display name
        self.mid_owner = {}  # mid -> participant id (current offer)
        self.video = {}  # participant id -> decoded video frames
        self.audio = {}  # participant id -> decoded audio frames
        self.consumed = set()  # ids of remote tracks being read
        self.tasks = []
        self.outgoing = {"audio": ToneTrack(),
                         "video": PatternTrack(args.width, args.height, args.fps)}
        self.reached = False  # every peer delivered, at some point
        self.finished = asyncio.get_running_loop().create_future()

    def peers(self):
        return sorted(set(self.mid_owner.values()) - {self.participant})

    def label(self, pid):
        name = self.names.get(pid) or ""
        twins = sum(1 for p in self.peers() if (self.names.get(p) or "") == name)
        return name if name and twins == 1 else f"{name or 'guest'}#{pid}"

    def check_done(self):
        peers = self.peers()
        if len(peers) < max(self.args.expect_peer_count, 1):
            return
        if all(self.video.get(p, 0) >= self.args.frames and self.audio.get(p, 0) > 0
               for p in peers) and not self.finished.done():
            self.reached = True
            self.finished.set_result(None)

    def result(self, ok, error=None):
        peers = self.peers()
        return {
            "ok": ok,
            "name": self.args.name,
            "meeting": self.meeting,
            "participant": self.participant,
            "framesDecoded": {self.label(p): self.video.get(p, 0) for p in peers},
            "audioFrames": {self.label(p): self.audio.get(p, 0) for p in peers},
            "error": error,
        }

    async def consume(self, track, mid):
        counts = self.video if track.kind == "video" else self.audio
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            owner = self.mid_owner.get(mid)
            if owner is not None:
                counts[owner] = counts.get(owner, 0) + 1
                self.check_done()

    def start_consumers(self):
        for t in self.pc.getTransceivers():
            track = t.receiver.track if t.receiver else None
            if track is None or t.mid is None or track.id in self.consumed:
                continue
            self.consumed.add(track.id)
            self.tasks.append(asyncio.ensure_future(self.consume(track, t.mid)))

    async def on_offer(self, msg):
        sdp = msg["sdp"]
        if self.pc is None:
            if offers_loopback(sdp):
                allow_loopback_candidates()
            self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.mid_owner = {t["mid"]: t["participant"] for t in msg.get("tracks", [])}
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        publish = msg.get("publish") or {}
        for t in self.pc.getTransceivers():
            for kind in ("audio", "video"):
                if t.mid is not None and t.mid == publish.get(kind) and t.kind == kind:
                    t.direction = "sendonly"
                    if t.sender.track is not self.outgoing[kind]:
                        res = t.sender.replaceTrack(self.outgoing[kind])
                        if asyncio.iscoroutine(res):
                            await res
        self.start_consumers()
        answer = await self.pc.createAnswer()
        await self.pc.setLocalDescription(answer)
        await self.send({"type": "answer", "sdp": self.pc.localDescription.sdp,
                         "version": msg["version"]})
        self.check_done()

    async def send(self, obj):
        await self.ws.send(json.dumps(obj))

    async def receive(self):
        async for raw in self.ws:
            msg = json.loads(raw)
            kind = msg.get("type")
            if kind == "joined":
                self.meeting = msg.get("meeting")
                self.participant = msg.get("participant")
                self.update_names(msg.get("participants"))
            elif kind == "participants":
                self.update_names(msg.get("participants"))
            elif kind == "offer":
                await self.on_offer(msg)
            elif kind == "error":
                print(f"aiortc_peer: server error {msg.get('code')}: {msg.get('message')}",
                      file=sys.stderr)
                if msg.get("fatal") or self.meeting is None:
                    raise RuntimeError(f"server error {msg.get('code')}")
            elif kind == "left":
                return
        raise RuntimeError("the server closed the connection")

    def update_names(self, participants):
        for p in participants or []:
            self.names[p.get("id")] = p.get("name") or ""

    async def run(self):
        async with websockets.connect(self.args.ws, subprotocols=["sluice-v1"],
                                      max_size=1 << 20, ping_interval=None) as ws:
            self.ws = ws
            join = {"type": "join", "room": self.args.room}
            if self.args.name:
                join["name"] = self.args.name
            await self.send(join)
            receiver = asyncio.ensure_future(self.receive())
            self.tasks.append(receiver)
            stdin_closed = asyncio.ensure_future(self.stdin_eof()) if self.args.hold else None
            if stdin_closed:
                self.tasks.append(stdin_closed)
            waits = [receiver, self.finished] + ([stdin_closed] if stdin_closed else [])
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if receiver.done():
                receiver.result()  # raises why it stopped
                raise RuntimeError("left before media arrived")
            if not self.finished.done():
                raise RuntimeError("told to leave before media arrived")
            if stdin_closed:
                # Everyone has it: say so, and stay until told to leave.
                print(json.dumps(dict(self.result(True), holding=True)), flush=True)
                await asyncio.wait([receiver, stdin_closed], return_when=asyncio.FIRST_COMPLETED)
                if receiver.done():
                    receiver.result()
                    raise RuntimeError("the meeting ended while holding")
            await self.send({"type": "leave"})
            try:
                await asyncio.wait_for(receiver, 5)
            except (asyncio.TimeoutError, RuntimeError, websockets.ConnectionClosed):
                pass

    async def stdin_eof(self):
        """Returns once standard input is closed (--hold)."""
        reader = asyncio.StreamReader()
        loop = asyncio.get_running_loop()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        while await reader.read(4096):
            pass

    async def close(self):
        for task in self.tasks:
            if not task.done():
                task.cancel()
            elif not task.cancelled():
                task.exception()  # already reported, or moot once leaving
        if self.pc is not None:
            await self.pc.close()


async def main(args):
    peer = Peer(args)
    ok, error = False, None
    try:
        await asyncio.wait_for(peer.run(), args.timeout_s)
        ok = True
    except asyncio.TimeoutError:
        error = f"timed out after {args.timeout_s} s"
    except Exception as e:  # report any failure as JSON
        error = f"{type(e).__name__}: {e}"
    print(json.dumps(peer.result(ok, error)), flush=True)
    await peer.close()
    return 0 if ok else 1


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ws", required=True, help="signalling URL, e.g. ws://127.0.0.1:8080/ws")
    ap.add_argument("--room", required=True)
    ap.add_argument("--name", default="aiortc")
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--timeout-s", type=float, default=90)
    ap.add_argument("--expect-peer-count", type=int, default=1,
                    help="remote publishers that must deliver media (default 1)")
    ap.add_argument("--hold", action="store_true",
                    help="once done, stay in the meeting until standard input closes")
    ap.add_argument("--width", type=int, default=320, help="published video width")
    ap.add_argument("--height", type=int, default=240, help="published video height")
    ap.add_argument("--fps", type=float, default=30, help="published video frame rate")
    return ap.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))

"""Real judge servers for the remote-backend tests, and a fault-injecting proxy.

``JudgeServer`` runs llama-cpp-python's OpenAI-compatible server on 127.0.0.1 with a
packaged model. ``FaultProxy`` sits between the backend and such a server and plays
a fixed script of faults, one per request, then passes requests through: the
faults a real server cannot produce on demand, deterministically, on loopback.
"""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pytest_llmjudge.backends.models import resolve


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class JudgeServer:
    """``python -m llama_cpp.server`` with a packaged model, as a child process."""

    def __init__(self, model: str = "smollm2-135m", alias: str = "judge", threads: int = 1,
                 startup_timeout: float = 90.0) -> None:
        self.port = free_port()
        self.alias = alias
        self.url = f"http://127.0.0.1:{self.port}/v1"
        path = resolve(model).path  # type: ignore[union-attr]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(path),
             "--model_alias", alias, "--host", "127.0.0.1", "--port", str(self.port),
             "--n_ctx", "2048", "--n_threads", str(threads)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"judge server exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"judge server on {self.url} did not start in {startup_timeout}s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


HTML_PAGE = b"<html><body><h1>Welcome to nginx!</h1></body></html>"


def _chat_completion(content: str,
                     logprobs: list[tuple[str, float, list[tuple[str, float]]]] | None = None,
                     ) -> bytes:
    choice: dict[str, Any] = {"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": content}}
    if logprobs is not None:
        choice["logprobs"] = {"content": [
            {"token": token, "logprob": logprob, "bytes": None,
             "top_logprobs": [{"token": t, "logprob": p, "bytes": None} for t, p in tops]}
            for token, logprob, tops in logprobs]}
    return json.dumps({
        "id": "fake", "object": "chat.completion", "created": 0, "model": "judge",
        "choices": [choice],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
    }).encode()


class FaultProxy:
    """Plays ``script`` (one fault per request), then forwards to ``upstream``.

    Faults: "401", "429", "500", "503" (that status, JSON error body); "stall" (hold the
    request for ``stall_seconds`` without answering); "drop" (send half a reply and
    close the connection); "html" (200 with an HTML page); "shape" (a well-formed
    chat completion whose content is valid JSON of the wrong shape); "nologprobs" (forward,
    then strip the logprobs from the reply, like a server that ignores the request);
    "slowstream" (headers promising 100,000 bytes, then one byte a second until stopped);
    "chunked" (a chunked reply whose last chunk is cut short, then the connection closed);
    "echokey" (a chat completion whose content quotes the request's Authorization
    header); "errorkey" (a 400 whose error message quotes it); "escapedkey" (a valid
    NO whose reason spells the key as \\uXXXX escapes); "overflow" (a YES whose top
    logprob is 1000); "huge" (a NO with a 2,000,000-character reason); "pass". Every request body
    is kept in ``bodies``.
    Faults listed in ``always`` repeat forever once the script is used up.
    """

    def __init__(self, upstream: str | None, script: Iterable[str] = (), always: str = "pass",
                 stall_seconds: float = 30.0) -> None:
        self.upstream = upstream
        self.script = list(script)
        self.always = always
        self.stall_seconds = stall_seconds
        self.requests: list[str] = []
        self.bodies: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:
                self._forward(b"")

            def do_POST(self) -> None:
                with proxy._lock:
                    proxy.in_flight += 1
                    proxy.max_in_flight = max(proxy.max_in_flight, proxy.in_flight)
                try:
                    self._post()
                finally:
                    with proxy._lock:
                        proxy.in_flight -= 1

            def _post(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with proxy._lock:
                    proxy.bodies.append(json.loads(body or b"{}"))
                fault = proxy._next_fault()
                if fault == "401":
                    # Like real providers, echo the key that was refused.
                    key = self.headers.get("Authorization", "").removeprefix("Bearer ")
                    self._reply(401, json.dumps({"error": {
                        "message": f"Incorrect API key provided: {key}",
                        "type": "invalid_request_error"}}).encode())
                elif fault in ("429", "500", "503"):
                    self._reply(int(fault), b'{"error": {"message": "injected ' +
                                fault.encode() + b'", "type": "server_error"}}')
                elif fault == "stall":
                    proxy._release.wait(proxy.stall_seconds)
                    self.close_connection = True
                elif fault == "drop":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "500")
                    self.end_headers()
                    self.wfile.write(b'{"id": "half')
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif fault == "slowstream":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    while not proxy._release.wait(1.0):
                        try:
                            self.wfile.write(b" ")
                            self.wfile.flush()
                        except OSError:
                            break
                    self.close_connection = True
                elif fault == "chunked":
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    self.wfile.write(b"40\r\n" + b'{"id": "cut", "choices": [')
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                elif fault == "echokey":
                    header = self.headers.get("Authorization", "")
                    self._reply(200, _chat_completion(f"I saw your header: {header}"))
                elif fault == "errorkey":
                    header = self.headers.get("Authorization", "")
                    self._reply(400, json.dumps({"error": {
                        "message": f"bad request from {header}",
                        "type": "invalid_request_error"}}).encode())
                elif fault == "escapedkey":
                    # Valid JSON whose reason spells the key with \uXXXX escapes only.
                    # Its fields are the ones the request's reply schema asks for.
                    header = self.headers.get("Authorization", "")
                    spelled = "".join(f"\\u{ord(c):04x}" for c in header)
                    asked = json.loads(body or b"{}").get("response_format") or {}
                    fields = ((asked.get("json_schema") or {}).get("schema") or {}).get(
                        "properties") or {"answer": {}, "reason": {}}
                    content = ", ".join(
                        '"answer": "NO"' if name == "answer" else f'"{name}": "saw {spelled}"'
                        for name in fields)
                    self._reply(200, _chat_completion("{" + content + "}"))
                elif fault == "overflow":
                    # A logprob no probability has: exp(1000) overflows a float.
                    self._reply(200, _chat_completion(
                        '{"answer": "YES", "reason": "ok"}', logprobs=[
                            ('{"answer": "', -0.01, []), ("YES", 1000.0, [("YES", 1000.0)])]))
                elif fault == "huge":
                    self._reply(200, _chat_completion(json.dumps(
                        {"answer": "NO", "reason": "x" * 2_000_000})))
                elif fault == "html":
                    self._reply(200, HTML_PAGE, "text/html")
                elif fault == "shape":
                    self._reply(200, _chat_completion('{"verdict": true}'))
                else:
                    self._forward(body, strip_logprobs=fault == "nologprobs")

            def _reply(self, status: int, body: bytes,
                       content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _forward(self, body: bytes, strip_logprobs: bool = False) -> None:
                if proxy.upstream is None:
                    self._reply(502, b'{"error": {"message": "no upstream"}}')
                    return
                host = proxy.upstream.split("//", 1)[1].split("/", 1)[0]
                connection = http.client.HTTPConnection(host, timeout=120)
                try:
                    connection.request(self.command, self.path, body=body or None,
                                       headers={"Content-Type": "application/json"})
                    upstream = connection.getresponse()
                    payload = upstream.read()
                except OSError:
                    self._reply(502, b'{"error": {"message": "upstream unreachable"}}')
                    return
                finally:
                    connection.close()
                if strip_logprobs and upstream.status == 200:
                    reply = json.loads(payload)
                    for choice in reply.get("choices", []):
                        choice.pop("logprobs", None)
                    payload = json.dumps(reply).encode()
                self._reply(upstream.status, payload,
                            upstream.getheader("Content-Type", "application/json"))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _next_fault(self) -> str:
        with self._lock:
            fault = self.script.pop(0) if self.script else self.always
            self.requests.append(fault)
            return fault

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()

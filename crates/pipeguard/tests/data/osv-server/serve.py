"""A tiny OSV mirror for tests/db_fetch.rs: serves a directory on 127.0.0.1
with HTTP Range support (Python's http.server has none), logs each request
with its Range header, and can cut one file's first transfer halfway.

usage: serve.py ROOT LOG PORT_FILE [CUT_PATH]
"""
import http.server
import os
import socket
import sys
import urllib.parse

root = os.path.realpath(sys.argv[1])
log = sys.argv[2]
port_file = sys.argv[3]
cut = sys.argv[4] if len(sys.argv) > 4 else ""
cut_done = set()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = urllib.parse.unquote(self.path.split("?")[0]).lstrip("/")
        full = os.path.realpath(os.path.join(root, path))
        rng = self.headers.get("Range")
        with open(log, "a") as f:
            f.write(f"GET /{path} {rng or '-'}\n")
        if not full.startswith(root + os.sep) or not os.path.isfile(full):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        with open(full, "rb") as f:
            data = f.read()
        start = 0
        if rng and rng.startswith("bytes="):
            start = int(rng[len("bytes="):].split("-")[0] or 0)
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/octet-stream")
        self.end_headers()
        if cut and path == cut and cut not in cut_done:
            cut_done.add(cut)
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(body)


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()

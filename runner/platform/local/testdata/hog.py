"""A service for the local platform's tests: GET /alloc makes it hold 200 MiB,
GET /worker starts a child process that tries to; anything else answers ok."""
import http.server
import subprocess
import sys

held = []


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/alloc":
            held.append(b"x" * (200 << 20))
        elif self.path == "/worker":
            subprocess.run([sys.executable, "-c", 'b = b"x" * (200 << 20)'])
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok\n")

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()

"A web server on 127.0.0.1 for download tests (never the internet), with well-behaved and misbehaving routes."
import contextlib, http.server, threading, time

class Handler(http.server.BaseHTTPRequestHandler):
    """Serves `routes[path]`. A path prefix picks a behaviour:
    `/drop/X` promises X, sends half and hangs up; `/trickle/X` sends X one byte every `pause` seconds;
    `/slowheaders/X` sends even the status line that way; `/stall/X` accepts and never answers."""
    routes, hits, pause, stop = {}, [], 0.25, threading.Event()
    def log_message(self, *args): pass

    def _drip(self, raw):
        for b in raw:
            if self.stop.is_set(): return
            self.wfile.write(bytes([b])); self.wfile.flush(); time.sleep(self.pause)

    def do_GET(self):
        Handler.hits.append(self.path)
        mode, _, rest = self.path.lstrip('/').partition('/')
        body = Handler.routes.get('/' + rest if mode in ('drop', 'trickle', 'slowheaders', 'stall') else self.path)
        with contextlib.suppress(ConnectionError):
            if mode == 'stall':
                self.stop.wait(30); return
            if body is None: return self.send_error(404)
            if mode == 'slowheaders':
                return self._drip(b'HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n' % len(body) + body)
            self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
            if mode == 'drop': self.wfile.write(body[:len(body) // 2]); self.wfile.flush(); self.close_connection = True
            elif mode == 'trickle': self._drip(body)
            else: self.wfile.write(body)

@contextlib.contextmanager
def serve(routes):
    "Serve `routes` (`{'/name': bytes}`) on a free local port; yield the base URL."
    Handler.routes, Handler.stop = dict(routes), threading.Event()
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    srv.daemon_threads = True
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    try: yield f'http://127.0.0.1:{srv.server_port}'
    finally:
        Handler.stop.set(); srv.shutdown(); srv.server_close()

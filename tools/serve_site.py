#!/usr/bin/env python3
"""Serve the built docs site (`_site/`, from tools/build_site.sh) under the `/course_lib/` prefix.

    python tools/serve_site.py [--root _site] [--port 8000] [--host 127.0.0.1]

nbdev writes absolute links (`/course_lib/data.html#get_data`) and docs/_config.yml has
`baseurl: /course_lib/`, so the site only works under that prefix: `/course_lib/X` is served from
`_site/X`, `/` redirects to `/course_lib/`, and pretty URLs without `.html` (`/course_lib/data`) are
served from `data.html`. Standard library only; binds 127.0.0.1 by default. Port 0 picks a free port
(the chosen URL is printed on the first line of stdout).
"""
import argparse, configparser, functools, http.server, os, posixpath, sys, urllib.parse
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def site_prefix(repo=REPO):
    "The URL prefix the site is published under: `doc_baseurl` from settings.ini (default `/course_lib/`)."
    cfg = configparser.ConfigParser()
    cfg.read(repo / 'settings.ini')
    base = cfg.get('DEFAULT', 'doc_baseurl', fallback='/course_lib/')
    return '/' + base.strip('/') + '/'


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    prefix = '/course_lib/'
    quiet = False
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
                      '.woff2': 'font/woff2', '.woff': 'font/woff', '.ttf': 'font/ttf', '.svg': 'image/svg+xml'}

    def _redirect(self, location):
        self.send_response(301)
        self.send_header('Location', location)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def send_head(self):
        url = urllib.parse.urlsplit(self.path)
        path = url.path
        if path in ('', '/') or path == self.prefix.rstrip('/'):
            self._redirect(self.prefix)
            return None
        if not path.startswith(self.prefix):
            self.send_error(404, f'Not under {self.prefix}')
            return None
        # pretty URLs: /course_lib/data -> data.html (a directory with an index.html wins)
        rel = urllib.parse.unquote(path[len(self.prefix):])
        fs = Path(self.translate_path(path))
        if rel and not rel.endswith('/') and not fs.exists() and fs.with_name(fs.name + '.html').is_file():
            self.path = path + '.html' + (('?' + url.query) if url.query else '')
        return super().send_head()

    def translate_path(self, path):
        path = urllib.parse.urlsplit(path).path
        if path.startswith(self.prefix): path = '/' + path[len(self.prefix):]
        return super().translate_path(path)

    def list_directory(self, path):
        self.send_error(404, 'No index.html here (directory listings are off)')
        return None

    def end_headers(self):
        self.send_header('Cache-Control', 'no-store')
        super().end_headers()

    def log_message(self, fmt, *args):
        if not self.quiet: super().log_message(fmt, *args)


def make_server(root, host='127.0.0.1', port=0, prefix=None, quiet=False):
    "A ThreadingHTTPServer serving `root` under `prefix`; call .serve_forever() (e.g. in a thread)."
    root = Path(root)
    if not (root / 'index.html').is_file():
        raise FileNotFoundError(f'{root}/index.html not found: build the site first (bash tools/build_site.sh)')
    handler = type('Handler', (SiteHandler,), {'prefix': prefix or site_prefix(), 'quiet': quiet})
    srv = http.server.ThreadingHTTPServer((host, port), functools.partial(handler, directory=str(root)))
    srv.prefix = handler.prefix
    srv.url = f'http://{srv.server_address[0]}:{srv.server_address[1]}{handler.prefix}'
    return srv


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--root', default=str(REPO / '_site'), help='built site folder (default: _site)')
    p.add_argument('--host', default='127.0.0.1')
    p.add_argument('--port', type=int, default=8000, help='0 = any free port')
    p.add_argument('--quiet', action='store_true', help='no request log')
    a = p.parse_args(argv)
    try: srv = make_server(a.root, a.host, a.port, quiet=a.quiet)
    except (FileNotFoundError, OSError) as e: sys.exit(f'serve_site: {e}')
    print(f'Serving {a.root} at {srv.url}  (Ctrl-C to stop)', flush=True)
    try: srv.serve_forever()
    except KeyboardInterrupt: pass
    finally: srv.server_close()


if __name__ == '__main__':
    main()

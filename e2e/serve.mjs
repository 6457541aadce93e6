// A static file server for the built site (dist/), on 127.0.0.1 only.
// Usage: node serve.mjs [port] [dir] [base-path] [/mount/=dir ...]
// With a base path (e.g. /tinyeval/), the site is served under it, as on a
// static host that publishes it in a sub-folder. Each extra `/mount/=dir`
// serves another folder under the base path (the tests serve their fixtures so).
// TINYEVAL_SERVE_ISOLATED=1 adds the cross-origin isolation headers (COOP/COEP)
// that wasm threads (SharedArrayBuffer) need; bench_anchors.mjs sets it.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const port = Number(process.argv[2] ?? 8123);
const root = path.resolve(process.argv[3] ?? path.join(import.meta.dirname, '..', 'dist'));
const base = process.argv[4] ?? '/';
const mounts = process.argv.slice(5).map((arg) => {
  const [prefix, dir] = arg.split('=');
  return { prefix: prefix.replace(/^\/|\/$/g, '') + '/', dir: path.resolve(dir) };
});

const isolated = process.env.TINYEVAL_SERVE_ISOLATED === '1';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.wasm': 'application/wasm',
  '.json': 'application/json',
  '.jsonl': 'application/jsonl',
  '.yaml': 'text/yaml; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.safetensors': 'application/octet-stream',
  '.gguf': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
};

http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    if (!url.pathname.startsWith(base)) {
      res.writeHead(404).end('not found');
      return;
    }
    let rel = decodeURIComponent(url.pathname.slice(base.length));
    if (rel === '' || rel.endsWith('/')) rel += 'index.html';
    let dir = root;
    for (const m of mounts) {
      if (rel.startsWith(m.prefix)) {
        dir = m.dir;
        rel = rel.slice(m.prefix.length);
        break;
      }
    }
    const file = path.join(dir, rel);
    if (!file.startsWith(dir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    // Content-Length, as static hosts send it: the page checks a model's size before its body.
    const headers = { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'content-length': fs.statSync(file).size };
    if (isolated) {
      headers['cross-origin-opener-policy'] = 'same-origin';
      headers['cross-origin-embedder-policy'] = 'require-corp';
      headers['cross-origin-resource-policy'] = 'same-origin';
    }
    res.writeHead(200, headers);
    fs.createReadStream(file).pipe(res);
  })
  .listen(port, '127.0.0.1', () => console.log(`serving ${root} at http://127.0.0.1:${port}${base}`));

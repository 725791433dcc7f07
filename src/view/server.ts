/**
 * `poselift view RESULT.json [--port P] [--save page.html]`: a local three.js page showing the 3D
 * skeletons of a poselift/1 result in camera space (timeline, orbit controls, camera frustum) beside the
 * photo / video frame with the 2D keypoints. The server (node:http) binds 127.0.0.1 and serves only a
 * fixed set of paths: the page, three.js from node_modules, the result and its source media (videos with
 * HTTP Range support, so a <video> element seeks to each frame's time). The page makes no other request.
 * `--save` writes the same page as one self-contained HTML file (three.js, the result and photos inlined;
 * for a video only the 2D keypoints, over a black frame).
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { PACKAGE_ROOT } from '../util/paths.js';
import { writeFileAtomic } from '../util/atomic.js';
import { readResult } from '../formats/doc.js';
import type { PoseliftDoc } from '../contracts/document.js';

const VIEWER_DIR = path.join(PACKAGE_ROOT, 'viewer');

/** three's build folder and OrbitControls, resolved the way Node resolves the dependency. */
function threeFiles(): { module: string; core: string; orbit: string } {
  const require = createRequire(import.meta.url);
  const build = path.dirname(require.resolve('three'));
  return {
    module: path.join(build, 'three.module.js'),
    core: path.join(build, 'three.core.js'),
    orbit: path.join(build, '..', 'examples', 'jsm', 'controls', 'OrbitControls.js'),
  };
}

const MIME: Record<string, string> = {
  '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.png': 'image/png', '.webp': 'image/webp', '.gif': 'image/gif',
  '.bmp': 'image/bmp', '.avif': 'image/avif', '.mp4': 'video/mp4', '.m4v': 'video/mp4', '.mov': 'video/quicktime',
  '.webm': 'video/webm', '.mkv': 'video/x-matroska', '.ogv': 'video/ogg',
};
const mimeOf = (f: string) => MIME[path.extname(f).toLowerCase()] ?? 'application/octet-stream';

/** Where the result's source file is: as written, else relative to the result's folder. */
function locate(p: string, resultFile: string): string | null {
  for (const c of [path.resolve(p), path.resolve(path.dirname(resultFile), p), path.resolve(path.dirname(resultFile), path.basename(p))]) {
    if (fs.existsSync(c)) return c;
  }
  return null;
}

export interface MediaFiles {
  kind: 'image' | 'images' | 'video' | 'none';
  /** one file (image, video) or one per frame (images; null where missing) */
  files: (string | null)[];
  note?: string;
}

export function mediaFiles(doc: PoseliftDoc, resultFile: string): MediaFiles {
  const kind = doc.input?.kind;
  if (kind === 'image' || kind === 'video') {
    const f = locate(doc.input.path, resultFile);
    return f ? { kind, files: [f] } : { kind: 'none', files: [], note: `the ${kind} ${doc.input.path} was not found (showing the 2D keypoints only)` };
  }
  if (kind === 'images') {
    const dir = locate(doc.input.path, resultFile);
    if (!dir) return { kind: 'none', files: [], note: `the folder ${doc.input.path} was not found (showing the 2D keypoints only)` };
    return { kind: 'images', files: doc.frames.map((f) => (f.file && fs.existsSync(path.join(dir, f.file)) ? path.join(dir, f.file) : null)) };
  }
  return { kind: 'none', files: [] };
}

const esc = (s: string) => s.replace(/[<>&]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function page(imports: Record<string, string>, data: unknown, viewerScript: string): string {
  const tpl = fs.readFileSync(path.join(VIEWER_DIR, 'index.html'), 'utf8');
  return tpl
    .replace('<!--IMPORTMAP-->', () => `<script type="importmap">${esc(JSON.stringify({ imports }))}</script>`)
    .replace('<!--DATA-->', () => `<script id="poselift-data" type="application/json">${esc(JSON.stringify(data))}</script>`)
    .replace('<!--VIEWER-->', () => viewerScript);
}

function title(doc: PoseliftDoc, resultFile: string): string {
  return `${path.basename(resultFile)}: ${doc.input?.kind ?? '?'} ${path.basename(doc.input?.path ?? '')}, ${doc.frames.length} frame(s)${doc.fps > 0 ? ` at ${doc.fps} fps` : ''}, camera fx ${doc.camera.fx}`;
}

/** The page as one self-contained HTML file. */
export function staticPage(resultFile: string): { html: string; note?: string } {
  const doc = readResult(resultFile);
  const m = mediaFiles(doc, resultFile);
  const t = threeFiles();
  const js = (src: string) => `data:text/javascript;base64,${Buffer.from(src).toString('base64')}`;
  const moduleSrc = fs.readFileSync(t.module, 'utf8').replaceAll("'./three.core.js'", "'three-core'");
  const imports = {
    three: js(moduleSrc),
    'three-core': js(fs.readFileSync(t.core, 'utf8')),
    'three/addons/controls/OrbitControls.js': js(fs.readFileSync(t.orbit, 'utf8')),
  };
  const dataUrl = (f: string) => `data:${mimeOf(f)};base64,${fs.readFileSync(f).toString('base64')}`;
  let media: unknown = { kind: 'none' };
  let note = m.note;
  if (m.kind === 'image') media = { kind: 'image', url: dataUrl(m.files[0]!) };
  else if (m.kind === 'images' && m.files.every(Boolean)) media = { kind: 'images', urls: m.files.map((f) => dataUrl(f!)) };
  else if (m.kind === 'video') note = 'videos are not embedded: the saved page shows the 2D keypoints over a black frame';
  const viewer = `<script type="module">\n${fs.readFileSync(path.join(VIEWER_DIR, 'viewer.js'), 'utf8').replace(/<\/script/gi, '<\\/script')}\n</script>`;
  return { html: page(imports, { doc, media, title: title(doc, resultFile) }, viewer), note };
}

export interface ViewServer {
  url: string;
  server: http.Server;
  close: () => Promise<void>;
}

/**
 * The served page of one result and the files it requests, under the URL prefix `base` (ending in "/"):
 * `poselift view` serves them at "/", `poselift serve` at "/v1/jobs/<id>/view/" (src/serve).
 */
export interface ViewerAssets {
  doc: PoseliftDoc;
  html: string;
  /** URL path -> [file, content type] */
  files: Record<string, [string, string]>;
  note?: string;
}

export function viewerAssets(resultFile: string, base = '/'): ViewerAssets {
  const doc = readResult(resultFile);
  const m = mediaFiles(doc, resultFile);
  const t = threeFiles();
  const media =
    m.kind === 'image' || m.kind === 'video' ? { kind: m.kind, url: `${base}media/0${path.extname(m.files[0]!).toLowerCase()}` }
      : m.kind === 'images' ? { kind: 'images', urls: m.files.map((f, i) => (f ? `${base}media/${i}${path.extname(f).toLowerCase()}` : '')) }
        : { kind: 'none' };
  const imports = { three: `${base}vendor/three.module.js`, 'three/addons/controls/OrbitControls.js': `${base}vendor/OrbitControls.js` };
  const html = page(imports, { doc, media, title: title(doc, resultFile) }, `<script type="module" src="${base}viewer.js"></script>`);
  const files: Record<string, [string, string]> = {
    [`${base}vendor/three.module.js`]: [t.module, 'text/javascript'],
    [`${base}vendor/three.core.js`]: [t.core, 'text/javascript'],
    [`${base}vendor/OrbitControls.js`]: [t.orbit, 'text/javascript'],
    [`${base}viewer.js`]: [path.join(VIEWER_DIR, 'viewer.js'), 'text/javascript'],
  };
  m.files.forEach((f, i) => { if (f) files[`${base}media/${i}${path.extname(f).toLowerCase()}`] = [f, mimeOf(f)]; });
  return { doc, html, files, note: m.note };
}

/** Serve the viewer of one result on 127.0.0.1:port (0 = any free port). */
export async function startViewServer(resultFile: string, port = 0): Promise<ViewServer & { note?: string }> {
  const { doc, html, files, note } = viewerAssets(resultFile);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const send = (code: number, type: string, body: string | Buffer) => {
      res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed');
    if (url.pathname === '/' || url.pathname === '/index.html') return send(200, 'text/html; charset=utf-8', html);
    if (url.pathname === '/result.json') return send(200, 'application/json', JSON.stringify(doc));
    const f = files[url.pathname];
    if (!f) return send(404, 'text/plain', 'not found');
    let size: number;
    try { size = fs.statSync(f[0]).size; } catch { return send(404, 'text/plain', 'not found'); }
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? '');
    if (range && (range[1] || range[2])) {
      let start = range[1] ? Number(range[1]) : size - Number(range[2]);
      let end = range[1] && range[2] ? Number(range[2]) : size - 1;
      start = Math.max(0, start); end = Math.min(size - 1, end);
      if (start > end) {
        res.writeHead(416, { 'content-range': `bytes */${size}` });
        return res.end();
      }
      res.writeHead(206, { 'content-type': f[1], 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}`, 'accept-ranges': 'bytes' });
      if (req.method === 'HEAD') return res.end();
      return fs.createReadStream(f[0], { start, end }).pipe(res);
    }
    res.writeHead(200, { 'content-type': f[1], 'content-length': size, 'accept-ranges': 'bytes', 'cache-control': 'no-store' });
    if (req.method === 'HEAD') return res.end();
    fs.createReadStream(f[0]).pipe(res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new Error(err.code === 'EADDRINUSE' ? `view: port ${port} on 127.0.0.1 is in use; pick another with --port or pass --port 0 for any free one` : `view: cannot listen on 127.0.0.1:${port}: ${err.message}`)));
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${addr.port}/`,
    server,
    note,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

export async function viewCommand(result: string, o: { port?: number; save?: string }): Promise<void> {
  if (o.save) {
    const { html, note } = staticPage(result);
    if (note) process.stderr.write(`view: ${note}\n`);
    writeFileAtomic(o.save, html);
    process.stderr.write(`view: wrote ${o.save} (${(html.length / 1e6).toFixed(1)} MB, self-contained)\n`);
    return;
  }
  const s = await startViewServer(result, o.port ?? 0);
  if (s.note) process.stderr.write(`view: ${s.note}\n`);
  process.stdout.write(`poselift view: ${s.url} (${path.basename(result)}; Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => { void s.close().then(resolve); };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

/**
 * `poselift view` (src/view, viewer/): Debian's Chromium (playwright-core, headless, no GPU, a fresh
 * profile) against the real CLI on real results (the bundled sample photo; a 20-frame video made here
 * with ffmpeg from a Human3.6M photo, kept in a temp folder): the page loads with no console error and no
 * request leaves 127.0.0.1, the 3D canvas is not blank (pixels of a screenshot), and moving the timeline
 * changes it. Also the `--save` single-file page, opened from disk. Skipped only without /usr/bin/chromium.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { PoseliftDoc } from '../../src/app/run.js';
import { chromiumSkip, CHROMIUM, CLI, REPO, requireChromium } from '../helpers.js';
import { makeSampleResults } from '../fixtures.js';

const skip = chromiumSkip();
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

let tmp = '';
let photoFile = '';
let videoFile = '';
let video: PoseliftDoc;
let ctx: BrowserContext | undefined;
const servers: ChildProcess[] = [];

before(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'poselift-view-'));
  ({ photoFile, videoFile, video } = await makeSampleResults(tmp));
  if (skip) return;
  requireChromium();
  ctx = await chromium.launchPersistentContext(mkdtempSync(path.join(tmp, 'profile-')), {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1200, height: 700 },
  });
});
after(async () => {
  await ctx?.close();
  for (const s of servers) s.kill('SIGTERM');
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Start `poselift view` and return the URL it prints. */
async function serve(result: string): Promise<string> {
  const p = spawn(process.execPath, [CLI, 'view', result, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(p);
  let err = '';
  p.stderr!.on('data', (d) => { err += d; });
  return await new Promise<string>((resolve, reject) => {
    p.stdout!.on('data', (d) => { const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(String(d)); if (m) resolve(m[0]); });
    p.on('exit', (code) => reject(new Error(`poselift view exited ${code}: ${err}`)));
  });
}

interface Watched { page: Page; errors: string[]; external: string[] }
async function open(url: string, allowed: (u: string) => boolean): Promise<Watched> {
  const page = await ctx!.newPage();
  const errors: string[] = [];
  const external: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('request', (r) => { if (!allowed(r.url())) external.push(r.url()); });
  await page.goto(url);
  await page.waitForFunction(() => (window as unknown as { poselift?: { ready: boolean } }).poselift?.ready === true, null, { timeout: 60_000 });
  return { page, errors, external };
}

/** Screenshot of the 3D panel as raw RGB. */
async function shot3d(page: Page): Promise<{ data: Buffer; width: number; height: number }> {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const png = await page.locator('#view3d').screenshot();
  const { data, info } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Fraction of pixels far from the background colour #15181d, and of pixels that differ between two shots. */
function notBackground(img: { data: Buffer }): number {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 3) {
    if (Math.abs(img.data[i] - 0x15) + Math.abs(img.data[i + 1] - 0x18) + Math.abs(img.data[i + 2] - 0x1d) > 60) n++;
  }
  return n / (img.data.length / 3);
}
function changed(a: { data: Buffer }, b: { data: Buffer }): number {
  let n = 0;
  for (let i = 0; i < a.data.length; i += 3) {
    if (Math.abs(a.data[i] - b.data[i]) + Math.abs(a.data[i + 1] - b.data[i + 1]) + Math.abs(a.data[i + 2] - b.data[i + 2]) > 30) n++;
  }
  return n / (a.data.length / 3);
}

/** Pixels of the skeleton colour (person 1: #4fc3f7 and its lighter left side) in the 3D panel. */
function skeletonPixels(img: { data: Buffer }): number {
  let n = 0;
  for (let i = 0; i < img.data.length; i += 3) {
    const [r, g, b] = [img.data[i], img.data[i + 1], img.data[i + 2]];
    if (b > 150 && b - r > 40 && g > 100) n++;
  }
  return n;
}

test('view: a video result in Chromium: no console error, canvas drawn, the timeline moves the skeleton and the video', { skip }, async () => {
  const url = await serve(videoFile);
  const origin = new URL(url).origin;
  const { page, errors, external } = await open(url, (u) => u.startsWith(origin) || u.startsWith('data:'));
  assert.equal(await page.evaluate(() => (window as any).poselift.frames), video.frames.length);
  const a = await shot3d(page);
  const bg = notBackground(a);
  const skel0 = skeletonPixels(a);
  console.log(`video page: ${(100 * bg).toFixed(1)} % of the 3D panel drawn, ${skel0} skeleton pixels at frame 0`);
  assert.ok(bg > 0.01, `3D panel looks blank: ${(100 * bg).toFixed(2)} % non-background pixels`);
  assert.ok(skel0 > 300, `skeleton pixels ${skel0}`);
  await page.locator('#timeline').fill('19');
  const b = await shot3d(page);
  const diff = changed(a, b);
  console.log(`timeline 0 -> 19: ${(100 * diff).toFixed(2)} % of the 3D panel's pixels changed`);
  assert.ok(diff > 0.001, `moving the timeline changed ${(100 * diff).toFixed(3)} % of the pixels`);
  const state = await page.evaluate(() => ({ frame: (window as any).poselift.frame, t: document.querySelector('video')!.currentTime, label: document.getElementById('frameLabel')!.textContent }));
  assert.equal(state.frame, 19);
  assert.ok(Math.abs(state.t - video.frames[19].time_s!) < 0.02, `video seeked to ${state.t}`);
  assert.match(state.label!, /frame 19 \/ 19/);
  // the video is served with Range support (a <video> element seeks with it)
  const range = await fetch(new URL('/media/0.mp4', url), { headers: { range: 'bytes=0-99' } });
  assert.equal(range.status, 206);
  assert.equal((await range.arrayBuffer()).byteLength, 100);
  assert.equal((await fetch(new URL('/../../etc/passwd', url))).status, 404);
  assert.deepEqual(errors, []);
  assert.deepEqual(external, []);
  await page.close();
});

test('view: the sample photo result shows the photo with its keypoints; --save makes one self-contained page', { skip }, async () => {
  const url = await serve(photoFile);
  const origin = new URL(url).origin;
  const { page, errors, external } = await open(url, (u) => u.startsWith(origin) || u.startsWith('data:'));
  const img = await page.evaluate(() => { const i = document.querySelector('#stage img') as HTMLImageElement; return i.complete ? [i.naturalWidth, i.naturalHeight] : null; });
  const meta = await sharp(path.join(REPO, 'samples', 'person.jpg')).metadata();
  assert.deepEqual(img, [meta.width, meta.height], 'the photo is shown at its size');
  const a = await shot3d(page);
  assert.ok(notBackground(a) > 0.01);
  assert.ok(skeletonPixels(a) > 300);
  assert.deepEqual(errors, []);
  assert.deepEqual(external, []);
  await page.close();

  const saved = path.join(tmp, 'page.html');
  const r = spawnSync(process.execPath, [CLI, 'view', photoFile, '--save', saved], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(statSync(saved).size > 1e6, 'three.js and the photo are inlined');
  const s = await open(pathToFileURL(saved).href, (u) => u.startsWith('data:') || u === pathToFileURL(saved).href);
  const b = await shot3d(s.page);
  assert.ok(notBackground(b) > 0.01);
  assert.ok(skeletonPixels(b) > 300);
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.external, []);
  await s.page.close();
});

test('view: bad inputs give one clear error each', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'poselift-view-bad-'));
  try {
    const fail = (args: string[], re: RegExp) => {
      const r = spawnSync(process.execPath, [CLI, 'view', ...args], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, re);
    };
    fail([path.join(REPO, 'samples', 'camera.json')], /camera\.json: \(top level\) is missing the field "schema"; pass a poselift\/1 document/);
    fail([path.join(dir, 'nope.json'), '--save', path.join(dir, 'p.html')], /nope\.json: does not exist; check the path/);
    // a port that is taken
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const port = (busy.address() as { port: number }).port;
    fail([photoFile, '--port', String(port)], new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use; pick another with --port`));
    busy.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

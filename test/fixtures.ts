/**
 * Real poselift/1 results shared by the export and viewer tests: the bundled sample photo (with its
 * camera), and a 20-frame 10 fps video made here with ffmpeg (a slow zoom and pan over a Human3.6M photo,
 * so the person moves in the image), both lifted with MoveNet Lightning into `dir` (a temp folder).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { runInputs, type PoseliftDoc } from '../src/app/run.js';
import { DATA, MODELS, REPO } from './helpers.js';

export interface SampleResults { photoFile: string; photo: PoseliftDoc; videoFile: string; video: PoseliftDoc }

export async function makeSampleResults(dir: string): Promise<SampleResults> {
  const photoFile = path.join(dir, 'person.poselift.json');
  const [{ doc: photo }] = await runInputs([path.join(REPO, 'samples', 'person.jpg')], {
    models: MODELS, camera: path.join(REPO, 'samples', 'camera.json'), detector: 'movenet-lightning', out: photoFile,
  });
  const clip = path.join(dir, 'clip.mp4');
  const src = path.join(DATA, 'h36m-images', 'images', 'S1_Directions_1.54138969_000001.jpg');
  const ff = spawnSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', src, '-vf',
    "zoompan=z='1+0.01*on':x='iw/2-(iw/zoom/2)+on*3':y='ih/2-(ih/zoom/2)':d=20:s=500x500:fps=10",
    '-frames:v', '20', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', clip]);
  assert.equal(ff.status, 0, ff.stderr?.toString());
  const videoFile = path.join(dir, 'clip.poselift.json');
  const [{ doc: video }] = await runInputs([clip], { models: MODELS, detector: 'movenet-lightning', out: videoFile });
  return { photoFile, photo, videoFile, video };
}

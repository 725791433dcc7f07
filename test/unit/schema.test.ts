/**
 * The poselift/1 document has two descriptions, the TypeScript types (src/contracts/document.ts) and the JSON
 * schema (schema/poselift-1.schema.json): this test holds them to each other. The key lists below are checked
 * against the types by the compiler (`satisfies`: every key, required or optional as the type says, no extra
 * one) and against the schema here (properties, required, enums), so neither can change alone.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { CameraOut, FrameOut, PersonOut, PoseliftDoc } from '../../src/contracts/document.js';
import { DETECTOR_NAMES, type CameraSource } from '../../src/contracts/types.js';
import { LAYOUTS } from '../../src/contracts/layouts.js';
import { REPO } from '../helpers.js';

type Presence<T> = { [K in keyof T]-?: {} extends Pick<T, K> ? 'optional' : 'required' };

const DOC = {
  schema: 'required', joints: 'required', units: 'required', frame: 'required', input: 'required', camera: 'required',
  detector: 'required', models: 'required', fps: 'required', frames: 'required',
} as const satisfies Presence<PoseliftDoc>;
const INPUT = {
  path: 'required', kind: 'required', frames: 'required', width: 'required', height: 'required',
  start_s: 'optional', duration_s: 'optional', source_fps: 'optional',
} as const satisfies Presence<PoseliftDoc['input']>;
const CAMERA = {
  fx: 'required', fy: 'required', cx: 'required', cy: 'required', k: 'optional', p: 'optional',
  width: 'required', height: 'required', source: 'required',
} as const satisfies Presence<CameraOut>;
const DETECTOR = { name: 'required', layout: 'required', flip_test: 'optional', runtime: 'optional' } as const satisfies Presence<PoseliftDoc['detector']>;
const MODELS = { posenet: 'required', rootnet: 'required', keypoint_adapter: 'optional', temporal: 'optional' } as const satisfies Presence<PoseliftDoc['models']>;
const FRAME = { index: 'required', time_s: 'required', file: 'optional', camera: 'optional', people: 'required' } as const satisfies Presence<FrameOut>;
const PERSON = {
  id: 'required', score: 'required', bbox: 'required', keypoints2d: 'required', layout2d: 'required',
  joints3d: 'required', root: 'required', reprojection_px: 'required',
} as const satisfies Presence<PersonOut>;

// enums: each list is typed as the union it must cover (a missing member fails to compile)
const INPUT_KINDS: PoseliftDoc['input']['kind'][] = ['image', 'images', 'video', 'keypoints'];
const CAMERA_SOURCES: CameraSource[] = ['file', 'exif', 'default'];

interface SchemaObject { properties: Record<string, { enum?: unknown[] }>; required?: string[]; additionalProperties?: boolean }

const schema = JSON.parse(fs.readFileSync(path.join(REPO, 'schema', 'poselift-1.schema.json'), 'utf8'));

function agrees(where: string, s: SchemaObject, keys: Record<string, 'required' | 'optional'>): void {
  assert.deepEqual(Object.keys(s.properties).sort(), Object.keys(keys).sort(), `${where}: the schema's properties and the type's keys`);
  assert.deepEqual([...(s.required ?? [])].sort(), Object.keys(keys).filter((k) => keys[k] === 'required').sort(), `${where}: required`);
  assert.equal(s.additionalProperties, false, `${where}: the schema must refuse other keys`);
}

test('poselift/1: the schema and the TypeScript types have the same objects, keys and required keys', () => {
  agrees('document', schema, DOC);
  agrees('input', schema.properties.input, INPUT);
  agrees('camera', schema.definitions.camera, CAMERA);
  agrees('detector', schema.properties.detector, DETECTOR);
  agrees('models', schema.properties.models, MODELS);
  agrees('frame', schema.properties.frames.items, FRAME);
  agrees('person', schema.definitions.person, PERSON);
});

test('poselift/1: the schema\'s enums are the types\' unions (detectors, layouts, input kinds, camera sources)', () => {
  const sorted = (a: unknown[]) => [...a].map(String).sort();
  assert.deepEqual(sorted(schema.properties.detector.properties.name.enum), sorted([...DETECTOR_NAMES, 'keypoints-file']));
  assert.deepEqual(sorted(schema.properties.detector.properties.layout.enum), sorted(Object.keys(LAYOUTS)));
  assert.deepEqual(sorted(schema.definitions.person.properties.layout2d.enum), sorted(Object.keys(LAYOUTS)));
  assert.deepEqual(sorted(schema.properties.input.properties.kind.enum), sorted(INPUT_KINDS));
  assert.deepEqual(sorted(schema.definitions.camera.properties.source.enum), sorted(CAMERA_SOURCES));
});

/**
 * Reading a poselift/1 result for the exporters and the viewer (the shared, schema-validating reader of
 * src/formats/result.ts), and the person tracks in it.
 */
import type { PoseliftDoc, PersonOut } from '../contracts/document.js';

/** Read a result file, validated against schema/poselift-1.schema.json (one error naming the file, the path and the fix). */
export { readResult } from './result.js';

/** Every person id in the document, ascending, with how many frames it was lifted in. */
export function personIds(doc: PoseliftDoc): { id: number; frames: number; lifted: number }[] {
  const m = new Map<number, { id: number; frames: number; lifted: number }>();
  for (const f of doc.frames) {
    for (const p of f.people) {
      const e = m.get(p.id) ?? { id: p.id, frames: 0, lifted: 0 };
      e.frames++;
      if (p.joints3d) e.lifted++;
      m.set(p.id, e);
    }
  }
  return [...m.values()].sort((a, b) => a.id - b.id);
}

/** The person with this id in each frame (null where absent). */
export function personTrack(doc: PoseliftDoc, id: number): (PersonOut | null)[] {
  return doc.frames.map((f) => f.people.find((p) => p.id === id) ?? null);
}

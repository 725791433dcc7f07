/**
 * The OpenAPI 3.1 document of `poselift serve`, written by hand (test/integration/serve.test.ts checks that it lists
 * exactly the routes the server registers, no more, no fewer).
 */
const err = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });
const json = (description: string, schema: object = { type: 'object' }) => ({ description, content: { 'application/json': { schema } } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^[A-Za-z0-9:_-]{1,128}$' } };
const common = { 401: err('missing or wrong bearer token'), 429: err('rate limit of this token (or address) reached') };

export function openapiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'poselift serve',
      version,
      description: 'Photos, videos and 2D keypoint files -> poselift/1 documents of camera-frame 3D joints (mm), through the BullMQ queue that `poselift worker` processes. Every route needs `Authorization: Bearer <POSELIFT_TOKEN>` (or the dashboard\'s session cookie) when the server has a token; without one it listens on 127.0.0.1 only. Errors are `{"error": code, "message": text}`.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, cookie: { type: 'apiKey', in: 'cookie', name: 'poselift_token' } },
      schemas: {
        Error: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } },
        Options: {
          type: 'object', additionalProperties: false,
          properties: {
            detector: { type: 'string', enum: ['movenet-lightning', 'movenet-thunder', 'movenet-multipose', 'blazepose'] },
            fps: { type: 'number', exclusiveMinimum: 0 }, start: { type: 'number', minimum: 0 }, duration: { type: 'number', exclusiveMinimum: 0 },
            maxPeople: { type: 'integer', minimum: 1 }, segmentSeconds: { type: 'number', minimum: 0 },
            temporal: { type: 'boolean', description: 'false: videos and keypoint files with fps lifted frame by frame by single-frame PoseNet instead of the temporal lifter (default true)' },
            keypoints: {
              type: 'object', additionalProperties: false, required: ['format'],
              properties: {
                format: { type: 'string', enum: ['coco', 'openpose', 'csv'] }, layout: { type: 'string' },
                width: { type: 'integer', minimum: 1 }, height: { type: 'integer', minimum: 1 }, adapter: { type: 'string' },
              },
            },
          },
        },
        Job: {
          type: 'object',
          properties: {
            id: { type: 'string' }, kind: { type: 'string' }, state: { type: 'string' }, input: { type: 'string' },
            progress: { type: 'object', properties: { percent: { type: 'number' }, frames: { type: 'integer' }, total: { type: 'integer' } } },
            attempts: { type: 'integer' }, failed_reason: { type: ['string', 'null'] },
            created: { type: 'string' }, started: { type: ['string', 'null'] }, finished: { type: ['string', 'null'] },
            result: { type: ['string', 'null'] }, viewer: { type: ['string', 'null'] },
          },
        },
      },
    },
    security: [{ bearer: [] }, { cookie: [] }],
    paths: {
      '/': { get: { summary: 'the dashboard (HTML); without a valid token or cookie a sign-in page with status 401', responses: { 200: { description: 'HTML' }, 401: { description: 'sign-in page (HTML)' } } } },
      '/dashboard/{file}': { get: { summary: 'the dashboard\'s scripts and styles', parameters: [{ name: 'file', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'the file' }, 404: err('no such dashboard file'), ...common } } },
      '/v1/session': {
        post: {
          summary: 'sign in the dashboard: checks {"token"} and sets the HttpOnly, SameSite=Strict cookie `poselift_token`', security: [],
          requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['token'], properties: { token: { type: 'string' } } } } } },
          responses: { 204: { description: 'signed in' }, 400: err('no token in the body'), ...common },
        },
      },
      '/v1/health': { get: { summary: 'Redis reachable, job counts, live workers', responses: { 200: json('healthy'), 503: err('Redis does not answer'), ...common } } },
      '/v1/workers': { get: { summary: 'the live workers (heartbeat within 15 s)', responses: { 200: json('workers', { type: 'array', items: { type: 'object' } }), 503: err('Redis does not answer'), ...common } } },
      '/v1/openapi.json': { get: { summary: 'this document', responses: { 200: json('OpenAPI 3.1'), ...common } } },
      '/v1/jobs': {
        get: {
          summary: 'recent jobs, newest first (segments of split videos are not listed)',
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
            { name: 'state', in: 'query', schema: { type: 'string', enum: ['active', 'waiting', 'waiting-children', 'delayed', 'prioritized', 'completed', 'failed'] } },
          ],
          responses: { 200: json('jobs', { type: 'array', items: { $ref: '#/components/schemas/Job' } }), 400: err('bad query'), ...common },
        },
        post: {
          summary: 'queue a job: a multipart upload (file part `file`: a photo, video or keypoint file, its type sniffed from its bytes; optional file part `camera`: intrinsics JSON; optional field `options`: JSON Options), or JSON {"path", "camera"?, "options"?} with paths under the server\'s input root',
          requestBody: {
            required: true,
            content: {
              'multipart/form-data': { schema: { type: 'object', required: ['file'], properties: { file: { type: 'string', format: 'binary' }, camera: { type: 'string', format: 'binary' }, options: { type: 'string', description: 'JSON Options' } } } },
              'application/json': { schema: { type: 'object', required: ['path'], properties: { path: { type: 'string' }, camera: { type: 'string' }, options: { $ref: '#/components/schemas/Options' } } } },
            },
          },
          responses: {
            201: json('queued', { $ref: '#/components/schemas/Job' }), 400: err('bad options, camera or form'), 403: err('path outside the input root, or path inputs off'),
            413: err('file over the size limit (POSELIFT_MAX_INPUT_MB / POSELIFT_MAX_JSON_MB)'), 415: err('the upload is not a supported photo, video or keypoint file'), 503: err('Redis does not answer'), ...common,
          },
        },
      },
      '/v1/jobs/{id}': {
        get: { summary: 'one job: state, progress, failure reason, links', parameters: [idParam], responses: { 200: json('the job', { $ref: '#/components/schemas/Job' }), 404: err('no such job'), ...common } },
        delete: { summary: 'cancel: a queued job is removed; a running one stops at its next frame and fails with "cancelled on request"', parameters: [idParam], responses: { 200: json('removed'), 202: json('the running job was asked to stop'), 404: err('no such job'), 409: err('the job has finished'), ...common } },
      },
      '/v1/jobs/{id}/result': {
        get: {
          summary: 'the poselift/1 document of a completed job; ?format=bvh|csv converts it (src/export); ?file=N picks one document of a folder job',
          parameters: [
            idParam,
            { name: 'format', in: 'query', schema: { type: 'string', enum: ['json', 'bvh', 'csv'] } },
            { name: 'person', in: 'query', schema: { type: 'integer' } }, { name: 'frame', in: 'query', schema: { type: 'integer', minimum: 0 } },
            { name: 'file', in: 'query', schema: { type: 'integer', minimum: 0 } },
          ],
          responses: { 200: { description: 'poselift/1 JSON, BVH or CSV' }, 400: err('bad format, person or frame'), 404: err('no such job'), 409: err('the job has no result (yet)'), 410: err('the result file is gone'), ...common },
        },
      },
      '/v1/jobs/{id}/events': { get: { summary: 'server-sent events: `state` at once, `progress` as the job advances, then `completed`, `failed` or `removed`, and the stream ends', parameters: [idParam], responses: { 200: { description: 'text/event-stream' }, 404: err('no such job'), ...common } } },
      '/v1/jobs/{id}/view/{path}': { get: { summary: 'the 3D viewer of a completed job\'s result (the page at path "", then its scripts and media)', parameters: [idParam, { name: 'path', in: 'path', required: true, schema: { type: 'string' } }], responses: { 200: { description: 'HTML, JavaScript or media' }, 404: err('no such job or file'), 409: err('the job has no single result to view'), ...common } } },
    },
  };
}

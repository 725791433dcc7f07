export { closedFormTranslation, depthSearch, type ClosedFormOptions, type DepthSearchOptions, type DepthSearchResult, type Vec3 } from './depth-search.js';
export { fitFrame, fitSequence, boneLengthTargets, type FitFrame, type FitOptions, type FitResult, type SequenceOptions } from './fitter.js';
export { liftPerson, liftSequence, type LiftInput, type LiftOptions, type LiftSequenceOptions, type LiftResult } from './lift.js';
export { HINGES, hingeSin, CANONICAL_LENGTHS, LENGTH_NAMES, type Hinge } from './skeleton.js';

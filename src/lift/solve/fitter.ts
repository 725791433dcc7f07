/**
 * SMPLify-style fitter of the h36m17 kinematic skeleton to 2D keypoints, with a root-relative 3D pose
 * (PoseNet output) and a root translation (depth search) as priors. Pure math, no allocation per
 * iteration beyond a few small scratch arrays.
 *
 * Parametrisation (per frame): root translation T (3) + one direction per bone (16 unit vectors, each
 * updated on its tangent plane by 2 parameters: d <- normalise(d + a e1 + b e2), re-linearised at every
 * iteration) + 10 bone lengths shared between left and right (symmetric by construction). Joints follow
 * by forward kinematics along H36M17_PARENTS: X_0 = T, X_j = X_parent(j) + L_bone(j) d_j. That is 45
 * parameters per frame (35 in a sequence, where the lengths are fixed per track).
 *
 * Energy (all terms are squared residuals divided by a sigma, i.e. a negative log-likelihood):
 *  E = sum_j c_j rho(|e_j|^2) / pxSigma^2              2D reprojection, e_j = f * (X_j.xy / X_j.z - u_j) px,
 *                                                     Geman-McClure rho(s) = s k^2 / (s + k^2), k = robustPx
 *    + sum_j |(X_j - T) - rel_j|^2 / relSigma_j^2        root-relative pose toward PoseNet's `rel`
 *    + (T_z - T0_z)^2 / depthSigma^2 (+ very weak x, y)  root depth toward the depth search (weak)
 *    + sum_u (L_u - Lt_u)^2 / boneSigma^2                lengths toward rel's, blended with canonical ratios
 *    + sum_hinges max(0, minSin - s)^2 / hingeSigma^2   knees / elbows not bent backwards (skeleton.ts)
 *    + sum_t,j |X_j(t-1) - 2 X_j(t) + X_j(t+1)|^2 / accSigma^2     (sequences only)
 * minimised by Levenberg-Marquardt with analytic Jacobians; the robust term by iteratively reweighted
 * least squares (Gauss-Newton weights rho'(s)), the step accepted on the true robust cost. Gradients are
 * exact (checked against finite differences), including the hinge terms' dependence on the reference axis.
 */
export {
  boneLengthTargets, type FitFrame, type FitOptions, type FitResult, type SequenceOptions,
} from './fitter/problem.js';
export { fitFrame } from './fitter/frame.js';
export { fitSequence } from './fitter/sequence.js';

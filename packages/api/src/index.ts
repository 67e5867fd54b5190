export {
  ACCESS,
  type AccessRule,
  matchAccess,
  type Need,
  type StackFrom,
} from './access';
export { type AppType, createApi, createApp, DEFAULT_MAX_BODY_BYTES } from './app';
export type {
  AppDeps,
  AppEnv,
  ComponentHealth,
  DocsAssets,
  HealthChecks,
  MetricsEndpoint,
} from './deps';
export type { DomainDeps, GitopsDeps } from './domain';
export {
  createErrorHandler,
  type ErrorBody,
  errorBody,
  errorResponse,
  notFoundHandler,
  readJson,
  statusFor,
} from './errors';
export { accessLog } from './middleware/access-log';
export { auditTrail } from './middleware/audit';
export {
  type AccessControlOptions,
  accessControl,
  hasValidApiKey,
  type Principal,
  presentedKeys,
  unauthorized,
} from './middleware/auth';
export {
  authFailureLimit,
  type BucketPolicy,
  clientAddress,
  createFailureLimiter,
  type RateLimitOptions,
} from './middleware/rate-limit';

export { type AppType, createApi, createApp, DEFAULT_MAX_BODY_BYTES } from './app';
export type { AppDeps, AppEnv, ComponentHealth, DocsAssets, HealthChecks } from './deps';
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
export {
  type ApiKeyAuthOptions,
  apiKeyAuth,
  hasValidApiKey,
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
export { processMetrics } from './routes/metrics';

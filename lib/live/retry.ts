import { loadConfig } from "@smithy/core/config";
import { NODE_MAX_ATTEMPT_CONFIG_OPTIONS, StandardRetryStrategy } from "@smithy/core/retry";

/**
 * How reconcile's AWS clients retry, stated rather than inherited: the SDK's standard strategy
 * with its 2026 settings. The numbers are the SDK's (`@smithy/core` 3.41), written down here so the
 * README can promise them; `__tests__/retry.test.ts` fails when an SDK update changes them.
 */
export const RETRY = {
  /** Attempts per call, the first included (`AWS_MAX_ATTEMPTS` or the profile's `max_attempts` override it). */
  maxAttempts: 3,
  /** Retry tokens per client, that is per service and Region: a Region's throttling cannot starve another's retries. */
  quota: 500,
  /** Tokens one retry of a throttled call costs: 100 throttled retries empty a full quota. */
  throttledRetryCost: 5,
  /** Tokens one retry of another transient error (a 5xx, a reset connection) costs. */
  retryCost: 14,
  /** A throttled call waits a random time below 1 s, 2 s, 4 s... (at most 20 s) before each retry. */
  throttlingBaseDelayMs: 1_000,
  /** Another transient error waits below 50 ms, 100 ms, ... */
  baseDelayMs: 50,
} as const;

/**
 * The retry strategy of one client. `maxAttempts` (the API's option) wins; otherwise
 * `AWS_MAX_ATTEMPTS`, the profile's `max_attempts`, or `RETRY.maxAttempts`, as the SDK resolves them.
 * When a call is throttled past its attempts, or the client's quota is spent (the SDK's error "No
 * retry token available"), the call fails: the reader reports it as throttling (`isThrottling`).
 */
export function retryStrategy(maxAttempts?: number): StandardRetryStrategy {
  const fromConfig = loadConfig(NODE_MAX_ATTEMPT_CONFIG_OPTIONS);
  return new StandardRetryStrategy(async () => maxAttempts ?? ((await fromConfig()) || RETRY.maxAttempts));
}

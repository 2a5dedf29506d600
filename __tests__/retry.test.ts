import { describeAwsError, isThrottling, SdkAwsReader } from "../lib/live/aws";
import { RETRY, retryStrategy } from "../lib/live/retry";
import { startFaultProxy } from "./helpers/fault-proxy";
import { emulatorEnv, Moto, startMoto } from "./helpers/moto";

type Strategy = ReturnType<typeof retryStrategy>;
type Token = Awaited<ReturnType<Strategy["acquireInitialRetryToken"]>>;

/** One retry of a call whose previous attempt failed with `errorType`: the next token, or the SDK's refusal. */
async function retry(strategy: Strategy, token: Token, errorType: "THROTTLING" | "TRANSIENT"): Promise<Token | Error> {
  let settled = false;
  const next = strategy
    .refreshRetryTokenForRetry(token, { errorType })
    .catch((error: Error) => error)
    .finally(() => (settled = true));
  // The strategy reads AWS_MAX_ATTEMPTS and the profile (real I/O), then waits its backoff with
  // setTimeout: run the fake clock until it answers.
  while (!settled) {
    await new Promise((resolve) => setImmediate(resolve));
    jest.advanceTimersByTime(1_000);
  }
  return next;
}

describe("reconcile's retry strategy: the SDK's standard strategy with its 2026 settings, as the README states them", () => {
  const saved = process.env.AWS_MAX_ATTEMPTS;
  beforeEach(() => {
    jest.useFakeTimers({ doNotFake: ["nextTick", "setImmediate", "queueMicrotask"] });
    delete process.env.AWS_MAX_ATTEMPTS;
  });
  afterEach(() => {
    jest.useRealTimers();
    if (saved === undefined) delete process.env.AWS_MAX_ATTEMPTS;
    else process.env.AWS_MAX_ATTEMPTS = saved;
  });

  it("makes 3 attempts of a throttled call, waiting below 1 s then below 2 s", async () => {
    const strategy = retryStrategy();
    let token = await strategy.acquireInitialRetryToken("ec2");
    const delays: number[] = [];
    for (let attempt = 1; attempt < RETRY.maxAttempts; attempt++) {
      const next = await retry(strategy, token, "THROTTLING");
      if (next instanceof Error) throw next;
      delays.push(next.$retryLog?.acquisitionDelay ?? Number.NaN);
      token = next;
    }
    expect(delays[0]).toBeLessThan(RETRY.throttlingBaseDelayMs);
    expect(delays[1]).toBeLessThan(2 * RETRY.throttlingBaseDelayMs);
    const refused = await retry(strategy, token, "THROTTLING");
    expect(refused).toBeInstanceOf(Error);
    expect(RETRY.maxAttempts).toBe(3);
  });

  it("gives one client 500 tokens: 100 throttled retries, then 'No retry token available', reported as throttling", async () => {
    const strategy = retryStrategy();
    expect(strategy.getCapacity()).toBe(RETRY.quota);
    for (let call = 0; call < RETRY.quota / RETRY.throttledRetryCost; call++) {
      const next = await retry(strategy, await strategy.acquireInitialRetryToken("ec2"), "THROTTLING");
      expect(next).not.toBeInstanceOf(Error);
    }
    expect(strategy.getCapacity()).toBe(0);
    const refused = await retry(strategy, await strategy.acquireInitialRetryToken("ec2"), "THROTTLING");
    expect(refused).toEqual(new Error("No retry token available"));
    expect(isThrottling(refused)).toBe(true);
    expect(RETRY.quota / RETRY.throttledRetryCost).toBe(100);
  });

  it("charges 14 tokens for another transient error's retry, and waits below 50 ms", async () => {
    const strategy = retryStrategy();
    const next = await retry(strategy, await strategy.acquireInitialRetryToken("ec2"), "TRANSIENT");
    if (next instanceof Error) throw next;
    expect(strategy.getCapacity()).toBe(RETRY.quota - RETRY.retryCost);
    expect(next.$retryLog?.acquisitionDelay).toBeLessThan(RETRY.baseDelayMs);
    // A retried call that then succeeds gives its tokens back.
    strategy.recordSuccess(next);
    expect(strategy.getCapacity()).toBe(RETRY.quota);
  });

  it("takes its attempts from the option, then AWS_MAX_ATTEMPTS, then 3", async () => {
    const attempts = async (strategy: Strategy) => {
      let token = await strategy.acquireInitialRetryToken("ec2");
      for (let made = 1; ; made++) {
        const next = await retry(strategy, token, "TRANSIENT");
        if (next instanceof Error) return made;
        token = next;
      }
    };
    expect(await attempts(retryStrategy())).toBe(3);
    process.env.AWS_MAX_ATTEMPTS = "5";
    expect(await attempts(retryStrategy())).toBe(5);
    expect(await attempts(retryStrategy(2))).toBe(2);
  });
});

describe("the reader when a Region's retry quota runs out (real SDK, throttling from the fault proxy)", () => {
  let moto: Moto;
  beforeAll(async () => {
    moto = await startMoto();
  }, 60_000);
  afterAll(async () => moto?.stop());

  it("fails the calls the quota cannot retry with a throttling error naming the action; another Region's quota is its own", async () => {
    const proxy = await startFaultProxy(moto.endpoint);
    const env = { ...process.env };
    Object.assign(process.env, emulatorEnv(proxy.endpoint), { AWS_MAX_ATTEMPTS: "2" });
    try {
      proxy.throttleNext(10_000);
      const reader = new SdkAwsReader();
      // 120 calls at once, each throttled: 100 retries spend the 500 tokens, the other 20 calls are refused
      // a retry (the SDK then throws the throttling error itself after one attempt).
      const calls = Array.from({ length: 120 }, (_, i) => reader.describeLaunchPermissions("eu-west-1", `ami-${String(i).padStart(17, "0")}`).then(() => undefined, (error: unknown) => error));
      const errors = await Promise.all(calls);
      const attempts = errors.map((e) => (e as { $metadata?: { attempts?: number } }).$metadata?.attempts);
      expect(attempts.filter((n) => n === 2)).toHaveLength(100);
      expect(attempts.filter((n) => n === 1)).toHaveLength(20);
      for (const error of errors) {
        expect(isThrottling(error)).toBe(true);
        expect(describeAwsError(error)).toMatch(/\(throttled on DescribeImageAttribute: the SDK's retries ran out; run again, or with a lower --concurrency\)$/);
      }
      // us-west-2's client has its own quota: its call is retried once, then answered.
      proxy.throttleNext(1);
      await expect(reader.describeEnabledRegions("us-west-2")).resolves.toEqual(expect.arrayContaining(["us-west-2"]));
      expect(reader.stats().calls.DescribeRegions).toBe(1);
      expect(reader.stats().attempts).toBe(100 * 2 + 20 + 2);
    } finally {
      process.env = env;
      await proxy.close();
    }
  }, 60_000);
});

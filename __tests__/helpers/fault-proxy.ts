import * as http from "http";
import { freePort } from "./moto";

/**
 * An HTTP proxy in front of the emulator that injects the faults real AWS produces and moto does
 * not: throttling, access denied for one Region, a Region whose endpoint is down. It is not a
 * client mock: the real SDK makes real requests and the emulator answers the rest.
 */
export interface FaultProxy {
  readonly endpoint: string;
  /** Answer the next `count` requests with RequestLimitExceeded (HTTP 503). */
  throttleNext(count: number): void;
  /** Answer every request signed for this Region with UnauthorizedOperation (HTTP 403). */
  deny(region: string): void;
  /** Close the connection of every request signed for this Region (endpoint down). */
  drop(region: string): void;
  /**
   * Answer every request for one API action (e.g. `DescribeSnapshots`, `GetParameter`) with a fault:
   * `deny` (HTTP 403 UnauthorizedOperation), `empty` (HTTP 200, empty body), `truncated` (HTTP 200,
   * the first half of the real answer), `hang` (accept, never answer). `region` limits it to one Region.
   */
  failAction(action: string, fault: "deny" | "empty" | "truncated" | "hang", region?: string): void;
  /** DescribeSnapshots naming this snapshot fails with InvalidSnapshot.NotFound, as AWS answers for a deleted one. */
  deleteSnapshot(snapshotId: string, options?: { silent?: boolean }): void;
  /** Delay every answer by `ms` (a network round trip to AWS). */
  latency(ms: number): void;
  /**
   * Model EC2's request throttling: a token bucket per Region and action (TOOLCHAIN.md: Describe*
   * 100, refilled 20/s; ModifyImageAttribute and other mutating calls 100, 5/s; CopyImage 100, 1/s;
   * SSM 40, 40/s). A request that finds its bucket empty is answered RequestLimitExceeded (503).
   */
  throttleLikeEc2(): void;
  /**
   * Answer each request RequestLimitExceeded (503) with probability `rate` (0 to 1), drawn from a
   * generator seeded with `seed`: the throttling a busy account sees from everyone else's calls.
   */
  throttleRate(rate: number, seed?: number): void;
  /**
   * Answer a request the emulator has answered before (same Region, URL and body) from those bytes,
   * without asking it again: a benchmark then measures the client, latency and buckets, not the
   * emulator's own serial processing.
   */
  replay(on: boolean): void;
  /** Requests received, by Region. */
  readonly requests: Map<string, number>;
  /** Requests received, by API action (`ModifyImageAttribute`, `GetParameter`, ...). */
  readonly actions: Map<string, number>;
  /** Requests answered RequestLimitExceeded by the modelled buckets. */
  readonly throttled: () => number;
  /** Milliseconds the emulator took to answer, summed over the requests it answered. */
  readonly upstream: () => { totalMs: number; requests: number };
  close(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  let throttle = 0;
  const denied = new Set<string>();
  const dropped = new Set<string>();
  const requests = new Map<string, number>();
  const actions = new Map<string, number>();
  const actionFaults: { action: string; fault: "deny" | "empty" | "truncated" | "hang"; region?: string }[] = [];
  const deletedSnapshots = new Map<string, boolean>();
  const hanging: http.ServerResponse[] = [];
  let delayMs = 0;
  let buckets: TokenBuckets | undefined;
  let randomRate = 0;
  let random = mulberry32(1);
  let throttledCount = 0;
  let replaying = false;
  const recorded = new Map<string, { status: number; headers: http.IncomingHttpHeaders; body: Buffer }>();
  let upstreamMs = 0;
  let upstreamRequests = 0;
  const server = http.createServer((req, res) => {
    const region = /Credential=[^/]+\/\d+\/([^/]+)\//.exec(req.headers.authorization ?? "")?.[1] ?? "unknown";
    requests.set(region, (requests.get(region) ?? 0) + 1);
    const body: Buffer[] = [];
    req.on("data", (chunk) => body.push(chunk));
    req.on("end", () => {
      if (dropped.has(region)) return req.socket.destroy();
      const text = Buffer.concat(body).toString("utf8");
      // Query protocol (EC2): Action=... in the body; JSON protocol (SSM): X-Amz-Target: AmazonSSM.Action.
      const action = /(?:^|&)Action=([A-Za-z]+)/.exec(text)?.[1] ?? String(req.headers["x-amz-target"] ?? "").split(".").pop() ?? "";
      actions.set(action, (actions.get(action) ?? 0) + 1);
      const fault = actionFaults.find((f) => f.action === action && (f.region === undefined || f.region === region));
      if (fault?.fault === "hang") return void hanging.push(res);
      if (fault?.fault === "deny") return ec2Error(res, 403, "UnauthorizedOperation", `You are not authorized to perform ${action}.`);
      if (fault?.fault === "empty") {
        res.writeHead(200, { "content-type": "text/xml" });
        return void res.end();
      }
      if (action === "DescribeSnapshots") {
        const asked = [...text.matchAll(/SnapshotId\.\d+=([\w-]+)/g)].map((m) => m[1]);
        const gone = asked.find((id) => deletedSnapshots.has(id));
        if (gone) return ec2Error(res, 400, "InvalidSnapshot.NotFound", deletedSnapshots.get(gone) ? "" : `The snapshot '${gone}' does not exist.`);
      }
      if (throttle > 0) {
        throttle--;
        return ec2Error(res, 503, "RequestLimitExceeded", "Request limit exceeded.");
      }
      if (randomRate > 0 && random() < randomRate) {
        throttledCount++;
        return ec2Error(res, 503, "RequestLimitExceeded", "Request limit exceeded.");
      }
      if (buckets && !buckets.take(region, action)) {
        throttledCount++;
        return ec2Error(res, 503, "RequestLimitExceeded", "Request limit exceeded.");
      }
      if (denied.has(region)) return ec2Error(res, 403, "UnauthorizedOperation", `You are not authorized to perform this operation in ${region}.`);
      const key = `${region}\0${req.method}\0${req.url}\0${text}`;
      const answerWith = (status: number, headers: http.IncomingHttpHeaders, payload: Buffer) =>
        setTimeout(() => {
          res.writeHead(status, headers);
          res.end(payload);
        }, delayMs);
      const known = replaying ? recorded.get(key) : undefined;
      if (known) return answerWith(known.status, known.headers, known.body);
      const sent = Date.now();
      const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        answer.on("end", () => {
          upstreamMs += Date.now() - sent;
          upstreamRequests++;
        });
        if (fault?.fault === "truncated") {
          const chunks: Buffer[] = [];
          answer.on("data", (c) => chunks.push(c));
          answer.on("end", () => {
            const whole = Buffer.concat(chunks);
            res.writeHead(200, { "content-type": "text/xml" });
            res.end(whole.subarray(0, Math.floor(whole.length / 2)));
          });
          return;
        }
        if (delayMs === 0 && !replaying) {
          res.writeHead(answer.statusCode ?? 500, answer.headers);
          return void answer.pipe(res);
        }
        const chunks: Buffer[] = [];
        answer.on("data", (c) => chunks.push(c));
        answer.on("end", () => {
          const payload = Buffer.concat(chunks);
          const headers = { ...answer.headers };
          delete headers["transfer-encoding"];
          headers["content-length"] = String(payload.length);
          if (answer.statusCode === 200) recorded.set(key, { status: 200, headers, body: payload });
          answerWith(answer.statusCode ?? 500, headers, payload);
        });
      });
      upstream.on("error", () => req.socket.destroy());
      upstream.end(Buffer.concat(body));
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${port}`,
    throttleNext: (count) => (throttle = count),
    deny: (region) => denied.add(region),
    drop: (region) => dropped.add(region),
    failAction: (action, fault, region) => actionFaults.push({ action, fault, region }),
    deleteSnapshot: (snapshotId, options = {}) => deletedSnapshots.set(snapshotId, options.silent === true),
    latency: (ms) => (delayMs = ms),
    replay: (on) => (replaying = on),
    throttleLikeEc2: () => (buckets = new TokenBuckets()),
    throttleRate: (rate, seed = 1) => {
      randomRate = rate;
      random = mulberry32(seed);
    },
    requests,
    actions,
    throttled: () => throttledCount,
    upstream: () => ({ totalMs: upstreamMs, requests: upstreamRequests }),
    close: () =>
      new Promise((resolve) => {
        for (const res of hanging) res.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A small seeded generator (mulberry32): the same seed throttles the same requests. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function ec2Error(res: http.ServerResponse, status: number, code: string, message: string): void {
  res.writeHead(status, { "content-type": "text/xml" });
  res.end(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>${code}</Code><Message>${message}</Message></Error></Errors><RequestID>fault-proxy</RequestID></Response>`);
}

/** EC2's (and SSM's) token buckets per Region and action, refilled continuously. */
class TokenBuckets {
  private readonly state = new Map<string, { tokens: number; at: number }>();

  take(region: string, action: string): boolean {
    const [size, refill, name] = bucketOf(action);
    const key = `${region}\0${name}`;
    const now = Date.now();
    const bucket = this.state.get(key) ?? { tokens: size, at: now };
    bucket.tokens = Math.min(size, bucket.tokens + ((now - bucket.at) / 1000) * refill);
    bucket.at = now;
    this.state.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }
}

/** [bucket size, refill per second, bucket name] of an action (TOOLCHAIN.md, "EC2 request throttling"). */
function bucketOf(action: string): [number, number, string] {
  if (action === "CopyImage") return [100, 1, action];
  if (action === "GetParameters" || action === "GetParameter") return [40, 40, "ssm"];
  // Non-mutating EC2 actions share one bucket per Region.
  if (action.startsWith("Describe") || action.startsWith("Get")) return [100, 20, "ec2-read"];
  return [100, 5, action];
}

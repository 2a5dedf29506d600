import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { FleetSpecError, formatProblem } from "../lib/fleet/errors";
import { loadFleets } from "../lib/fleet/load";
import { runCli } from "./helpers/cli";
import { keyArn, validDocument } from "./helpers/fleets";

/**
 * Malformed and hostile fleet files: every one is refused with a message that names the file, the
 * field and the fix, in one run, without a stack trace, without echoing what it should not.
 */

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "ami-fleet-hostile-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Buffer | object): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof content === "string" || Buffer.isBuffer(content) ? content : stringify(content));
  return file;
}

/** Every problem line `loadFleets` reports for these paths (it must throw FleetSpecError, nothing else). */
function problems(...paths: string[]): string[] {
  try {
    loadFleets(paths);
  } catch (error) {
    if (!(error instanceof FleetSpecError)) throw new Error(`loadFleets threw outside its contract: ${error}`);
    return error.problems.map(formatProblem);
  }
  return [];
}

describe("validate reports every problem in one run", () => {
  it("schema, cross-field and cross-file problems together, even when a list item is malformed", () => {
    const a = validDocument();
    a.regions = [42, "us-est-2", { region: "eu-west-1", kmsKeyId: keyArn("us-east-1") }];
    a.encryption = { encrypted: true };
    a.colour = "blue";
    const b = validDocument();
    b.tags = { "aws:owner": "x" };
    const lines = problems(write("a.yaml", a), write("b.yaml", b));
    const text = lines.join("\n");
    expect(text).toMatch(/a\.yaml: regions\[0\]: .*got 42/);
    expect(text).toMatch(/a\.yaml: regions\[1\]: unknown Region "us-est-2". Did you mean "us-east-2"\?/);
    expect(text).toMatch(/a\.yaml: regions\[2\]\.kmsKeyId: key is in us-east-1, copy is in eu-west-1/);
    expect(text).toMatch(/a\.yaml: colour: unknown field "colour"/);
    expect(text).toMatch(/b\.yaml: tags\.aws:owner|b\.yaml: tags\["aws:owner"\]: tag keys starting with "aws:"/);
    // Across files: both are named golden-base, though a.yaml has problems of its own.
    expect(text).toMatch(/b\.yaml: name: fleet name "golden-base" is also used by .*a\.yaml/);
  });
});

describe("files that are not one sound fleet document", () => {
  it("an alias bomb is one problem of its file; the other files' problems are kept", () => {
    const bomb = ["a: &a [x,x,x,x,x,x,x,x,x]", "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]", "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]", "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]", "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]"].join("\n");
    const other = validDocument();
    other.regions = ["mars-north-1"];
    const lines = problems(write("bomb.yaml", bomb), write("other.yaml", other));
    expect(lines).toEqual([
      expect.stringMatching(/bomb\.yaml: its YAML aliases expand too far .*Write the values out/),
      expect.stringMatching(/other\.yaml: regions\[0\]: unknown Region "mars-north-1"/),
    ]);
  });

  it("a .json file is strict JSON: a trailing comma is refused with its line and column", () => {
    const text = JSON.stringify(validDocument(), null, 2).replace('"golden-base",', '"golden-base",,');
    const lines = problems(write("fleet.json", text));
    expect(lines).toEqual([expect.stringMatching(/fleet\.json: line 2, column \d+: is not valid JSON: .*JSON allows no trailing commas/)]);
    const trailing = JSON.stringify(validDocument()).replace(/}$/, ",}");
    expect(problems(write("trailing.json", trailing))).toEqual([expect.stringMatching(/trailing\.json: line 1, column \d+: is not valid JSON/)]);
  });

  it("a symbolic link loop is named as such", () => {
    const link = path.join(dir, "loop.yaml");
    fs.symlinkSync(link, link);
    expect(problems(link)).toEqual([expect.stringMatching(/loop\.yaml: is a symbolic link loop/)]);
  });

  it("binary input and invalid UTF-8 are refused without echoing their bytes", () => {
    const binary = Buffer.concat([Buffer.from("name: x\n"), Buffer.alloc(9000, 0x00), Buffer.from([0x1b, 0x5b, 0x32, 0x4a])]);
    const lines = problems(write("binary.yaml", binary), write("latin1.yaml", Buffer.from("name: caf\xe9\n", "latin1")));
    expect(lines).toEqual([
      expect.stringMatching(/binary\.yaml: is not a text file/),
      expect.stringMatching(/latin1\.yaml: is not valid UTF-8 text\. Save it as UTF-8/),
    ]);
    expect(lines.join("\n").length).toBeLessThan(400);
  });

  it("two documents in one file get our message, not the YAML library's hint", () => {
    const lines = problems(write("two.yaml", `${stringify(validDocument())}---\n${stringify(validDocument())}`));
    expect(lines).toEqual([expect.stringMatching(/two\.yaml: holds 2 YAML documents \(separated by ---\); a fleet file holds one fleet/)]);
    expect(lines[0]).not.toMatch(/parseAllDocuments/);
  });

  it("nesting too deep for the parser is named as such, not as a syntax error", () => {
    const lines = problems(write("deep.yaml", `name: ${"[".repeat(20000)}${"]".repeat(20000)}\n`));
    expect(lines).toEqual([expect.stringMatching(/deep\.yaml: line 1, column \d+: is nested too deeply to be read/)]);
  });

  it("a file over 1 MiB is refused before it is parsed", () => {
    const lines = problems(write("huge.yaml", `name: x\ndescription: "${"a".repeat(1.5 * 1024 * 1024)}"\n`));
    expect(lines).toEqual([expect.stringMatching(/huge\.yaml: is 1\.5 MiB; a fleet file is at most 1 MiB/)]);
  });

  it("duplicate keys are found in a large mapping (one pass, not pairwise)", () => {
    const tags = Array.from({ length: 20000 }, (_, i) => `  t${i}: v`).join("\n");
    const lines = problems(write("dup.yaml", `${stringify(validDocument())}tags:\n${tags}\n  t5: again\n`));
    expect(lines.some((l) => /dup\.yaml: line \d+, column \d+: duplicate key "tags"/.test(l))).toBe(true);
    expect(lines.some((l) => /dup\.yaml: line 20\d{3}, column 3: duplicate key "t5"/.test(l))).toBe(true);
  });
});

describe("hostile values", () => {
  it("__proto__ as a key is refused, and no tag is silently lost", () => {
    const lines = problems(write("proto.yaml", `${stringify(validDocument()).replace("tags:\n  team: platform", "tags:\n  team: platform\n  __proto__: keep-me")}`));
    expect(lines).toEqual([expect.stringMatching(/proto\.yaml: line \d+, column 3: the key "__proto__" is not allowed/)]);
    const doc = validDocument();
    doc.encryption = { kmsKeyIds: { "eu-west-1": keyArn("eu-west-1") } };
    const text = stringify(doc).replace('"eu-west-1": arn', '"__proto__": arn').replace("eu-west-1: arn", "__proto__: arn");
    expect(problems(write("proto-keys.yaml", text))).toEqual([expect.stringMatching(/proto-keys\.yaml: line \d+, column \d+: the key "__proto__" is not allowed/)]);
  });

  it("control characters in values are escaped, never written raw", () => {
    const doc = validDocument();
    doc.regions = ["eu-west-1\n\u001b[2Kfleets/ok.yaml: all good\u2028\u202e"];
    const lines = problems(write("forge.yaml", doc));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("\\n\\u001b[2K");
    expect(lines[0]).toContain("\\u2028\\u202e");
    expect(lines[0]).not.toMatch(/[\n\u001b\u2028\u202e]/);
  });

  it("a very long value is cut in the message and costs no edit distance", () => {
    const doc = validDocument();
    doc.source.region = "x".repeat(500_000);
    const started = process.hrtime.bigint();
    const lines = problems(write("long.yaml", doc));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    expect(lines.every((l) => l.length < 1200)).toBe(true);
    expect(lines.join("\n")).toMatch(/more characters/);
    expect(ms).toBeLessThan(20_000); // seconds of edit distance before the cap; a sanity bound, not a benchmark
  });
});

describe("AWS rules", () => {
  it("a KMS key ARN's key id is a UUID or mrk-…", () => {
    const doc = validDocument();
    doc.regions = [
      { region: "eu-west-1", kmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key/not-a-key" },
      { region: "ap-southeast-2", kmsKeyId: "arn:aws:kms:ap-southeast-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab" },
    ];
    const lines = problems(write("keys.yaml", doc));
    expect(lines).toEqual([expect.stringMatching(/keys\.yaml: regions\[0\]\.kmsKeyId: "arn:aws:kms:eu-west-1:111122223333:key\/not-a-key" is not a KMS key ARN/)]);
  });

  it("an encrypted source cannot be shared publicly", () => {
    const doc = validDocument();
    doc.source.images[0].encrypted = true;
    doc.share = { public: true, acknowledgePublic: true };
    expect(problems(write("public.yaml", doc))).toEqual([
      expect.stringMatching(/public\.yaml: share\.public: .*source image "2026-10" is encrypted.*encrypted AMIs cannot be made public/),
    ]);
  });

  it("tag lengths count characters, not UTF-16 units", () => {
    const ok = validDocument();
    ok.tags = { mood: "😀".repeat(256) };
    expect(problems(write("emoji.yaml", ok))).toEqual([]);
    const long = validDocument();
    long.tags = { mood: "😀".repeat(257) };
    expect(problems(write("emoji-long.yaml", long))).toEqual([expect.stringMatching(/tag value is 257 characters/)]);
  });

  it("copyTimeout takes Go durations", () => {
    for (const timeout of ["40m", "1h30m", "1.5h", "90s", "2h0m0s"]) {
      expect(problems(write(`t-${timeout}.yaml`, { ...validDocument(), copyTimeout: timeout }))).toEqual([]);
    }
    expect(problems(write("forever.yaml", { ...validDocument(), copyTimeout: "forever" }))).toEqual([
      expect.stringMatching(/copyTimeout: must be a duration like 40m, 1h30m or 1.5h, got "forever"/),
    ]);
  });
});

describe("the README and help stay true", () => {
  it("the README's fleet example is valid", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    const example = /## The fleet file[\s\S]*?```yaml\n([\s\S]*?)```/.exec(readme)![1];
    expect(problems(write("readme.yaml", example))).toEqual([]);
  });

  it("help names every option of every command", async () => {
    const help = fs.readFileSync(path.join(__dirname, "..", "help"), "utf8");
    const usage = (await runCli(["--help"])).stdout;
    const commands = [...usage.slice(usage.indexOf("Commands:")).matchAll(/^  ([a-z]+)/gm)].map((m) => m[1]).filter((c) => c !== "help");
    expect(commands).toEqual(expect.arrayContaining(["validate", "schema", "show", "changed", "reconcile", "review"]));
    for (const command of commands) {
      expect(`${command} ${help.includes(`ami-fleet ${command}`) ? "in help" : "missing from help"}`).toBe(`${command} in help`);
      const result = await runCli([command, "--help"]);
      const options = [...result.stdout.matchAll(/^\s+(--[a-z-]+)/gm)].map((m) => m[1]).filter((o) => o !== "--help");
      for (const option of options) expect(`${command} ${help.includes(option) ? option : `missing ${option}`}`).toBe(`${command} ${option}`);
    }
  }, 120_000);

  it("cdktf synth of an alias bomb stops with a clear line, no stack trace, nothing written", () => {
    const { spawnSync } = require("child_process") as typeof import("child_process");
    const bomb = write("bomb.yaml", ["a: &a [x,x,x,x,x,x,x,x,x]", "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]", "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]", "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]", "e: [*d,*d,*d,*d,*d,*d,*d,*d,*d]"].join("\n"));
    const outdir = path.join(dir, "out");
    const result = spawnSync(process.execPath, [require.resolve("ts-node/dist/bin"), "--transpile-only", "main.ts"], {
      cwd: path.join(__dirname, ".."),
      env: { ...process.env, AMI_FLEET_PATHS: bomb, CDKTF_OUTDIR: outdir },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/bomb\.yaml: its YAML aliases expand too far/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(outdir)).toBe(false);
  }, 60_000);
});

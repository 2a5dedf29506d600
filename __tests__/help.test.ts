import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "./helpers/cli";

describe("the help file's tools", () => {
  const help = fs.readFileSync(path.join(PROJECT_ROOT, "help"), "utf8");
  const scripts = Object.keys(JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8")).scripts as Record<string, string>);

  it("names only npm scripts that exist", () => {
    const named = [...help.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]);
    expect(named.filter((name) => !scripts.includes(name))).toEqual([]);
  });

  it("names every test and benchmark script", () => {
    const listed = new Set([...help.matchAll(/npm run ([\w:-]+)/g)].map((m) => m[1]));
    expect(scripts.filter((name) => /^(test:(?!watch)|bench|e2e:|fixtures:)/.test(name) && !listed.has(name))).toEqual([]);
  });
});

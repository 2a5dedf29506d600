/**
 * The package's public API (issue 17): every export of the entry point (lib/index.ts, what
 * `import { ... } from "ami-fleet"` reaches) carries JSDoc, as the shipped declarations show it to
 * a team's editor.
 */
import * as path from "path";
import * as ts from "typescript";
import { PROJECT_ROOT } from "./helpers/cli";

it("every export of the package's entry point has JSDoc", () => {
  const entry = path.join(PROJECT_ROOT, "lib", "index.ts");
  const program = ts.createProgram([entry], { strict: true, target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS, esModuleInterop: true, skipLibCheck: true, noEmit: true });
  const checker = program.getTypeChecker();
  const exports = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(entry)!)!);
  const undocumented = exports
    .filter((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      return ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === "";
    })
    .map((symbol) => symbol.getName());
  // The public API's core is there (a rename here is a major change: CHANGELOG.md).
  expect(exports.map((symbol) => symbol.getName())).toEqual(expect.arrayContaining(["AmiFleet", "synthFleetApp", "addFleetStacks", "loadFleetProject", "loadFleets", "validateFleet", "diffFleets", "readLiveState", "SdkAwsReader"]));
  expect(undocumented).toEqual([]);
}, 60_000);

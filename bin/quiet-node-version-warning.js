// The AWS SDK warns on every run under Node 20 that its releases after January 2027 need Node 22:
// that is for whoever upgrades the SDK, not for a user reading a report. Used by the CLI and jest.
const emitWarning = process.emitWarning;
process.emitWarning = function (warning, ...rest) {
  const type = typeof rest[0] === "string" ? rest[0] : rest[0] && rest[0].type;
  if (type === "NodeVersionSupportWarning" || /NodeVersionSupportWarning/.test(String(warning))) return;
  return emitWarning.call(process, warning, ...rest);
};

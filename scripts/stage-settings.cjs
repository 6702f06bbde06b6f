// serverless.yml's bridge to scripts/stages.ts: `${file(./scripts/stage-settings.cjs):name}` resolves to
// the validated settings of the stage being packaged or deployed (stages/<stage>.yml, parsed by the
// Framework). CommonJS because the Framework require()s variable files; tsx loads the TypeScript rules so
// they live in one place.
const { existsSync } = require("node:fs");
const { join } = require("node:path");
const { require: requireTs } = require("tsx/cjs/api");

module.exports = async ({ options, resolveVariable }) => {
  const { checkStageName, resolveStageSettings } = requireTs("./stages.ts", __filename);
  const stage = options.stage ?? "dev";
  const path = `stages/${stage}.yml`;
  checkStageName(stage);
  const file = existsSync(join(__dirname, "..", path)) ? await resolveVariable(`file(./${path})`) : null;
  try {
    return resolveStageSettings(stage, file, process.env);
  } catch (error) {
    // The Framework prints error.stack: make it just the list of problems, without our call stack.
    if (error instanceof Error) error.stack = error.message;
    throw error;
  }
};

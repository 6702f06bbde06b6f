/**
 * `npm run secrets -- --stage S [--region R] [--app-secret-stdin] [--rotate NAME] [--finish-rotation NAME]`
 *
 * Creates the stage's secrets as SSM SecureStrings (/dingtalk-file-bridge/<stage>/...): generates the two
 * webhook secrets, the event Token and the EncodingAESKey; stores the DingTalk AppSecret piped in on stdin
 * (`--app-secret-stdin`, so it never lands in the shell's history). Existing parameters are kept: rerunning
 * is safe. `--rotate webhook-secret-send-link|webhook-secret-archive` starts a rotation (the current value
 * becomes `<name>-previous`, still accepted); `--finish-rotation NAME` deletes `-previous` once every sender
 * uses the new secret. Prints what to paste into DingTalk's console and give to the senders.
 * The plan is scripts/stage-secrets.ts (pure); this file only makes the SSM calls, with the deployer's
 * credentials (the SDK's usual chain).
 * Exit: 0 done; 1 an AWS call failed; 2 bad usage.
 */
import {
  DeleteParameterCommand,
  GetParameterCommand,
  GetParametersCommand,
  ParameterNotFound,
  PutParameterCommand,
  SSMClient,
} from "@aws-sdk/client-ssm";
import { EXIT, parseFlags, reportFailure, UsageError } from "./cli";
import {
  instructions,
  parameterName,
  planSecrets,
  ROTATABLE,
  type RotatableSecret,
  STAGE_SECRETS,
  type Step,
} from "./stage-secrets";
import { checkStageName, StageSettingsError } from "./stages";

const USAGE =
  "usage: npm run secrets -- --stage S [--region R] [--app-secret-stdin] [--rotate NAME] [--finish-rotation NAME]";

function rotatable(flag: string, value: unknown): RotatableSecret[] {
  if (value === undefined) return [];
  const found = ROTATABLE.find((name) => name === value);
  if (!found) throw new UsageError(`--${flag} takes ${ROTATABLE.join(" or ")}`);
  return [found];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const value = Buffer.concat(chunks).toString("utf8").trim();
  if (!value) throw new UsageError("--app-secret-stdin: nothing on stdin");
  return value;
}

/** Which of the stage's parameters exist (GetParameters reports the others as invalid). */
async function existingParameters(ssm: SSMClient, stage: string): Promise<Set<string>> {
  const names = [
    ...(Object.keys(STAGE_SECRETS) as Array<keyof typeof STAGE_SECRETS>).map((n) => parameterName(stage, n)),
    ...ROTATABLE.map((n) => parameterName(stage, `${n}-previous`)),
  ];
  const answer = await ssm.send(new GetParametersCommand({ Names: names }));
  return new Set((answer.Parameters ?? []).flatMap((p) => (p.Name ? [p.Name] : [])));
}

async function apply(ssm: SSMClient, step: Step): Promise<void> {
  switch (step.kind) {
    case "put":
      await ssm.send(
        new PutParameterCommand({
          Name: step.name,
          Value: step.value,
          Type: "SecureString",
          Overwrite: step.overwrite,
          Description: STAGE_SECRETS[step.secret].what,
        }),
      );
      return;
    case "copy": {
      const current = await ssm.send(new GetParameterCommand({ Name: step.from, WithDecryption: true }));
      await ssm.send(
        new PutParameterCommand({
          Name: step.to,
          Value: current.Parameter?.Value ?? "",
          Type: "SecureString",
          Overwrite: true,
          Description: `previous ${step.secret}, accepted until the rotation is finished`,
        }),
      );
      return;
    }
    case "delete":
      try {
        await ssm.send(new DeleteParameterCommand({ Name: step.name }));
      } catch (error) {
        if (!(error instanceof ParameterNotFound)) throw error;
      }
      return;
    case "keep":
    case "missing":
      return;
  }
}

async function main(argv: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseFlags(argv, {
      stage: { type: "string" },
      region: { type: "string" },
      "app-secret-stdin": { type: "boolean" },
      rotate: { type: "string" },
      "finish-rotation": { type: "string" },
      help: { type: "boolean", short: "h" },
    });
    if (values.help) {
      console.log(USAGE);
      return EXIT.ok;
    }
    if (typeof values.stage !== "string") throw new UsageError("--stage is required");
    checkStageName(values.stage);
  } catch (error) {
    if (error instanceof UsageError || error instanceof StageSettingsError) {
      console.error(`${error.message}\n${USAGE}`);
      return EXIT.usage;
    }
    throw error;
  }
  const stage = values.stage;
  try {
    const appSecret = values["app-secret-stdin"] ? await readStdin() : undefined;
    const ssm = new SSMClient(typeof values.region === "string" ? { region: values.region } : {});
    const steps = planSecrets({
      stage,
      existing: await existingParameters(ssm, stage),
      appSecret,
      rotate: rotatable("rotate", values.rotate),
      finish: rotatable("finish-rotation", values["finish-rotation"]),
    });
    for (const step of steps) await apply(ssm, step);
    console.log(instructions(stage, steps));
    return steps.some((step) => step.kind === "missing") ? EXIT.failed : EXIT.ok;
  } catch (error) {
    return reportFailure("secrets", USAGE, error);
  }
}

process.exitCode = await main(process.argv.slice(2));

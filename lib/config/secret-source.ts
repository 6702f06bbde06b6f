import * as z from "../schema";
import { type Env, wholeNumber } from "./section";

/** How long a secret read from SSM is reused before it is read again, by default (SECRETS_MAX_AGE_SECONDS). */
export const DEFAULT_SECRETS_MAX_AGE_SECONDS = 300;

/**
 * A secret is given either as its value (local runs) or as the name of the SSM SecureString that holds it
 * (`<NAME>_PARAMETER`, in AWS). A parameter is re-read through Powertools' cache at most `maxAgeSeconds`
 * after the last read (SECRETS_MAX_AGE_SECONDS), so a rotated secret reaches warm containers in that time.
 */
export type SecretSource =
  | { kind: "value"; name: string; value: string }
  | { kind: "ssm"; name: string; parameter: string; maxAgeSeconds: number };

/** The required secret NAME: its value in NAME, or its SSM SecureString name in NAME_PARAMETER. */
export function secretSource(env: Env, name: string, problems: string[]): SecretSource | undefined {
  const source = optionalSecretSource(env, name, problems);
  if (source === null) problems.push(`${name} (or ${name}_PARAMETER) is required`);
  return source ?? undefined;
}

/**
 * An optional secret (e.g. the previous webhook secret during a rotation): null when neither NAME nor
 * NAME_PARAMETER is set, undefined when the setting is wrong (the problem is recorded).
 */
export function optionalSecretSource(
  env: Env,
  name: string,
  problems: string[],
): SecretSource | null | undefined {
  const value = env[name] || undefined;
  const parameter = env[`${name}_PARAMETER`] || undefined;
  if (value && parameter) {
    problems.push(`set either ${name} or ${name}_PARAMETER, not both`);
    return undefined;
  }
  if (value) return { kind: "value", name, value };
  if (!parameter) return null;
  if (parameter.startsWith("secretsmanager:")) {
    problems.push(
      `${name}_PARAMETER must name an SSM SecureString parameter; Secrets Manager is not supported (got "secretsmanager:...")`,
    );
    return undefined;
  }
  // A name, or the ARN of a parameter shared from another account.
  if (!/^(arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter)?[A-Za-z0-9_.\-/]{1,2048}$/.test(parameter)) {
    problems.push(`${name}_PARAMETER must be an SSM parameter name or ARN (letters, digits and _ . - /)`);
    return undefined;
  }
  const maxAgeSeconds = secretsMaxAgeSeconds(env, problems);
  if (maxAgeSeconds === undefined) return undefined;
  return { kind: "ssm", name, parameter, maxAgeSeconds };
}

const secretsMaxAge = z._default(wholeNumber(1, 3600), DEFAULT_SECRETS_MAX_AGE_SECONDS);

function secretsMaxAgeSeconds(env: Env, problems: string[]): number | undefined {
  const parsed = secretsMaxAge.safeParse(env.SECRETS_MAX_AGE_SECONDS || undefined);
  if (parsed.success) return parsed.data;
  const got = JSON.stringify(String(env.SECRETS_MAX_AGE_SECONDS).slice(0, 80));
  problems.push(`SECRETS_MAX_AGE_SECONDS ${parsed.error.issues[0]?.message ?? "is invalid"} (got ${got})`);
  return undefined;
}

import type { SecretSource } from "./env";

/** How long a secret fetched from AWS is reused before it is read again (Powertools caches it). */
const SECRET_MAX_AGE_SECONDS = 300;

/**
 * The value of a secret: given directly (local runs), or read from SSM / Secrets Manager through
 * Powertools parameters, which caches it across warm invocations. The AWS clients are loaded only when
 * a secret is stored there, so a CLI given plain values does not pay for them (~25 MiB of RSS).
 */
export async function resolveSecret(source: SecretSource, name: string): Promise<string> {
  let value: string | undefined;
  switch (source.kind) {
    case "value":
      return source.value;
    case "ssm": {
      const { getParameter } = await import("@aws-lambda-powertools/parameters/ssm");
      value = await getParameter(source.name, { decrypt: true, maxAge: SECRET_MAX_AGE_SECONDS });
      break;
    }
    case "secretsmanager": {
      const { getSecret } = await import("@aws-lambda-powertools/parameters/secrets");
      const secret = await getSecret(source.id, { maxAge: SECRET_MAX_AGE_SECONDS });
      value = typeof secret === "string" ? secret : undefined;
      break;
    }
  }
  if (!value) throw new Error(`Secret ${name} is empty or not a string in ${source.kind}`);
  return value;
}

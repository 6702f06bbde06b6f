// lib/config: configuration from the environment, one section per concern (see section.ts).
export * from "./archive";
export * from "./dingtalk";
export * from "./secret-source";
export { FORCED_READ_INTERVAL_MS, optionalSecretReader, type Secret, secretReader } from "./secrets";
export * from "./section";
export * from "./webhook";

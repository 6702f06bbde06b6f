export * from "./env";
export { FORCED_READ_INTERVAL_MS, optionalSecretReader, type Secret, secretReader } from "./secrets";

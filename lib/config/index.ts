export * from "./env";
export { resolveSecret } from "./secrets";

import { type FieldProblem, invalidInput } from "./errors";
import * as z from "./schema";

/** Parse `value` with a zod schema, or throw a 400 AppError naming every bad field of `what`. */
export function parseOrThrow<T>(schema: z.core.$ZodType<T>, value: unknown, what: string): T {
  const result = z.safeParse(schema, value);
  if (result.success) return result.data;
  const problems: FieldProblem[] = result.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join(".") : "(body)",
    problem: issue.message,
  }));
  throw invalidInput(what, problems);
}

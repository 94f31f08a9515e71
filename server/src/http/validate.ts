import type { z } from "zod";
import { AppError } from "../app-error.js";

/** Parses untrusted input at the edge; a failure is a 400 naming each bad field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const details = result.error.issues
    .slice(0, 5)
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "body"}: ${issue.message}`)
    .join("; ");
  throw new AppError("VALIDATION_FAILED", `Invalid request. ${details}`);
}

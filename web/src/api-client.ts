import type { ErrorCode, ErrorResponse } from "@countersign/shared";

/** A failed API call, carrying the server's error code. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode | "NETWORK",
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** JSON over fetch on this origin; every failure becomes an ApiError. */
export async function callApi<T>(method: "GET" | "POST" | "DELETE", path: string, body?: unknown): Promise<T> {
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: body === undefined ? {} : { "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError("NETWORK", "Cannot reach the server. Check your connection.");
  }
  if (response.status === 204) return undefined as T;
  const json: unknown = await response.json().catch(() => null);
  if (!response.ok) {
    const error = (json as ErrorResponse | null)?.error;
    throw new ApiError(error?.code ?? "INTERNAL", error?.message ?? `Request failed (${response.status}).`);
  }
  return json as T;
}

/**
 * A POST that outlives the page (fetch with keepalive), for what must still reach the server as
 * the page goes away. Fire and forget: a page that is leaving can do nothing with the answer.
 */
export function postAsPageLeaves(path: string, body: unknown): void {
  void fetch(path, {
    method: "POST",
    keepalive: true,
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  }).catch(() => undefined);
}

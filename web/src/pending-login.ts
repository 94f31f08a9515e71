import { createLoginResponseSchema, type CreateLoginResponse } from "@countersign/shared";

const KEY = "countersign:pending-login";

/**
 * The request this tab is waiting on, kept in sessionStorage so a reload resumes it instead of
 * abandoning it. sessionStorage belongs to this tab alone and ends with it.
 */
export const pendingLogin = {
  save(created: CreateLoginResponse): void {
    sessionStorage.setItem(KEY, JSON.stringify(created));
  },
  load(): CreateLoginResponse | null {
    const raw = sessionStorage.getItem(KEY);
    if (raw === null) return null;
    try {
      const parsed = createLoginResponseSchema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  },
  clear(): void {
    sessionStorage.removeItem(KEY);
  },
};

import { useEffect, useState } from "react";
import { PUSH_NO_ANSWER_HINT_MS } from "@countersign/shared";

/**
 * Whether the push `loginId` has gone PUSH_NO_ANSWER_HINT_MS without a sign from a phone: timed
 * from when this page started waiting on it, so the moment is the same whether or not the account
 * exists (an unknown name's request simply never gets an answer). `pending` is false once a phone
 * has opened the request.
 */
export function useNoAnswerYet(options: { loginId: string; pending: boolean }): boolean {
  const { loginId, pending } = options;
  /** The request whose wait passed the mark; another request starts its own wait. */
  const [overdue, setOverdue] = useState<string | null>(null);
  useEffect(() => {
    const timer = setTimeout(() => setOverdue(loginId), PUSH_NO_ANSWER_HINT_MS);
    return () => clearTimeout(timer);
  }, [loginId]);
  return pending && overdue === loginId;
}

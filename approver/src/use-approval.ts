import { startAuthentication } from "@simplewebauthn/browser";
import { useCallback, useEffect, useState } from "react";
import {
  API_PATHS,
  type ApprovalCeremony,
  type ApproveResponse,
  type DenyResponse,
  type LoginReview,
  type OpenApprovalBody,
  type OpenApprovalResponse,
} from "@countersign/shared";
import { ApiError, callApi } from "./api-client.js";

export type ApprovalState =
  | { step: "opening" }
  | { step: "review"; opened: OpenApprovalResponse; busy: boolean; problem: string | null }
  | { step: "approved"; displayName: string; review: LoginReview }
  | { step: "denied" }
  /** "This wasn't me": reported, with pushes to the person paused until then (null: not paused). */
  | { step: "reported"; pushesPausedUntil: number | null }
  | { step: "failed"; message: string };

const MESSAGES: Partial<Record<ApiError["code"], string>> = {
  LOGIN_EXPIRED: "This sign-in request expired. Start again on the computer.",
  LOGIN_CONFLICT: "This sign-in request was already decided.",
  LOGIN_NOT_FOUND: "No sign-in is waiting for this code. Check the code on the other screen.",
  CHECK_DIGITS_WRONG: "Those were not the digits on the computer, so the sign-in was denied. Nobody was signed in.",
};

const STALE_QR =
  "The QR code on the computer changes every few seconds, and this one is no longer current. Scan it again.";

const messageOf = (error: unknown): string =>
  error instanceof ApiError ? (MESSAGES[error.code] ?? error.message) : "Something went wrong.";

/** What the phone opens: a QR link or typed sign-in code, or a device's code (OpenID device grant). */
export type ApprovalTarget = { kind: "login"; body: OpenApprovalBody } | { kind: "device"; userCode: string };

/** Opens a request (from a QR link or a typed code), then approves it with a passkey or denies it. */
export function useApproval(target: ApprovalTarget): {
  state: ApprovalState;
  approve: (checkNumber?: number) => void;
  deny: (reason: "not_me" | "cancelled") => void;
} {
  const [state, setState] = useState<ApprovalState>({ step: "opening" });
  const key = JSON.stringify(target);

  useEffect(() => {
    let live = true;
    const opening = JSON.parse(key) as ApprovalTarget;
    const [path, body] =
      opening.kind === "device"
        ? [API_PATHS.approvalsOpenDevice, { userCode: opening.userCode }]
        : [API_PATHS.approvalsOpen, opening.body];
    callApi<OpenApprovalResponse>("POST", path, body)
      .then((opened) => live && setState({ step: "review", opened, busy: false, problem: null }))
      .catch((error: unknown) => {
        if (!live) return;
        // A scanned frame opens the request for a few seconds only (it changes, against relays):
        // an old one reads like a wrong one, so say what is most likely.
        const fromQr = opening.kind === "login" && "qrToken" in opening.body;
        const stale = fromQr && error instanceof ApiError && error.code === "LOGIN_NOT_FOUND";
        setState({ step: "failed", message: stale ? STALE_QR : messageOf(error) });
      });
    return () => {
      live = false;
    };
  }, [key]);

  // `checkNumber`: the computer's digits, typed on the phone when it is far away.
  const approve = useCallback(
    (checkNumber?: number) => {
      if (state.step !== "review") return;
      const { opened } = state;
      setState({ ...state, busy: true, problem: null });
      void (async () => {
        try {
          const credential = await startAuthentication({ optionsJSON: opened.approval.options as never });
          const result = await callApi<ApproveResponse>("POST", API_PATHS.loginApprove(opened.review.id), {
            qrToken: opened.qrToken,
            ceremonyId: opened.approval.ceremonyId,
            credential,
            ...(checkNumber === undefined ? {} : { checkNumber }),
          });
          setState({ step: "approved", displayName: result.user.displayName, review: result.review });
        } catch (error) {
          if (error instanceof ApiError && error.code in MESSAGES) {
            setState({ step: "failed", message: messageOf(error) });
            return;
          }
          // Challenges are single use: fetch a fresh one before the person tries again.
          const approval = await callApi<ApprovalCeremony>("POST", API_PATHS.loginApprovalOptions(opened.review.id), {
            qrToken: opened.qrToken,
          }).catch(() => opened.approval);
          const problem = error instanceof ApiError ? error.message : "The passkey prompt was closed or failed.";
          setState({ step: "review", opened: { ...opened, approval }, busy: false, problem });
        }
      })();
    },
    [state],
  );

  const deny = useCallback(
    (reason: "not_me" | "cancelled") => {
      if (state.step !== "review") return;
      const { opened } = state;
      callApi<DenyResponse>("POST", API_PATHS.loginDeny(opened.review.id), { qrToken: opened.qrToken, reason })
        .then((result) =>
          setState(
            reason === "not_me"
              ? { step: "reported", pushesPausedUntil: result.pushesPausedUntil ?? null }
              : { step: "denied" },
          ),
        )
        .catch((error: unknown) => setState({ step: "failed", message: messageOf(error) }));
    },
    [state],
  );

  return { state, approve, deny };
}

export type { LoginReview };

import {
  API_PATHS,
  parseApproverEnrolFragment,
  parseApproverLoginFragment,
  type EnrolmentLinkResponse,
  type ApproveResponse,
  type CreateLoginResponse,
  type EnrolmentOptionsResponse,
  type EnrolmentVerifyResponse,
  type OpenApprovalResponse,
  type QrFrame,
} from "@countersign/shared";
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from "@simplewebauthn/server";
import { expect } from "vitest";
import type { ApiResponse, HttpClient } from "./http-client.js";
import type { CeremonyOverrides, SoftAuthenticator } from "./soft-authenticator.js";

/** Steps of the flows, each asserting that its own step succeeded. */
export async function enrolPhone(
  phone: HttpClient,
  authenticator: SoftAuthenticator,
  account: { username: string; displayName: string },
): Promise<EnrolmentVerifyResponse> {
  const options = await phone.post<EnrolmentOptionsResponse>(API_PATHS.enrolmentOptions, account);
  expect(options.status, JSON.stringify(options.body)).toBe(200);
  const credential = await authenticator.createCredential(
    options.body.options as unknown as PublicKeyCredentialCreationOptionsJSON,
  );
  const verified = await phone.post<EnrolmentVerifyResponse>(API_PATHS.enrolmentVerify, {
    ceremonyId: options.body.ceremonyId,
    credential,
  });
  expect(verified.status, JSON.stringify(verified.body)).toBe(201);
  return verified.body;
}

export async function createLogin(desktop: HttpClient): Promise<CreateLoginResponse> {
  const response = await desktop.post<CreateLoginResponse>(API_PATHS.logins, {});
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return response.body;
}

/**
 * What the desktop's QR shows: a created request's first frame, or a later one from its socket.
 * A frame opens the request only during its own step and the next (QR_STEP_MS each): a test that
 * moves the clock on must open with a frame its socket received since.
 */
export type ShownQr = CreateLoginResponse | QrFrame;

/** What the phone's camera would read out of the QR code's URL. */
export function qrLinkOf(shown: ShownQr): { id: string; qrToken: string } {
  const { url } = "qr" in shown ? shown.qr : shown;
  const link = parseApproverLoginFragment(new URL(url).hash);
  expect(link).not.toBeNull();
  return link!;
}

/** Opens the request from the QR; the answer's `qrToken` is the capability for the next steps. */
export async function openFromQr(phone: HttpClient, shown: ShownQr): Promise<OpenApprovalResponse> {
  const response = await phone.post<OpenApprovalResponse>(API_PATHS.approvalsOpen, qrLinkOf(shown));
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return response.body;
}

/** Signs the opened request's challenge with the phone's passkey and posts the approval. */
export async function approveOpened(
  phone: HttpClient,
  authenticator: SoftAuthenticator,
  opened: OpenApprovalResponse,
  overrides: CeremonyOverrides = {},
): Promise<ApiResponse<ApproveResponse>> {
  const credential = await authenticator.getAssertion(
    opened.approval.options as unknown as PublicKeyCredentialRequestOptionsJSON,
    overrides,
  );
  return phone.post<ApproveResponse>(API_PATHS.loginApprove(opened.review.id), {
    qrToken: opened.qrToken,
    ceremonyId: opened.approval.ceremonyId,
    credential,
  });
}

/** The one-time link a signed-in phone makes so that a second phone can join its account. */
export async function makeEnrolmentLink(phone: HttpClient): Promise<{ link: EnrolmentLinkResponse; token: string }> {
  const response = await phone.post<EnrolmentLinkResponse>(API_PATHS.approverEnrolmentLinks, {});
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  const parsed = parseApproverEnrolFragment(new URL(response.body.url).hash);
  expect(parsed).not.toBeNull();
  return { link: response.body, token: parsed!.token };
}

/** A phone enrols a passkey with a one-time link's token; returns the last answer as it came. */
export async function enrolWithToken(
  phone: HttpClient,
  authenticator: SoftAuthenticator,
  token: string,
): Promise<ApiResponse<unknown>> {
  const start = await phone.post<EnrolmentOptionsResponse>(API_PATHS.enrolmentOptions, { enrolmentToken: token });
  if (start.status !== 200) return start;
  const credential = await authenticator.createCredential(
    start.body.options as unknown as PublicKeyCredentialCreationOptionsJSON,
  );
  return phone.post<EnrolmentVerifyResponse>(API_PATHS.enrolmentVerify, {
    ceremonyId: start.body.ceremonyId,
    credential,
  });
}

/** A second phone joins `firstPhone`'s account by link, signed in, asserting each step. */
export async function joinSecondPhone(
  firstPhone: HttpClient,
  secondPhone: HttpClient,
  authenticator: SoftAuthenticator,
): Promise<void> {
  const { token } = await makeEnrolmentLink(firstPhone);
  const joined = await enrolWithToken(secondPhone, authenticator, token);
  expect(joined.status, JSON.stringify(joined.body)).toBe(201);
}

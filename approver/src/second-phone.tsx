import { startRegistration } from "@simplewebauthn/browser";
import { useState } from "react";
import {
  API_PATHS,
  type EnrolmentLinkResponse,
  type EnrolmentOptionsResponse,
  type EnrolmentVerifyResponse,
} from "@countersign/shared";
import { ApiError, callApi } from "./api-client.js";

/** On a signed-in phone: a one-time QR that lets another phone join this account. */
export function SecondPhoneLink(): React.JSX.Element {
  const [link, setLink] = useState<EnrolmentLinkResponse | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const create = (): void => {
    setProblem(null);
    callApi<EnrolmentLinkResponse>("POST", API_PATHS.approverEnrolmentLinks, {})
      .then(setLink)
      .catch((error: unknown) => setProblem(error instanceof ApiError ? error.message : "Could not make a link."));
  };
  return (
    <section aria-labelledby="second-phone-title">
      <h2 id="second-phone-title">Add a second phone</h2>
      {link === null ? (
        <button className="secondary" onClick={create}>
          Show a code for another phone
        </button>
      ) : (
        <>
          <img
            className="qr"
            src={`data:image/svg+xml;utf8,${encodeURIComponent(link.qrSvg)}`}
            alt="QR code to add another phone to your account"
          />
          <p>Scan it with the other phone. It works once, until {new Date(link.expiresAt).toLocaleTimeString()}.</p>
        </>
      )}
      {problem !== null && <p role="alert">{problem}</p>}
    </section>
  );
}

/** On the new phone, opened from that QR: enrol a passkey into the account. */
export function JoinWithLink(props: { token: string; onJoined: () => void }): React.JSX.Element {
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const join = (): void => {
    setBusy(true);
    setProblem(null);
    void (async () => {
      try {
        const start = await callApi<EnrolmentOptionsResponse>("POST", API_PATHS.enrolmentOptions, {
          enrolmentToken: props.token,
        });
        const credential = await startRegistration({ optionsJSON: start.options as never });
        await callApi<EnrolmentVerifyResponse>("POST", API_PATHS.enrolmentVerify, {
          ceremonyId: start.ceremonyId,
          credential,
        });
        props.onJoined();
      } catch (error) {
        setProblem(error instanceof ApiError ? error.message : "The passkey could not be created.");
        setBusy(false);
      }
    })();
  };
  return (
    <section aria-labelledby="join-title">
      <h2 id="join-title">Add this phone to your account</h2>
      <p>This phone gets its own passkey, and can approve your sign-ins like your first phone.</p>
      <button onClick={join} disabled={busy}>
        Create a passkey on this phone
      </button>
      {problem !== null && <p role="alert">{problem}</p>}
    </section>
  );
}

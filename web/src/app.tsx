import { useEffect, useRef, useState, type FormEvent } from "react";
import {
  API_PATHS,
  INTERACTION_PATHS,
  parseInteractionPath,
  type CreateLoginResponse,
  type CreatePushLoginResponse,
  type InteractionDetailsResponse,
  type LoginView,
  type QrFrame,
  type SessionView,
} from "@countersign/shared";
import { ChangingQr } from "./changing-qr.js";
import { useInteraction } from "./use-interaction.js";
import { useNoAnswerYet } from "./use-no-answer-yet.js";
import { useSignIn } from "./use-sign-in.js";

/** On a phone, scanning your own screen is impossible: offer the passkey first. */
const onPhone = window.matchMedia("(pointer: coarse) and (max-width: 700px)").matches;

/** Set when another app sent the browser here to sign in (OpenID Connect). */
const interactionUid = parseInteractionPath(window.location.pathname);

/** The heading each screen takes the focus to when the page switches to it. */
const HEADING_IDS = { start: "page-title", qr: "sign-in-title", push: "push-waiting-title" } as const;
type FocusTarget = keyof typeof HEADING_IDS;

export function App(): React.JSX.Element {
  return interactionUid === null ? (
    <SignInPage title="Countersign" reuseSession loginsPath={API_PATHS.logins} pushLoginsPath={API_PATHS.pushLogins} />
  ) : (
    <AppSignIn uid={interactionUid} />
  );
}

/** Signing in to another app: who asks, then the usual sign-in, then consent, then back. */
function AppSignIn(props: { uid: string }): React.JSX.Element {
  const { interaction, finishLogin, allow, cancel } = useInteraction(props.uid);
  const ready = interaction.step === "ready" ? interaction.details : null;
  const signedInAlready = ready !== null && ready.prompt === "login" && ready.signedIn;
  useEffect(() => {
    if (signedInAlready) finishLogin();
  }, [signedInAlready, finishLogin]);

  if (ready !== null && ready.prompt === "login" && !ready.signedIn) {
    return (
      <SignInPage
        title={`Sign in to ${ready.client.name}`}
        reuseSession={false}
        loginsPath={INTERACTION_PATHS.logins(props.uid)}
        pushLoginsPath={INTERACTION_PATHS.pushLogins(props.uid)}
        onSignedIn={finishLogin}
      />
    );
  }
  return (
    <main className="page">
      <h1>{ready === null ? "Countersign" : `Sign in to ${ready.client.name}`}</h1>
      {interaction.step === "failed" && <p role="alert">{interaction.message}</p>}
      {(interaction.step === "loading" || interaction.step === "leaving" || signedInAlready) && (
        <p role="status">{interaction.step === "loading" ? "Loading…" : "Taking you back…"}</p>
      )}
      {ready !== null && ready.prompt === "consent" && interaction.step === "ready" && (
        <Consent details={ready} onAllow={allow} onCancel={cancel} />
      )}
    </main>
  );
}

const SCOPE_WORDS: Record<string, string> = {
  openid: "Know it is you (a stable id, not your username)",
  profile: "See your username and your name",
  offline_access: "Stay signed in when you are not using it",
};

function Consent(props: {
  details: InteractionDetailsResponse;
  onAllow: () => void;
  onCancel: () => void;
}): React.JSX.Element {
  const { details } = props;
  return (
    <section aria-labelledby="consent-title">
      <h2 id="consent-title">Allow {details.client.name} to use your Countersign account?</h2>
      <ul>
        {details.scopes.map((scope) => (
          <li key={scope}>{SCOPE_WORDS[scope] ?? scope}</li>
        ))}
      </ul>
      {details.client.clientUri !== null && (
        <p>
          <a href={details.client.clientUri} rel="noreferrer noopener">
            About {details.client.name}
          </a>
        </p>
      )}
      <div className="actions">
        <button onClick={props.onAllow}>Allow</button>
        <button className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </section>
  );
}

function SignInPage(props: {
  title: string;
  reuseSession: boolean;
  loginsPath: string;
  pushLoginsPath: string;
  onSignedIn?: () => void;
}): React.JSX.Element {
  const { state, qrFrame, connected, passkeyProblem, newCode, sendToPhone, cancelPush, signInWithPasskey, signOut } =
    useSignIn({
      reuseSession: props.reuseSession,
      loginsPath: props.loginsPath,
      pushLoginsPath: props.pushLoginsPath,
    });
  const [showQr, setShowQr] = useState(!onPhone);
  /** Where the focus goes once that screen is shown (the request behind it may take a moment). */
  const focusTargetRef = useRef<FocusTarget | null>(null);
  const setFocusTarget = (target: FocusTarget): void => {
    focusTargetRef.current = target;
  };
  useEffect(() => {
    const target = focusTargetRef.current;
    const heading = target === null ? null : document.getElementById(HEADING_IDS[target]);
    if (heading === null) return;
    heading.focus();
    focusTargetRef.current = null;
  }, [state, showQr]);
  const { onSignedIn } = props;
  const signedInNow = state.screen === "signed-in";
  useEffect(() => {
    if (signedInNow) onSignedIn?.();
  }, [signedInNow, onSignedIn]);
  return (
    <main className="page">
      <h1 id={HEADING_IDS.start} tabIndex={-1}>
        {props.title}
      </h1>
      {!connected && (
        <p className="banner" role="status">
          Reconnecting…
        </p>
      )}
      {state.screen === "loading" && <p>Loading…</p>}
      {state.screen === "error" && (
        <section>
          <p role="alert">{state.message}</p>
          <button onClick={newCode}>Try again</button>
        </section>
      )}
      {state.screen === "qr" && (
        <>
          {onPhone && <PasskeySignIn onSignIn={signInWithPasskey} problem={passkeyProblem} prominent />}
          {showQr ? (
            <>
              <SignIn
                created={state.created}
                login={state.login}
                frame={qrFrame}
                paused={!connected}
                onNewCode={newCode}
              />
              <SendToPhone
                onSend={(username) => {
                  setFocusTarget("push");
                  sendToPhone(username);
                }}
              />
            </>
          ) : (
            <button className="secondary" onClick={() => setShowQr(true)}>
              Use a QR code instead
            </button>
          )}
          {!onPhone && <PasskeySignIn onSignIn={signInWithPasskey} problem={passkeyProblem} prominent={false} />}
        </>
      )}
      {state.screen === "push" && (
        <PushWaiting
          username={state.username}
          created={state.created}
          login={state.login}
          onNewCode={newCode}
          onCancel={() => {
            setFocusTarget("start");
            cancelPush();
          }}
          onUseQr={() => {
            setShowQr(true);
            setFocusTarget("qr");
            cancelPush();
          }}
        />
      )}
      {state.screen === "signed-in" &&
        (onSignedIn === undefined ? (
          <SignedIn session={state.session} onSignOut={signOut} />
        ) : (
          <p role="status">Signed in as {state.session.user.displayName}. Taking you back…</p>
        ))}
    </main>
  );
}

function SendToPhone(props: { onSend: (username: string) => void }): React.JSX.Element {
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    props.onSend(String(new FormData(event.currentTarget).get("username")));
  };
  return (
    <form className="push-form" onSubmit={submit} aria-labelledby="push-title">
      <h2 id="push-title">Or send the request to your phone</h2>
      <label>
        Username <input name="username" autoComplete="username" required />
      </label>
      <button type="submit">Send to my phone</button>
    </form>
  );
}

function PushWaiting(props: {
  username: string;
  created: CreatePushLoginResponse;
  login: LoginView;
  onNewCode: () => void;
  /** Cancels the request and goes back to the start. */
  onCancel: () => void;
  /** Cancels the request and shows a QR request instead. */
  onUseQr: () => void;
}): React.JSX.Element {
  const { login } = props;
  const waiting = login.status === "pending" || login.status === "scanned";
  const noAnswerYet = useNoAnswerYet({ loginId: login.id, pending: login.status === "pending" });
  return (
    <section aria-labelledby="push-waiting-title">
      <h2 id={HEADING_IDS.push} tabIndex={-1}>
        Check your phone
      </h2>
      {/* The same words whether or not the account exists: nothing to learn from them. */}
      <p>If {props.username} uses Countersign on a phone, a sign-in request is on its way there.</p>
      {waiting && (
        <p className="match">
          Pick this number on your phone:{" "}
          <strong aria-label={`number ${props.created.matchNumber}`}>{props.created.matchNumber}</strong>
        </p>
      )}
      <p className="status" aria-live="polite">
        {login.status === "denied" && login.denyReason === "number_mismatch"
          ? "The wrong number was picked on the phone, so the request was denied."
          : describe(login)}
      </p>
      {/* Always in the page, so that screen readers announce the hint when it appears. */}
      <p className="hint" aria-live="polite">
        {noAnswerYet && "No answer yet? Check your phone's notifications, or use the QR code instead."}
      </p>
      {waiting && (
        <div className="actions">
          <button className="secondary" onClick={props.onUseQr}>
            Use the QR code instead
          </button>
          <button className="quiet" onClick={props.onCancel}>
            Cancel
          </button>
        </div>
      )}
      {!waiting && login.status !== "approved" && login.status !== "redeemed" && (
        <button onClick={props.onNewCode}>Start again</button>
      )}
    </section>
  );
}

function PasskeySignIn(props: { onSignIn: () => void; problem: string | null; prominent: boolean }): React.JSX.Element {
  return (
    <section className={props.prominent ? "passkey prominent" : "passkey"} aria-labelledby="passkey-title">
      <h2 id="passkey-title">{props.prominent ? "Sign in with a passkey" : "Or use a passkey here"}</h2>
      <button className={props.prominent ? "" : "secondary"} onClick={props.onSignIn}>
        Sign in with a passkey on this device or a security key
      </button>
      {props.problem !== null && <p role="alert">{props.problem}</p>}
    </section>
  );
}

function SignIn(props: {
  created: CreateLoginResponse;
  login: LoginView;
  frame: QrFrame | null;
  /** Offline: the QR would go stale, so it is hidden until frames flow again. */
  paused: boolean;
  onNewCode: () => void;
}): React.JSX.Element {
  const { created, login, frame, onNewCode } = props;
  const waiting = login.status === "pending" || login.status === "scanned";
  return (
    <section aria-labelledby="sign-in-title">
      <h2 id={HEADING_IDS.qr} tabIndex={-1}>
        Sign in with your phone
      </h2>
      {waiting && (
        <>
          {/* One per request: a new request's QR never fades in over the last one's. */}
          <ChangingQr
            key={created.login.id}
            url={frame?.id === created.login.id ? frame.url : null}
            paused={props.paused}
            label="QR code: scan it with the phone where you use Countersign"
          />
          <p>
            Or type this code in the Countersign app: <strong className="code">{created.userCode}</strong>
          </p>
          <Countdown until={login.expiresAt} />
        </>
      )}
      {login.status === "scanned" && login.checkNumber !== null && (
        // The phone that opened it is far from here: it asks for these before it approves.
        <p className="check-digits" role="alert">
          The phone that opened this is far from this computer. If it is yours, type{" "}
          <strong aria-label={`digits ${login.checkNumber}`}>{login.checkNumber}</strong> on it to approve. If not,
          someone else is trying to use this sign-in: do nothing here.
        </p>
      )}
      <p className="status" aria-live="polite">
        {describe(login)}
      </p>
      {!waiting && login.status !== "approved" && login.status !== "redeemed" && (
        <button onClick={onNewCode}>Get a new code</button>
      )}
    </section>
  );
}

function describe(login: LoginView): string {
  switch (login.status) {
    case "pending":
      return "Waiting for your phone…";
    case "scanned":
      return `Opened on ${login.scannedBy?.label ?? "your phone"}. Approve it there.`;
    case "approved":
    case "redeemed":
      return "Approved. Signing you in…";
    case "denied":
      return "Denied on your phone. If that wasn't you, nothing happened: no one signed in.";
    case "expired":
      return "This code expired.";
    case "cancelled":
      return "This sign-in was cancelled.";
    case "superseded":
      return "A newer sign-in request replaced this one.";
  }
}

function Countdown(props: { until: number }): React.JSX.Element {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const seconds = Math.max(0, Math.round((props.until - now) / 1000));
  return <p className="countdown">Expires in {seconds} s</p>;
}

function SignedIn(props: { session: SessionView; onSignOut: () => void }): React.JSX.Element {
  const { session } = props;
  return (
    <section aria-labelledby="signed-in-title">
      <h2 id="signed-in-title">Signed in as {session.user.displayName}</h2>
      <dl>
        <dt>Username</dt>
        <dd>{session.user.username}</dd>
        <dt>Since</dt>
        <dd>{new Date(session.createdAt).toLocaleString()}</dd>
        <dt>This computer</dt>
        <dd>
          {session.context.label}
          {session.context.ip === null ? "" : ` · ${session.context.ip}`}
        </dd>
        <dt>Signed in with</dt>
        <dd>
          {session.method === "qr" ? "approval on your phone" : "a passkey on this device"}
          {session.passkeyLabel === null ? "" : ` (passkey from ${session.passkeyLabel})`}
        </dd>
        {session.approvedWith !== null && (
          <>
            <dt>Approved on</dt>
            <dd>
              {session.approvedWith.approverDevice} at {new Date(session.approvedWith.approvedAt).toLocaleTimeString()}
            </dd>
          </>
        )}
      </dl>
      <button onClick={props.onSignOut}>Sign out</button>
    </section>
  );
}

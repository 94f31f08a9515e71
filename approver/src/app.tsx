import { useEffect, useState, type FormEvent } from "react";
import {
  parseApproverDeviceFragment,
  parseApproverEnrolFragment,
  parseApproverLoginFragment,
  parseApproverPushFragment,
  typedCodeKind,
  type SessionView,
} from "@countersign/shared";
import { AccountView } from "./account-view.js";
import { NotificationsOffer } from "./notifications.js";
import { PushCard, type PushOutcome } from "./push-card.js";
import { ReportedOutcome } from "./reported.js";
import { ScanView } from "./scan-view.js";
import { onWorkerMessage } from "./sw-messages.js";
import { useInbox } from "./use-inbox.js";
import { JoinWithLink } from "./second-phone.js";
import { useAccount, type AccountProblem } from "./use-account.js";
import { useNotifications } from "./use-notifications.js";
import { FarAwayCheck } from "./far-away-check.js";
import { isFarAway } from "./proximity-text.js";
import { reviewTitle } from "./review-title.js";
import { useApproval, type ApprovalTarget } from "./use-approval.js";
import { DesktopPlace, ProximityBanner } from "./where-from.js";

function useHash(): string {
  const [hash, setHash] = useState(() => window.location.hash);
  useEffect(() => {
    const onChange = (): void => setHash(window.location.hash);
    window.addEventListener("hashchange", onChange);
    return () => window.removeEventListener("hashchange", onChange);
  }, []);
  return hash;
}

/** A tapped notification leads an open window here: the app follows without a reload. */
function useNotificationTaps(): void {
  useEffect(
    () =>
      onWorkerMessage((message) => {
        if (message.change !== "open") return;
        const target = new URL(message.url);
        if (target.origin === window.location.origin) window.location.hash = target.hash;
      }),
    [],
  );
}

export function App(): React.JSX.Element {
  const hash = useHash();
  useNotificationTaps();
  const [typed, setTyped] = useState<ApprovalTarget | null>(null);
  // Just signed in (enrolled, joined or signed in again): the moment to offer notifications.
  const [justSignedIn, setJustSignedIn] = useState(false);
  const join = parseApproverEnrolFragment(hash);
  const request = approvalTargetOf(hash) ?? typed;
  const pushed = parseApproverPushFragment(hash);
  let content: React.JSX.Element;
  if (join !== null)
    content = (
      <JoinWithLink
        token={join.token}
        onJoined={() => {
          setJustSignedIn(true);
          window.location.hash = "";
        }}
      />
    );
  else if (request === null)
    content = (
      <Home
        onCode={setTyped}
        focusId={pushed?.id ?? null}
        justSignedIn={justSignedIn}
        onSignedIn={() => setJustSignedIn(true)}
        onOfferClosed={() => setJustSignedIn(false)}
      />
    );
  else
    content = (
      <Review
        target={request}
        onDone={() => {
          // Back to Home: forget the typed code and the link that opened the request.
          setTyped(null);
          if (window.location.hash !== "") window.location.hash = "";
        }}
      />
    );
  return (
    <main className="page">
      <h1>Countersign</h1>
      {content}
    </main>
  );
}

/** What a link opened: a QR code's sign-in, or a device's code from its verification link. */
function approvalTargetOf(hash: string): ApprovalTarget | null {
  const link = parseApproverLoginFragment(hash);
  if (link !== null) return { kind: "login", body: link };
  const device = parseApproverDeviceFragment(hash);
  return device === null ? null : { kind: "device", userCode: device.userCode };
}

function Home(props: {
  onCode: (target: ApprovalTarget) => void;
  /** The request a tapped notification opened. */
  focusId: string | null;
  justSignedIn: boolean;
  onSignedIn: () => void;
  onOfferClosed: () => void;
}): React.JSX.Element {
  const { account, enrol, signInAgain, refresh } = useAccount();
  if (account.status === "loading") return <p>Loading…</p>;
  if (account.status === "none") return <SetUp enrol={enrol} signInAgain={signInAgain} onSignedIn={props.onSignedIn} />;
  return (
    <SignedInHome
      session={account.session}
      onCode={props.onCode}
      focusId={props.focusId}
      offerNotifications={props.justSignedIn}
      onOfferClosed={props.onOfferClosed}
      onSessionEnded={refresh}
    />
  );
}

/**
 * "Set up this phone", and for a phone that already holds a passkey (signed out elsewhere, or its
 * session lapsed), signing in again with it, offered also where a taken username is the dead end.
 */
function SetUp(props: {
  enrol: (details: { username: string; displayName: string }) => Promise<AccountProblem | null>;
  signInAgain: () => Promise<AccountProblem | null>;
  onSignedIn: () => void;
}): React.JSX.Element {
  const [problem, setProblem] = useState<AccountProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const finish = (result: AccountProblem | null): void => {
    setBusy(false);
    setProblem(result);
    if (result === null) props.onSignedIn();
  };
  const submit = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    setProblem(null);
    void props
      .enrol({ username: String(form.get("username")), displayName: String(form.get("displayName")) })
      .then(finish);
  };
  const signIn = (): void => {
    setBusy(true);
    setProblem(null);
    void props.signInAgain().then(finish);
  };
  const taken = problem?.code === "USERNAME_TAKEN";
  const signInButton = (
    <button type="button" className={taken ? undefined : "secondary"} onClick={signIn} disabled={busy}>
      I already use Countersign on this phone
    </button>
  );
  return (
    <form onSubmit={submit} aria-labelledby="enrol-title">
      <h2 id="enrol-title">Set up this phone</h2>
      <label>
        Username <input name="username" autoComplete="username webauthn" required />
      </label>
      <label>
        Your name <input name="displayName" autoComplete="name" required />
      </label>
      {problem !== null && (
        <div role="alert">
          <p>
            {taken
              ? "This username is taken. If it is yours and this phone already has its passkey, sign in with it instead."
              : problem.message}
          </p>
          {taken && signInButton}
        </div>
      )}
      <div className="stack">
        <button type="submit" disabled={busy}>
          Create passkey
        </button>
        {!taken && signInButton}
      </div>
    </form>
  );
}

function SignedInHome(props: {
  session: SessionView;
  onCode: (target: ApprovalTarget) => void;
  focusId: string | null;
  offerNotifications: boolean;
  onOfferClosed: () => void;
  onSessionEnded: () => void;
}): React.JSX.Element {
  const { session } = props;
  const notifications = useNotifications({ sessionKey: `${session.user.id}:${session.createdAt}` });
  const [scanning, setScanning] = useState(false);
  const submitCode = (event: FormEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget).get("code"));
    // Eight characters are a sign-in's code, nine a TV's or other device's; the server says if neither.
    props.onCode(
      typedCodeKind(code) === "device"
        ? { kind: "device", userCode: code }
        : { kind: "login", body: { userCode: code } },
    );
  };
  if (scanning) return <ScanView onClose={() => setScanning(false)} />;
  return (
    <section>
      <p>
        Signed in as <strong>{session.user.displayName}</strong> ({session.user.username}).
      </p>
      {props.offerNotifications && <NotificationsOffer {...notifications} onClose={props.onOfferClosed} />}
      <Inbox onSessionEnded={props.onSessionEnded} focusId={props.focusId} />
      <form onSubmit={submitCode}>
        <label>
          Code shown on the computer or device <input name="code" autoCapitalize="characters" required />
        </label>
        <button type="submit">Continue</button>
      </form>
      <button className="secondary scan" onClick={() => setScanning(true)}>
        Scan a QR code
      </button>
      <AccountView session={session} notifications={notifications} onSignedOut={props.onSessionEnded} />
    </section>
  );
}

function Review(props: { target: ApprovalTarget; onDone: () => void }): React.JSX.Element {
  const { state, approve, deny } = useApproval(props.target);
  const { account } = useAccount();
  // Every outcome ends with one way back to Home (UI.md): no dead ends.
  const done = (
    <button className="done" onClick={props.onDone}>
      Done
    </button>
  );
  switch (state.step) {
    case "opening":
      return <p>Opening the sign-in request…</p>;
    case "failed":
      return (
        <section>
          <p role="alert">{state.message}</p>
          {done}
        </section>
      );
    case "approved":
      return (
        <section>
          <p role="status">
            Approved for {state.displayName}.{" "}
            {state.review.app?.via === "device" ? "You can go back to the device." : "You can return to your computer."}
          </p>
          {done}
        </section>
      );
    case "denied":
      return (
        <section>
          <p role="status">Denied. Nobody was signed in.</p>
          {done}
        </section>
      );
    case "reported":
      return (
        <ReportedOutcome
          pushesPausedUntil={state.pushesPausedUntil}
          signedIn={account.status === "enrolled"}
          onDone={props.onDone}
        />
      );
    case "review": {
      const { review } = state.opened;
      // Far from a computer's screen: the loud stop. A device's or an app's request has no digits to type.
      const farCheck = isFarAway(review) && (review.app === null || review.app.via === "browser");
      return (
        <section aria-labelledby="review-title">
          <h2 id="review-title">{reviewTitle(review)}</h2>
          <dl>
            {/* The site the computer shows in its address bar: this app's own origin, which serves both. */}
            <dt>Site</dt>
            <dd className="site">{window.location.host}</dd>
            {account.status === "enrolled" && (
              <>
                <dt>Your account here</dt>
                <dd>
                  {account.session.user.displayName} ({account.session.user.username})
                </dd>
              </>
            )}
            <dt>{review.app?.via === "device" ? "Device" : "Computer"}</dt>
            <dd>
              {review.desktop.browser ?? "Unknown browser"} on {review.desktop.os ?? "an unknown system"}
            </dd>
            <dt>Where</dt>
            <dd>
              <DesktopPlace desktop={review.desktop} />
            </dd>
            <dt>Started</dt>
            <dd>{new Date(review.createdAt).toLocaleTimeString()}</dd>
            <dt>Time left</dt>
            <dd>
              <TimeLeft until={review.expiresAt} />
            </dd>
          </dl>
          <ProximityBanner proximity={review.proximity} />
          {/* The loud stop below says it all for a far-away computer; otherwise the plain warnings. */}
          {!farCheck &&
            review.risks.map((risk) => (
              <p key={risk.code} className="risk">
                {risk.message}
              </p>
            ))}
          {farCheck ? (
            <FarAwayCheck
              review={review}
              digitsLabel="two digits"
              busy={state.busy}
              problem={state.problem}
              onConfirm={(digits) => approve(Number(digits))}
              onReport={() => deny("not_me")}
            />
          ) : (
            <>
              <p className="warning">
                Only approve if you are signing in on {review.app?.via === "device" ? "that device" : "a computer"}{" "}
                yourself right now. Never approve because someone asked you to.
              </p>
              {state.problem !== null && <p role="alert">{state.problem}</p>}
              {/* Approve and deny equally easy to reach, never alike to look at (UI.md); Cancel quiet. */}
              <div className="stack">
                <button onClick={() => approve()} disabled={state.busy}>
                  Approve
                </button>
                <button className="danger" onClick={() => deny("not_me")} disabled={state.busy}>
                  This wasn't me
                </button>
                <button className="quiet" onClick={() => deny("cancelled")} disabled={state.busy}>
                  Cancel
                </button>
              </div>
            </>
          )}
        </section>
      );
    }
  }
}

function TimeLeft(props: { until: number }): React.JSX.Element {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const seconds = Math.max(0, Math.round((props.until - now) / 1000));
  return <>{seconds > 0 ? `${seconds} s` : "expired"}</>;
}

/**
 * Waiting push requests, the one a tapped notification opened first. That one may be gone
 * already (answered on another phone, or expired): say so, rather than show nothing.
 */
function Inbox(props: { onSessionEnded: () => void; focusId: string | null }): React.JSX.Element | null {
  const { requests, loaded } = useInbox({ onSessionEnded: props.onSessionEnded });
  const [outcome, setOutcome] = useState<PushOutcome | null>(null);
  const { focusId } = props;
  const leave = (): void => {
    setOutcome(null);
    if (window.location.hash !== "") window.location.hash = "";
  };
  const decided = (result: PushOutcome): void => {
    setOutcome(result);
    // Decided here: the link that opened it has done its job.
    if (focusId !== null) window.location.hash = "";
  };
  const focusedFirst =
    focusId === null ? requests : [...requests].sort((a, b) => Number(b.id === focusId) - Number(a.id === focusId));
  const gone = focusId !== null && loaded && outcome === null && !requests.some((item) => item.id === focusId);
  if (requests.length === 0 && outcome === null && !gone) return null;
  return (
    <section aria-label="Sign-in requests" aria-live="polite">
      {outcome?.kind === "reported" ? (
        <ReportedOutcome pushesPausedUntil={outcome.pushesPausedUntil} signedIn onDone={leave} />
      ) : outcome !== null ? (
        <p role="status">{outcome.text}</p>
      ) : null}
      {gone && (
        <div className="outcome">
          <p role="status">This request was already answered or has expired.</p>
          <button className="done" onClick={leave}>
            Done
          </button>
        </div>
      )}
      {focusedFirst.map((review) => (
        <PushCard key={review.id} review={review} focused={review.id === focusId} onDone={decided} />
      ))}
    </section>
  );
}

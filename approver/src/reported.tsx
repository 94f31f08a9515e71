import { useEffect, useRef, useState } from "react";
import { useSignOutComputers } from "./use-sign-out-computers.js";

const minutesUntil = (at: number): number => Math.max(1, Math.ceil((at - Date.now()) / 60_000));

/**
 * After "This wasn't me": what happened, what the server did about it, and the one strong step
 * left to take (every computer signed out), behind a confirmation. Ends with Done (no dead end).
 */
export function ReportedOutcome(props: {
  pushesPausedUntil: number | null;
  /** Only a signed-in phone can sign the person's computers out. */
  signedIn: boolean;
  onDone: () => void;
}): React.JSX.Element {
  const { state, signOutComputers } = useSignOutComputers();
  const [confirming, setConfirming] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);
  const paused = props.pushesPausedUntil;
  return (
    <section className="outcome" aria-labelledby="reported-title">
      <h2 id="reported-title" tabIndex={-1} ref={headingRef}>
        Reported
      </h2>
      <p role="status">Denied. Nobody was signed in.</p>
      <p>We noted that this wasn't you.</p>
      {paused !== null && (
        <p className="paused">
          Sign-in requests to your phones are paused for {minutesUntil(paused)} minutes (until{" "}
          {new Date(paused).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}), so nobody can keep sending
          them.
        </p>
      )}
      {!props.signedIn ? null : state.step === "done" ? (
        <p role="status">
          Signed out {state.signedOut} {state.signedOut === 1 ? "computer" : "computers"}.
        </p>
      ) : confirming ? (
        <div className="confirm" role="group" aria-labelledby="sign-out-computers-title">
          <h3 id="sign-out-computers-title">Sign out every computer?</h3>
          <p>
            Every computer signed in to your account is signed out at once, including yours; sign in again with this
            phone. Your phones stay signed in.
          </p>
          <div className="stack">
            <button className="danger" onClick={signOutComputers} disabled={state.step === "busy"}>
              Sign out every computer
            </button>
            <button className="quiet" onClick={() => setConfirming(false)} disabled={state.step === "busy"}>
              Keep them signed in
            </button>
          </div>
        </div>
      ) : (
        <>
          <p>If you think someone knows how to sign in as you, sign out every computer now.</p>
          <button className="danger" onClick={() => setConfirming(true)}>
            Sign out every computer
          </button>
        </>
      )}
      {state.step === "idle" && state.problem !== null && <p role="alert">{state.problem}</p>}
      <div className="stack">
        <button className="done" onClick={props.onDone}>
          Done
        </button>
      </div>
    </section>
  );
}

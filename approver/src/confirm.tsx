import { useEffect, useId, useRef } from "react";

/**
 * A decision that takes something away: its title and what will stop working, then the danger
 * button, with the quiet way out under it (UI.md). The focus moves to the title when it opens.
 */
export function Confirm(props: {
  title: string;
  children: React.ReactNode;
  confirmLabel: string;
  keepLabel: string;
  busy: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}): React.JSX.Element {
  const titleId = useId();
  const titleRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => titleRef.current?.focus(), []);
  return (
    <div className="confirm" role="group" aria-labelledby={titleId}>
      <h3 id={titleId} tabIndex={-1} ref={titleRef}>
        {props.title}
      </h3>
      {props.children}
      <div className="stack">
        <button className="danger" onClick={props.onConfirm} disabled={props.busy}>
          {props.confirmLabel}
        </button>
        <button className="quiet" onClick={props.onCancel} disabled={props.busy}>
          {props.keepLabel}
        </button>
      </div>
    </div>
  );
}

import { useEffect, useRef, useState } from "react";
import { scanForApproverLink } from "./qr-scanner.js";

/** The in-app camera, for phones whose camera app does not open links. */
export function ScanView(props: { onClose: () => void }): React.JSX.Element {
  const video = useRef<HTMLVideoElement>(null);
  const [problem, setProblem] = useState<string | null>(null);

  useEffect(() => {
    const controller = new AbortController();
    if (video.current === null) return;
    scanForApproverLink({ video: video.current, signal: controller.signal })
      .then((link) => {
        if (link !== null) window.location.hash = link;
      })
      .catch(() => setProblem("The camera is not available. Type the code shown on the computer instead."));
    return () => controller.abort();
  }, []);

  return (
    <section aria-labelledby="scan-title">
      <h2 id="scan-title">Scan the code on the computer</h2>
      <video ref={video} className="camera" muted playsInline aria-label="Camera view" />
      {problem !== null && <p role="alert">{problem}</p>}
      <button className="secondary" onClick={props.onClose}>
        Close the camera
      </button>
    </section>
  );
}

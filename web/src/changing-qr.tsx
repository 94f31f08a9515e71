import { useEffect, useState } from "react";
import { drawQr } from "./qr-drawing.js";

interface Layer {
  url: string;
  src: string;
}

/**
 * The sign-in QR, drawn here from the frame's link, which changes every few seconds. Each new
 * frame fades in over the previous one in a box of fixed size (no layout shift); with
 * prefers-reduced-motion the stylesheet swaps it at once instead. Either way it changes: that
 * is what makes a relayed screenshot useless. Until the first frame is known the box stays empty.
 */
export function ChangingQr(props: {
  url: string | null;
  label: string;
  /** Offline: no new frames arrive, and the one shown goes stale within seconds, so it is hidden. */
  paused?: boolean;
}): React.JSX.Element {
  const { url } = props;
  const [layers, setLayers] = useState<Layer[]>([]);
  useEffect(() => {
    if (url === null) return;
    let live = true;
    drawQr(url).then(
      // The previous frame stays underneath while this one fades in; older ones go.
      (src) => live && setLayers((shown) => [...shown.filter((layer) => layer.url !== url).slice(-1), { url, src }]),
      // A link too long to draw cannot happen with our ids; the typed code remains if it did.
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [url]);
  const newest = layers.length - 1;
  return (
    <div className={props.paused === true ? "qr paused" : "qr"}>
      {layers.map((layer, index) => (
        // Only the newest is announced; the one fading out is decoration.
        <img
          key={layer.url}
          className="qr-layer"
          src={layer.src}
          alt={index === newest ? (props.paused === true ? "QR code paused while reconnecting" : props.label) : ""}
        />
      ))}
    </div>
  );
}

// Draws the app icons (a white check in a ring on navy) as PNGs, so they can be re-made
// without an image editor: node scripts/make-icons.mjs
import { writeFileSync } from "node:fs";
import { PNG } from "pngjs";

const NAVY = [31, 58, 95];
const WHITE = [255, 255, 255];

function distanceToSegment(px, py, [ax, ay], [bx, by]) {
  const t = Math.max(
    0,
    Math.min(1, ((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / ((bx - ax) ** 2 + (by - ay) ** 2)),
  );
  return Math.hypot(px - (ax + t * (bx - ax)), py - (ay + t * (by - ay)));
}

function drawIcon(size, { maskable }) {
  const png = new PNG({ width: size, height: size });
  // Maskable icons keep their content inside the central 80% safe zone.
  const scale = maskable ? 0.8 : 1;
  const c = size / 2;
  const ring = size * 0.36 * scale;
  const stroke = size * 0.06 * scale;
  const check = [
    [c - size * 0.17 * scale, c + size * 0.01 * scale],
    [c - size * 0.04 * scale, c + size * 0.14 * scale],
    [c + size * 0.19 * scale, c - size * 0.12 * scale],
  ];
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      const onRing = Math.abs(Math.hypot(x - c, y - c) - ring) < stroke / 2;
      const onCheck =
        Math.min(distanceToSegment(x, y, check[0], check[1]), distanceToSegment(x, y, check[1], check[2])) < stroke / 2;
      const [r, g, b] = onRing || onCheck ? WHITE : NAVY;
      const i = (y * size + x) * 4;
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}

for (const size of [192, 512]) {
  writeFileSync(new URL(`../public/icon-${size}.png`, import.meta.url), drawIcon(size, { maskable: false }));
}
writeFileSync(new URL("../public/icon-maskable-512.png", import.meta.url), drawIcon(512, { maskable: true }));
writeFileSync(new URL("../../web/public/favicon.png", import.meta.url), drawIcon(64, { maskable: false }));
writeFileSync(new URL("../public/favicon.png", import.meta.url), drawIcon(64, { maskable: false }));

import QRCode from "qrcode";
import { describe, expect, it } from "vitest";
import { drawQr, QR_OPTIONS, qrSegmentsOf } from "./qr-drawing.js";

const linkWith = (token: string): string => `https://login.example.com/approve/#/r/AbCdEfGhIjKlMnOpQrStUv.${token}`;

describe("drawing the sign-in QR", () => {
  it("draws every frame of a request on the same grid, whatever its token holds", () => {
    const tokens = [
      "0123456789012345678901",
      "ABCDEFGHIJKLMNOPQRSTUV",
      "a_-9Zq0000000000000000",
      "zzzzzzzzzzzzzzzzzzzzzz",
    ];
    const grids = tokens.map((token) => {
      const code = QRCode.create(qrSegmentsOf(linkWith(token)), QR_OPTIONS);
      return { version: code.version, size: code.modules.size, level: code.errorCorrectionLevel.bit };
    });
    expect(new Set(grids.map((grid) => JSON.stringify(grid))).size).toBe(1);
    expect(grids[0]?.level).toBe(QRCode.create("x", { errorCorrectionLevel: "M" }).errorCorrectionLevel.bit);
  });

  it("makes an SVG data: URL", async () => {
    const src = await drawQr(linkWith("0123456789012345678901"));
    expect(src).toMatch(/^data:image\/svg\+xml;utf8,%3Csvg/);
  });
});

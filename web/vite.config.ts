import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// In development everything is one origin, as in production: this dev server answers the
// desktop page and forwards the API, the websocket and the approver app (its own dev server).
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true },
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": "http://localhost:3000",
      // The OpenID Provider, and the sign-in page's calls when an app sent the browser here (the
      // page itself, /interaction/<uid>, is this app).
      "/oidc": "http://localhost:3000",
      "^/interaction/[^/]+/.+": "http://localhost:3000",
      "/socket.io": { target: "http://localhost:3000", ws: true },
      "/approve": { target: "http://localhost:5174", ws: true },
    },
  },
});

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// Served under /approve/ by the server; in development, reached through the web dev server.
export default defineConfig({
  base: "/approve/",
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true },
  server: { port: 5174, strictPort: true },
});

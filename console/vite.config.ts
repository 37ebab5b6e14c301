import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The build goes into the Python package, so the wheel ships the console
// (the server answers index.html for the console's routes and /assets/* from there).
const outDir = fileURLToPath(new URL("../src/kairos/console_dist", import.meta.url));
const backend = process.env.KAIROS_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  plugins: [react()],
  build: {
    outDir,
    emptyOutDir: true,
    manifest: true,
    // Every asset is a file under /assets/: nothing inlined as a data: URL.
    assetsInlineLimit: 0,
    target: "es2022",
    chunkSizeWarningLimit: 1200,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    proxy: {
      "/api": { target: backend, changeOrigin: false },
      "/v1": { target: backend, changeOrigin: false },
    },
  },
});
